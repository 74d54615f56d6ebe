// An encoder on plain pipes, for jobs that need no terminal (thumbnails, sprites, scripts): no pty
// to allocate, and no drain to wait out, since the streams end after the last byte of each.
// A process it left in the background may hold the pipes open long after it exited: its exit then
// counts once the pipes have had DRAIN_MS to empty (the runner ends what it left, by group and tag).
// Started as a session leader (launch.ts), as under a pty, so its pid is its group's and the
// group is ended as one. stdin is /dev/null: nothing can wait on a keyboard.
import { StringDecoder } from 'node:string_decoder';
import type { ProcessExit, SpawnProcess } from './child-process.js';
import { type Launch, launchForPipes } from './launch.js';

const DRAIN_MS = 200;

export function pipesSpawner(launch: Launch): SpawnProcess {
  return (file, args, options) => {
    const child = launch(file, args, options);
    const dataListeners: ((chunk: string) => void)[] = [];
    const exitListeners: ((exit: ProcessExit) => void)[] = [];
    let exit: ProcessExit | null = null;
    let exited: ProcessExit | null = null;
    let openStreams = child.output.length;
    let drained: NodeJS.Timeout | null = null;
    const settle = (settled: ProcessExit) => {
      if (exit !== null) return;
      exit = settled;
      for (const listener of exitListeners) listener(settled);
    };
    // stdout and stderr in the order they arrive, as a terminal would interleave them; each stream
    // decoded on its own, so a character split between two reads of one stream stays whole.
    for (const stream of child.output) {
      const decoder = new StringDecoder('utf8');
      stream.on('data', (bytes: Buffer) => {
        const text = decoder.write(bytes);
        if (text !== '') for (const listener of dataListeners) listener(text);
      });
      // A read error (the pipe destroyed below) ends the stream like its end does.
      stream.on('error', () => undefined);
      stream.once('close', () => {
        if (--openStreams > 0 || exited === null) return;
        if (drained !== null) clearTimeout(drained);
        settle(exited);
      });
    }
    child.onExit((ended) => {
      exited = ended;
      if (openStreams === 0) return settle(ended);
      drained = setTimeout(() => {
        for (const stream of child.output) stream.destroy();
        settle(ended);
      }, DRAIN_MS);
    });
    return {
      pid: child.pid,
      onData: (listener) => void dataListeners.push(listener),
      onExit: (listener) => {
        if (exit !== null) listener(exit);
        else exitListeners.push(listener);
      },
    };
  };
}

export const spawnPipes: SpawnProcess = pipesSpawner(launchForPipes);

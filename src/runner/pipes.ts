// An encoder on plain pipes, for jobs that need no terminal (thumbnails, sprites, scripts): no pty
// to allocate, and no drain to wait out, since `close` comes after the last byte of both streams.
// A process it left in the background may hold the pipes open long after it exited: its exit then
// counts once the pipes have had DRAIN_MS to empty (the runner ends what it left, by group and tag).
// Started as a session leader (detached: setsid), as under a pty, so its pid is its group's and
// the group is ended as one. stdin is /dev/null: nothing can wait on a keyboard.
import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import type { ProcessExit, SpawnProcess } from './child-process.js';

const DRAIN_MS = 200;

export const spawnPipes: SpawnProcess = (file, args, options) => {
  const child = spawn(file, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const dataListeners: ((chunk: string) => void)[] = [];
  const exitListeners: ((exit: ProcessExit) => void)[] = [];
  let exit: ProcessExit | null = null;
  // stdout and stderr in the order they arrive, as a terminal would interleave them; each decoded
  // on its own, so a character split between two reads of one stream stays whole.
  for (const stream of [child.stdout, child.stderr]) {
    const decoder = new StringDecoder('utf8');
    stream.on('data', (bytes: Buffer) => {
      const text = decoder.write(bytes);
      if (text !== '') for (const listener of dataListeners) listener(text);
    });
  }
  const settle = (settled: ProcessExit) => {
    if (exit !== null) return;
    exit = settled;
    for (const listener of exitListeners) listener(settled);
  };
  child.on('close', (exitCode, signal) => settle({ exitCode: signal ? null : exitCode, signal }));
  child.on('exit', (exitCode, signal) => {
    const drained = setTimeout(() => {
      child.stdout.destroy();
      child.stderr.destroy();
      settle({ exitCode: signal ? null : exitCode, signal });
    }, DRAIN_MS);
    child.once('close', () => clearTimeout(drained));
  });
  // Heard so that it never goes unhandled; a failed start is thrown below, where it is known.
  child.on('error', () => undefined);
  // A program that cannot be started (not found, not executable) has no pid, and no group to end.
  if (child.pid === undefined) throw new Error(`cannot run ${file}: not found, or not executable`);
  return {
    pid: child.pid,
    onData: (listener) => void dataListeners.push(listener),
    onExit: (listener) => {
      if (exit !== null) listener(exit);
      else exitListeners.push(listener);
    },
  };
};

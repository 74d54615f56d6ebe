// 4. Detection: from a writer closing an output file in a watched folder to its (external) job
// being done, with the default 2 s stability window. Local writers, fast (2 MB at once) and slow
// (chunks with pauses longer than the window, the file held open throughout), are finished when
// they close the file; a simulated remote writer (a shared folder, the file opened and closed for
// each chunk, as a writer on another machine looks from here) after the window. Baselines: the
// window alone (how every file was finished before), and the original system's poll every 5 s.
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { isFinished } from '../../machines/job-record.js';
import { benchDaemon } from '../daemon.js';
import { type Figure, atLeast, atMost, figure, percentile } from '../lib.js';

const POLL_MS = 5000;
const WINDOW_SEC = 2;
const CHUNK = Buffer.alloc(256 * 1024, 7);

type Writer = 'fast' | 'slow' | 'remote';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes the file as this kind of writer does; resolves when the writer is done with it. */
async function write(writer: Writer, path: string): Promise<void> {
  if (writer === 'remote') {
    for (let chunk = 0; chunk < 4; chunk++) {
      if (chunk > 0) await pause(300);
      appendFileSync(path, CHUNK);
    }
    return;
  }
  const fd = openSync(path, 'w');
  for (let chunk = 0; chunk < 8; chunk++) {
    writeSync(fd, CHUNK);
    if (writer === 'slow' && chunk % 4 === 3) await pause(WINDOW_SEC * 1000 + 500);
  }
  closeSync(fd);
}

async function measure(dir: string, name: string, writer: Writer, files: number, shared: boolean): Promise<{ encsup: number[]; polling: number[] }> {
  const watched = join(dir, `watched-${name}`);
  mkdirSync(watched, { recursive: true });
  const daemon = await benchDaemon(join(dir, `detect-data-${name}`), { watchDirs: watched, watchStabilitySec: WINDOW_SEC, sharedWatchDirs: shared ? watched : '' });
  const encsup: number[] = [];
  const polling: number[] = [];
  for (let i = 0; i < files; i++) {
    const output = join(watched, `out${i}.mp4`);
    const job = await daemon.requests.submit({ external: true, output, validate: false });
    await daemon.ledger.waitFor(job.id, (j) => j.status === 'encoding', 5000);
    await write(writer, output);
    const closedMs = performance.now();
    // The baseline poll, its phase as random as a real one's would be.
    const polled = new Promise<number>((resolve) => {
      const poll = () => (existsSync(output) ? resolve(performance.now() - closedMs) : setTimeout(poll, POLL_MS));
      setTimeout(poll, Math.random() * POLL_MS);
    });
    const done = await daemon.ledger.waitFor(job.id, (j) => isFinished(j.status), 30_000);
    if (done?.status !== 'done') throw new Error(`job ${job.id} ended ${done?.status}: ${done?.error}`);
    encsup.push(performance.now() - closedMs);
    polling.push(await polled);
  }
  await daemon.close();
  return { encsup, polling };
}

export async function detection(quick: boolean, dir: string): Promise<Figure[]> {
  const files = quick ? 3 : 12;
  const fast = await measure(dir, 'fast', 'fast', files, false);
  const windowOnly = await measure(dir, 'window', 'fast', files, true);
  const slow = await measure(dir, 'slow', 'slow', quick ? 2 : 6, false);
  const remote = await measure(dir, 'remote', 'remote', files, true);
  const results: Figure[] = [];
  for (const p of [50, 95]) {
    // A local writer's close is noticed at once; a remote writer's file never before the window.
    const local = (ms: number) => (p === 50 ? atMost(250, 'ms', ms) : null);
    results.push(figure(`detection p${p}, local writer (fast), window ${WINDOW_SEC} s`, percentile(fast.encsup, p), 'ms', percentile(windowOnly.encsup, p), 'the stability window alone, same files', local(percentile(fast.encsup, p))));
    results.push(figure(`detection p${p}, local writer pausing longer than the window`, percentile(slow.encsup, p), 'ms', percentile(slow.polling, p), '5 s poll, same files', local(percentile(slow.encsup, p))));
    results.push(figure(`detection p${p}, simulated remote writer (shared folder)`, percentile(remote.encsup, p), 'ms', percentile(remote.polling, p), '5 s poll, same files', atLeast(WINDOW_SEC * 1000 - 300, 'ms (not before the window)', percentile(remote.encsup, p))));
  }
  results.push(figure(`detection p50, local writer (fast), against a poll`, percentile(fast.encsup, 50), 'ms', percentile(fast.polling, 50), '5 s poll, same files'));
  return results;
}

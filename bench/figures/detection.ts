// 4. Detection: from a writer closing an output file in a watched folder to its (external) job
// being done, against the original system's way in the same process: a poll every 5 s for the file.
import { closeSync, existsSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { isFinished } from '../../machines/job-record.js';
import { benchDaemon } from '../daemon.js';
import { type Figure, figure, percentile } from '../lib.js';

const POLL_MS = 5000;

async function measure(dir: string, files: number, stabilitySec: number): Promise<{ encsup: number[]; polling: number[] }> {
  const watched = join(dir, `watched-${stabilitySec}`);
  mkdirSync(watched, { recursive: true });
  const daemon = await benchDaemon(join(dir, `detect-data-${stabilitySec}`), { watchDirs: watched, watchStabilitySec: stabilitySec });
  const encsup: number[] = [];
  const polling: number[] = [];
  for (let i = 0; i < files; i++) {
    const output = join(watched, `out${i}.mp4`);
    const job = await daemon.requests.submit({ external: true, output, validate: false });
    await daemon.ledger.waitFor(job.id, (j) => j.status === 'encoding', 5000);
    const fd = openSync(output, 'w');
    for (let chunk = 0; chunk < 8; chunk++) writeSync(fd, Buffer.alloc(256 * 1024, chunk));
    closeSync(fd);
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
  const results: Figure[] = [];
  for (const stabilitySec of quick ? [0.5] : [2, 0.5]) {
    const { encsup, polling } = await measure(dir, files, stabilitySec);
    const label = `stability ${stabilitySec} s${stabilitySec === 2 ? ' (default)' : ''}`;
    results.push(figure(`detection p50, ${label}`, percentile(encsup, 50), 'ms', percentile(polling, 50), '5 s poll, same files'));
    results.push(figure(`detection p95, ${label}`, percentile(encsup, 95), 'ms', percentile(polling, 95), '5 s poll, same files'));
  }
  return results;
}

// 2. Short jobs: N jobs of `true` at concurrency 2 through the daemon's API (16 submissions in
// flight, as a platform's web workers send them; every transition of every job stored durably),
// against `xargs -P 2` (the floor: a fork and exec each) and a p-queue + execa script (what a Node
// user writes instead, with no persistence and no API).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { execa } from 'execa';
import PQueue from 'p-queue';
import { isFinished } from '../../machines/job-record.js';
import { ApiClient } from '../../src/api/client.js';
import { benchDaemon } from '../daemon.js';
import { type Figure, elapsed, figure } from '../lib.js';

const IN_FLIGHT = 16;

export async function shortJobs(quick: boolean, dir: string): Promise<Figure[]> {
  const count = quick ? 100 : 500;
  const daemon = await benchDaemon(join(dir, 'short-data'), { maxConcurrent: 2 });
  const api = new ApiClient(daemon.url, daemon.token);
  const start = performance.now();
  const ids: string[] = [];
  let submitted = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (submitted < count) {
        submitted++;
        ids.push((await api.submit({ command: ['true'], maxAttempts: 1 })).id);
      }
    }),
  );
  for (const id of ids) await daemon.ledger.waitFor(id, (job) => isFinished(job.status), 600_000);
  const daemonRate = count / elapsed(start);
  await daemon.close();

  const xargsStart = performance.now();
  await new Promise<void>((resolve) => {
    const xargs = spawn('xargs', ['-P', '2', '-n', '1', 'true'], { stdio: ['pipe', 'ignore', 'ignore'] });
    xargs.stdin.end(Array.from({ length: count }, (_, i) => String(i)).join('\n'));
    xargs.on('exit', () => resolve());
  });
  const xargsRate = count / elapsed(xargsStart);

  const queue = new PQueue({ concurrency: 2 });
  const queueStart = performance.now();
  await Promise.all(Array.from({ length: count }, () => queue.add(() => execa('true'))));
  const queueRate = count / elapsed(queueStart);
  return [
    figure(`${count} short jobs, throughput`, daemonRate, 'jobs/s', xargsRate, 'xargs -P 2'),
    figure(`${count} short jobs, throughput`, daemonRate, 'jobs/s', queueRate, 'p-queue + execa script'),
  ];
}

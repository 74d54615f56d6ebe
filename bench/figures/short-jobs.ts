// 2. Short jobs: N jobs of `true` at concurrency 2 through a daemon process's API (16 submissions
// in flight, as a platform's web workers send them; every transition of every job stored
// durably), timed from outside until the last is done; against `xargs -P 2` (the floor: a fork
// and exec each) and a p-queue + execa script in a process of its own (what a Node user writes
// instead, with no persistence and no API). Then the same daemon runs seven times as many again,
// and the last of them are timed against the second batch (run warm, as they are): a job's cost
// must not grow with the jobs the daemon has run (its finished job actors were once kept, and
// every start copied them all).
import { join } from 'node:path';
import { ApiClient } from '../../src/api/client.js';
import { runToEnd, startDaemonProcess } from '../daemon-process.js';
import { type Figure, elapsed, figure, ratioAtLeast, secondsToRun } from '../lib.js';

const IN_FLIGHT = 16;

const P_QUEUE_SCRIPT = `
const { default: PQueue } = await import('p-queue');
const { execa } = await import('execa');
const queue = new PQueue({ concurrency: 2 });
await Promise.all(Array.from({ length: Number(process.argv[1]) }, () => queue.add(() => execa('true'))));
`;

export async function shortJobs(quick: boolean, dir: string): Promise<Figure[]> {
  const count = quick ? 100 : 500;
  const daemon = await startDaemonProcess(join(dir, 'short-data'), ['--max-concurrent', '2']);
  const api = new ApiClient(daemon.url, daemon.token);
  /** Jobs a second for `jobs` more jobs through the daemon. */
  const run = async (jobs: number) => {
    const start = performance.now();
    let sent = 0;
    await runToEnd(api, (submitted) =>
      Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (sent < jobs) {
            sent++;
            submitted((await api.submit({ command: ['true'], maxAttempts: 1 })).id);
          }
        }),
      ).then(() => undefined),
    );
    return jobs / elapsed(start);
  };
  const daemonRate = await run(count);
  const warmRate = await run(count);
  await run(5 * count);
  const laterRate = await run(count);
  await daemon.stop();

  const xargsRate = count / (await secondsToRun('xargs', ['-P', '2', '-n', '1', 'true'], Array.from({ length: count }, (_, i) => String(i)).join('\n')));
  const queueRate = count / (await secondsToRun(process.execPath, ['--input-type=module', '-e', P_QUEUE_SCRIPT, String(count)], ''));
  return [
    figure(`${count} short jobs, throughput`, daemonRate, 'jobs/s', xargsRate, 'xargs -P 2'),
    figure(`${count} short jobs, throughput`, daemonRate, 'jobs/s', queueRate, 'p-queue + execa script', ratioAtLeast(1, daemonRate, queueRate)),
    figure(`short jobs ${7 * count + 1} to ${8 * count} of one daemon, throughput`, laterRate, 'jobs/s', warmRate, `its jobs ${count + 1} to ${2 * count}`),
  ];
}

// 2. Short jobs: N jobs of `true` at concurrency 2 through a daemon process's API (16 submissions
// in flight, as a platform's web workers send them; every transition of every job stored
// durably), timed from outside until the last is done; against `xargs -P 2` (the floor: a fork
// and exec each) and a p-queue + execa script in a process of its own (what a Node user writes
// instead, with no persistence and no API). Then the same daemon runs seven times as many again,
// and the last of them are timed against the second batch (run warm, as they are): a job's cost
// must not grow with the jobs the daemon has run (its finished job actors were once kept, and
// every start copied them all). Last, a daemon with a default webhook for each job's end, to a
// local receiver: the rate its webhooks arrive at, against the rate its jobs end at (a platform
// that learns of its thumbnails by webhook learns of them as fast as they are made, or falls
// behind for good).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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

/** `count` jobs of `true`, IN_FLIGHT submissions at a time, until each has ended. */
function runTrueJobs(api: ApiClient, count: number): Promise<void> {
  let sent = 0;
  return runToEnd(api, (submitted) =>
    Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (sent < count) {
          sent++;
          submitted((await api.submit({ command: ['true'], maxAttempts: 1 })).id);
        }
      }),
    ).then(() => undefined),
  );
}

export async function shortJobs(quick: boolean, dir: string): Promise<Figure[]> {
  const count = quick ? 100 : 500;
  const daemon = await startDaemonProcess(join(dir, 'short-data'), ['--max-concurrent', '2']);
  const api = new ApiClient(daemon.url, daemon.token);
  /** Jobs a second for `jobs` more jobs through the daemon. */
  const run = async (jobs: number) => {
    const start = performance.now();
    await runTrueJobs(api, jobs);
    return jobs / elapsed(start);
  };
  const daemonRate = await run(count);
  const warmRate = await run(count);
  await run(5 * count);
  const laterRate = await run(count);
  await daemon.stop();

  const { webhookRate, jobRate } = await webhooksKeepingUp(join(dir, 'short-webhooks'), count);

  const xargsRate = count / (await secondsToRun('xargs', ['-P', '2', '-n', '1', 'true'], Array.from({ length: count }, (_, i) => String(i)).join('\n')));
  const queueRate = count / (await secondsToRun(process.execPath, ['--input-type=module', '-e', P_QUEUE_SCRIPT, String(count)], ''));
  return [
    figure(`${count} short jobs, throughput`, daemonRate, 'jobs/s', xargsRate, 'xargs -P 2'),
    figure(`${count} short jobs, throughput`, daemonRate, 'jobs/s', queueRate, 'p-queue + execa script', ratioAtLeast(1, daemonRate, queueRate)),
    figure(`short jobs ${7 * count + 1} to ${8 * count} of one daemon, throughput`, laterRate, 'jobs/s', warmRate, `its jobs ${count + 1} to ${2 * count}`),
    figure(`webhooks of ${count} short jobs (one at each end), received a second`, webhookRate, 'webhooks/s', jobRate, 'the same jobs ended a second'),
  ];
}

/** Webhooks received a second, and jobs ended a second, for `count` jobs that each send one as they end. */
async function webhooksKeepingUp(dataDir: string, count: number): Promise<{ webhookRate: number; jobRate: number }> {
  let received = 0;
  let allReceived!: () => void;
  const everyOne = new Promise<void>((resolve) => (allReceived = resolve));
  const receiver = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(204).end();
      if (++received === count) allReceived();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const daemon = await startDaemonProcess(dataDir, ['--max-concurrent', '2', '--webhook-url', url, '--webhook-events', 'done']);
  try {
    const api = new ApiClient(daemon.url, daemon.token);
    const start = performance.now();
    await runTrueJobs(api, count);
    const jobRate = count / elapsed(start);
    await everyOne;
    return { webhookRate: count / elapsed(start), jobRate };
  } finally {
    await daemon.stop();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  }
}

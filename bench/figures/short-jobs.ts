// 2. Short jobs: N jobs of `true` at concurrency 2 through a daemon process's API (16 submissions
// in flight, as a platform's web workers send them; every transition of every job stored
// durably), timed from outside until the last is done; against `xargs -P 2` (the floor: a fork
// and exec each) and a p-queue + execa script in a process of its own (what a Node user writes
// instead, with no persistence and no API).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ApiClient } from '../../src/api/client.js';
import { runToEnd, startDaemonProcess } from '../daemon-process.js';
import { type Figure, elapsed, figure, ratioAtLeast } from '../lib.js';

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
  const start = performance.now();
  let sent = 0;
  await runToEnd(api, (submitted) =>
    Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (sent < count) {
          sent++;
          submitted((await api.submit({ command: ['true'], maxAttempts: 1 })).id);
        }
      }),
    ).then(() => undefined),
  );
  const daemonRate = count / elapsed(start);
  await daemon.stop();

  const xargsRate = count / (await timed('xargs', ['-P', '2', '-n', '1', 'true'], Array.from({ length: count }, (_, i) => String(i)).join('\n')));
  const queueRate = count / (await timed(process.execPath, ['--input-type=module', '-e', P_QUEUE_SCRIPT, String(count)], ''));
  return [
    figure(`${count} short jobs, throughput`, daemonRate, 'jobs/s', xargsRate, 'xargs -P 2'),
    figure(`${count} short jobs, throughput`, daemonRate, 'jobs/s', queueRate, 'p-queue + execa script', ratioAtLeast(1, daemonRate, queueRate)),
  ];
}

/** Seconds a command takes, its stdin given. */
function timed(file: string, args: string[], input: string): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'ignore', 'inherit'], cwd: new URL('../..', import.meta.url).pathname });
    child.stdin.end(input);
    child.on('exit', (code) => (code === 0 ? resolve(elapsed(start)) : reject(new Error(`${file} exited ${code}`))));
  });
}

// 8. Hostile output: a 1 MB record of digits through every parser `auto` tries (linear-time
// parsers take milliseconds; one unanchored, backtracking pattern would take minutes), against
// one plain scan of the same record; and /healthz latency while a job prints 100 MB on one line,
// against the same probe on an idle daemon.
import { join } from 'node:path';
import { isFinished } from '../../machines/job-record.js';
import { ApiClient } from '../../src/api/client.js';
import { createParser } from '../../src/progress/parsers/index.js';
import { benchDaemon } from '../daemon.js';
import { type Figure, atMost, figure, percentile } from '../lib.js';

export async function hostileOutput(quick: boolean, dir: string): Promise<Figure[]> {
  const record = '7'.repeat(1024 * 1024);
  const parse = createParser({ parser: 'auto' });
  const rounds = quick ? 3 : 10;
  const parseMs: number[] = [];
  const scanMs: number[] = [];
  for (let i = 0; i < rounds; i++) {
    let start = performance.now();
    parse(record);
    parseMs.push(performance.now() - start);
    start = performance.now();
    record.indexOf('%');
    scanMs.push(performance.now() - start);
  }

  const daemon = await benchDaemon(join(dir, 'hostile-data'), { maxConcurrent: 2 });
  const api = new ApiClient(daemon.url, daemon.token);
  const probe = async (until: () => boolean, minimum: number) => {
    const latencies: number[] = [];
    while (until() || latencies.length < minimum) {
      const start = performance.now();
      await fetch(new URL('/healthz', daemon.url));
      latencies.push(performance.now() - start);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return latencies;
  };
  const idle = await probe(() => false, 50);
  const megabytes = quick ? 20 : 100;
  const flood = await api.submit({ command: `head -c ${megabytes * 1_000_000} /dev/zero | tr '\\0' 7; echo`, shell: true, name: 'flood' });
  let running = true;
  const finished = daemon.ledger.waitFor(flood.id, (job) => isFinished(job.status), 600_000).then(() => (running = false));
  const busy = await probe(() => running, 1);
  await finished;
  await daemon.close();
  return [
    figure('1 MB single record (digits) through every auto parser', percentile(parseMs, 50), 'ms', percentile(scanMs, 50), 'one indexOf over the record', atMost(100, 'ms (linear time: no backtracking)', percentile(parseMs, 50))),
    figure(`/healthz p95 while a job prints ${megabytes} MB on one line`, percentile(busy, 95), 'ms', percentile(idle, 95), '/healthz p95 on the idle daemon'),
    figure(`/healthz max while a job prints ${megabytes} MB on one line`, Math.max(...busy), 'ms', Math.max(...idle), '/healthz max on the idle daemon'),
  ];
}

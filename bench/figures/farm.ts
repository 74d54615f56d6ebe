// 10. The farm (hosts sharing one PostgreSQL store): claims a second with three hosts claiming at
// once (against one host alone), short jobs a second through three host daemons (against one box
// on the job file with the same slots), the time from a host's kill -9 to its job running again
// elsewhere (against the lease plus one renewal, the bound the design promises; and against a
// one-box daemon restarted at once, as systemd would), and progress writes on each store.
import { join } from 'node:path';
import { isFinished } from '../../machines/job-record.js';
import { ApiClient } from '../../src/api/client.js';
import { readTokenFileSync } from '../../src/api/token.js';
import { SQL } from '../../src/farm/farm-sql.js';
import { newJobRecord } from '../../src/jobs/submission.js';
import { openPostgresStore } from '../../src/store/postgres-store.js';
import { spawnDaemon } from '../../test/helpers/daemon-process.js';
import { sampleRuns } from '../../test/helpers/farm.js';
import { freshDatabase } from '../../test/helpers/postgres.js';
import { until } from '../../test/helpers/wait.js';
import { benchDaemon } from '../daemon.js';
import { type Figure, elapsed, figure } from '../lib.js';

export async function farm(quick: boolean, dir: string): Promise<Figure[]> {
  const database = await freshDatabase();
  try {
    const claims = quick ? 600 : 3000;
    const three = await claimsPerSecond(database.url, claims, 3);
    const one = await claimsPerSecond(database.url, claims, 1);
    const jobs = quick ? 30 : 120;
    const farmJobs = await shortJobsPerSecond(join(dir, 'farm'), jobs, (name) => ['--store', database.url, '--host-name', name, '--max-concurrent', '2']);
    const boxJobs = await shortJobsPerSecond(join(dir, 'box'), jobs, () => ['--max-concurrent', '6'], 1);
    const lease = 6;
    const requeue = await secondsToRunAgain(join(dir, 'loss'), ['--store', database.url, '--lease', String(lease), '--kill-grace', '1'], true);
    const restarted = await secondsToRunAgain(join(dir, 'restart'), ['--kill-grace', '1'], false);
    const gap = await frozenHostGap(join(dir, 'frozen'), database.url, lease);
    const postgresWrites = await progressWrites(join(dir, 'pg-writes'), database.url);
    const fileWrites = await progressWrites(join(dir, 'file-writes'), '');
    return [
      figure(`claims a second, 3 hosts claiming ${claims} waiting jobs at once (none claimed twice)`, three, 'claims/s', one, 'one host claiming alone'),
      figure(`short jobs a second through 3 host daemons (2 slots each), ${jobs} jobs`, farmJobs, 'jobs/s', boxJobs, 'one box on the job file with 6 slots'),
      figure(`seconds from a host's kill -9 to its job running on another host (--lease ${lease})`, requeue, 's', lease + lease / 6, 'the promised bound: a lease and one renewal'),
      figure(`seconds between a frozen host's encoder ending (its guard) and another host's starting the job (--lease ${lease}, --kill-grace 1)`, gap, 's', 2, 'the promised margin (2 s), before claim and start'),
      figure("seconds from a daemon's kill -9 to its job running again, one box restarted at once", restarted, 's', requeue, 'the farm, with no restart'),
      figure('store writes a second for one job printing 10,000 progress lines, PostgreSQL', postgresWrites, 'writes/s', fileWrites, 'the same on the job file'),
    ];
  } finally {
    await database.drop();
  }
}

/** `hosts` stores claiming from one line of `count` waiting jobs until it is empty. */
async function claimsPerSecond(url: string, count: number, hosts: number): Promise<number> {
  const stores = await Promise.all(Array.from({ length: hosts }, (_, i) => openPostgresStore(url, { hostName: `bench-${hosts}-${i}` })));
  const at = new Date().toISOString();
  for (let i = 0; i < count; i++) await stores[0]!.put(newJobRecord({ command: ['true'] }, `claim-${hosts}-${i}`, at, '/'));
  const claimed = new Set<string>();
  let twice = 0;
  const start = performance.now();
  await Promise.all(
    stores.map(async (store) => {
      for (;;) {
        const { rows } = await store.pool.query<{ id: string }>(SQL.claimNext, [store.hostName, [], '{}', 60]);
        if (rows.length === 0) return;
        if (claimed.has(rows[0]!.id)) twice++;
        claimed.add(rows[0]!.id);
      }
    }),
  );
  const seconds = elapsed(start);
  await stores[0]!.pool.query(`DELETE FROM encsup_jobs WHERE id LIKE 'claim-${hosts}-%'`);
  await Promise.all(stores.map((store) => store.close()));
  if (twice > 0 || claimed.size < count) throw new Error(`claims went wrong: ${twice} claimed twice, ${claimed.size} of ${count} claimed`);
  return count / seconds;
}

async function shortJobsPerSecond(root: string, count: number, args: (name: string) => string[], hosts = 3): Promise<number> {
  const daemons = await Promise.all(Array.from({ length: hosts }, (_, i) => spawnDaemon(join(root, `h${i}`), args(`h${i}`))));
  try {
    const apis = daemons.map((daemon, i) => new ApiClient(daemon.url, readTokenFileSync(join(root, `h${i}`))));
    const start = performance.now();
    for (let i = 0; i < count; i++) await apis[i % hosts]!.submit({ command: ['true'], validate: false });
    await until(async () => (await apis[0]!.page({ limit: 1 })).counts.done === count, 'the short jobs', 300_000, 100);
    return count / elapsed(start);
  } finally {
    for (const daemon of daemons) daemon.child.kill('SIGTERM');
    await Promise.all(daemons.map((daemon) => daemon.exited));
  }
}

/** kill -9 of the daemon running a job; seconds until the job runs again (on host b, or on the restarted box). */
async function secondsToRunAgain(root: string, args: string[], farmed: boolean): Promise<number> {
  const first = await spawnDaemon(join(root, 'a'), [...args, ...(farmed ? ['--host-name', 'a'] : [])]);
  const api = new ApiClient(first.url, readTokenFileSync(join(root, 'a')));
  const job = await api.submit({ command: ['sleep', '600'], validate: false });
  await until(async () => (await api.get(job.id)).status === 'encoding', 'the job to run', 30_000, 20);
  const second = farmed ? await spawnDaemon(join(root, 'b'), [...args, '--host-name', 'b']) : null;
  first.child.kill('SIGKILL');
  const killed = performance.now();
  await first.exited;
  const again = second ?? (await spawnDaemon(join(root, 'a'), args));
  try {
    const againApi = new ApiClient(again.url, readTokenFileSync(join(root, farmed ? 'b' : 'a')));
    await until(async () => {
      const now = await againApi.get(job.id);
      return now.status === 'encoding' && now.attempts === 2;
    }, 'the job to run again', 60_000, 20);
    const seconds = elapsed(killed);
    await againApi.cancel(job.id);
    return seconds;
  } finally {
    again.child.kill('SIGTERM');
    await again.exited;
  }
}

/** SIGSTOP of the host running a job: seconds from its run's last process to the new run's first, seen in /proc. */
async function frozenHostGap(root: string, url: string, lease: number): Promise<number> {
  const args = ['--store', url, '--lease', String(lease), '--kill-grace', '1'];
  const a = await spawnDaemon(join(root, 'a'), [...args, '--host-name', 'a']);
  const api = new ApiClient(a.url, readTokenFileSync(join(root, 'a')));
  const sampler = sampleRuns(10);
  const job = await api.submit({ command: ['sleep', '600'], validate: false });
  await until(async () => (await api.get(job.id)).status === 'encoding', 'the job to run', 30_000, 20);
  const b = await spawnDaemon(join(root, 'b'), [...args, '--host-name', 'b']);
  const bApi = new ApiClient(b.url, readTokenFileSync(join(root, 'b')));
  a.child.kill('SIGSTOP');
  try {
    await until(async () => (await bApi.get(job.id)).host === 'b', 'host b to run the job', 60_000, 50);
    await until(() => [...sampler.read().seen.keys()].filter((tag) => tag.includes(`/${job.id}/`)).length === 2, 'both runs seen', 10_000, 20);
    const runs = [...sampler.stop().seen.entries()].filter(([tag]) => tag.includes(`/${job.id}/`)).map(([, seen]) => seen).sort((x, y) => x.first - y.first);
    await bApi.cancel(job.id);
    return (runs[1]!.first - runs[0]!.last) / 1000;
  } finally {
    sampler.stop();
    a.child.kill('SIGCONT');
    for (const daemon of [a, b]) daemon.child.kill('SIGTERM');
    await Promise.all([a.exited, b.exited]);
  }
}

async function progressWrites(dataDir: string, store: string): Promise<number> {
  const lines = 10_000;
  const daemon = await benchDaemon(dataDir, { progressThreshold: 1, ...(store ? { store, hostName: 'writes' } : {}) });
  const script = `i=0; while [ $i -lt ${lines} ]; do i=$((i+1)); echo "frame=$i fps=25 q=28.0 size=1kB time=00:00:01.00 bitrate=1kbits/s speed=1x"; sleep 0.0005; done`;
  const job = await daemon.requests.submit({ command: ['sh', '-c', script], totalFrames: lines, validate: false });
  const start = performance.now();
  const done = (await daemon.ledger.waitFor(job.id, (each) => isFinished(each.status), 300_000))!;
  const seconds = elapsed(start);
  await daemon.close();
  return (done.progressUpdates + 2) / seconds;
}

// Hosts of one farm (daemon processes on one PostgreSQL database): work spread under each host's
// cap with every job done exactly once; a host killed, frozen or cut off from the database loses
// its jobs to the others without two encoders of one job ever running at once (a /proc sampler
// watches every run), and a host that comes back changes nothing of them.
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Job } from '../machines/job-record.js';
import { folderTag } from '../src/runner/process-tag.js';
import { type Host, type Proxy, sampleRuns, startHost, stopHosts, tcpProxy, throughProxy } from './helpers/farm.js';
import { encodeCommand } from './helpers/media.js';
import { withDatabase } from './helpers/postgres.js';
import { withTempDir } from './helpers/temp.js';
import { until } from './helpers/wait.js';

// Short leases so a lost host is noticed in seconds: renewed every 1.3 s, the guard's deadline
// 8 - 1 (kill grace) - 2 (margin) = 5 s after the last renewal.
const LEASE_SEC = 8;
const FAST_LEASE = ['--lease', String(LEASE_SEC), '--kill-grace', '1'];

test('300 encodes across 3 hosts with caps 1, 2 and 3: each done exactly once, no host over its cap, work spread', async () => {
  await withDatabase(async (database) => {
    await withTempDir(async (dir) => {
      const caps = { a: 1, b: 2, c: 3 };
      const hosts = await Promise.all(Object.entries(caps).map(([name, cap]) => startHost(dir.path, name, database.url, ['--max-concurrent', String(cap), ...FAST_LEASE])));
      const sampler = sampleRuns();
      try {
        const ids: string[] = [];
        for (let i = 0; i < 300; i++) {
          const output = join(dir.path, `out-${i}.mp4`);
          // Submitted to every host in turn: any host's API takes work for the whole farm.
          const job = await hosts[i % 3]!.api.submit({ command: encodeCommand(output, { seconds: 0.2, size: '64x48', fps: 10 }), output, name: `short ${i}` });
          ids.push(job.id);
        }
        // Every host's view: each shows the whole farm.
        await until(async () => {
          for (const host of hosts) if ((await host.api.page({ limit: 1 })).counts.done !== 300) return false;
          return true;
        }, 'all 300 jobs to be done, as every host sees them', 300_000, 250).catch(async (error: Error) => {
          const views = await Promise.all(hosts.map(async (host) => `${host.name}: ${JSON.stringify((await host.api.page({ limit: 1 })).counts)}`));
          throw new Error(`${error.message}; jobs by status: ${views.join('; ')}`);
        });
        const jobs = await hosts[2]!.api.list();
        assert.is(jobs.length, 300);
        for (const job of jobs) {
          assert.is(job.status, 'done', `${job.name} is done`);
          assert.is(job.history.length, 1, `${job.name} ran once`);
          assert.is(job.attempts, 1);
        }
        const seen = sampler.stop();
        assert.equal(seen.overlaps, [], 'never two encoders of one job');
        for (const [runs, job] of ids.map((id) => [seen.runsOf.get(id)?.size ?? 0, id] as const)) assert.ok(runs <= 1, `job ${job} was run by ${runs} runs`);
        for (const host of hosts) {
          const most = seen.mostAtOnce.get(folderTag(host.dataDir)) ?? 0;
          assert.ok(most <= caps[host.name as keyof typeof caps], `host ${host.name} ran ${most} at once, over its cap`);
          const ran = jobs.filter((job) => job.host === host.name).length;
          // Spread: even the host with a cap of 1 takes a fair part (a sixth of the slots).
          assert.ok(ran >= 20, `host ${host.name} ran ${ran} of 300`);
        }
      } finally {
        sampler.stop();
        await stopHosts(hosts);
      }
    });
  });
});

/** Starts hosts a and b, submits a long encode, and answers which host runs it and which does not. */
async function longJobOnOneOf(dir: string, urls: { a: string; b: string }, seconds = 12): Promise<{ job: Job; runner: Host; other: Host; hosts: Host[] }> {
  const a = await startHost(dir, 'a', urls.a, ['--max-concurrent', '1', ...FAST_LEASE]);
  const output = join(dir, 'long.mp4');
  const submitted = await a.api.submit({ command: encodeCommand(output, { seconds, realtime: true, size: '160x120' }), output, name: 'long' });
  await until(async () => (await a.api.get(submitted.id)).status === 'encoding', 'the long job to start on host a', 30_000);
  const b = await startHost(dir, 'b', urls.b, ['--max-concurrent', '1', ...FAST_LEASE]);
  return { job: submitted, runner: a, other: b, hosts: [a, b] };
}

/** The job once it has ended, as `host` sees it. */
function endedOn(host: Host, id: string): Promise<Job> {
  return until(async () => {
    const now = await host.api.get(id);
    return now.status === 'done' || now.status === 'failed' ? now : null;
  }, `the job to end on host ${host.name}`, 60_000);
}

function runningOn(host: Host, id: string): Promise<Job> {
  return until(async () => {
    const now = await host.api.get(id);
    return now.host === host.name && now.status === 'encoding' ? now : null;
  }, `host ${host.name} to run the job`, 30_000);
}

function assertTakenOver(job: Job, from: string, to: string): void {
  assert.is(job.status, 'done');
  assert.is(job.host, to);
  assert.is(job.history.length, 2, JSON.stringify(job.history));
  assert.is(job.history[0]!.outcome, 'interrupted', JSON.stringify(job.history));
  // Rescued by the other host, or (when only its renewals were slow) interrupted by the host itself.
  assert.match(job.history[0]!.reason ?? '', new RegExp(`host ${from} (stopped renewing|could not renew) its lease`));
  assert.is(job.history[1]!.outcome, 'done');
}

/**
 * Hosts a and b on a database of their own (a's through a TCP proxy, if asked), a long encode
 * running on a; `loseIt` makes a lose it. Then: b ran it to the end as a take-over, and no two
 * encoders of the job ever ran at once.
 */
async function takeOver(options: { seconds: number; proxied?: boolean }, loseIt: (parts: { job: Job; runner: Host; other: Host; proxy: Proxy | null }) => Promise<void>): Promise<void> {
  await withDatabase(async (database) => {
    await withTempDir(async (dir) => {
      const target = new URL(database.url);
      const proxy = options.proxied ? await tcpProxy(target.hostname, Number(target.port || 5432)) : null;
      const sampler = sampleRuns();
      const { job, runner, other, hosts } = await longJobOnOneOf(dir.path, { a: proxy ? throughProxy(database.url, proxy.port) : database.url, b: database.url }, options.seconds);
      try {
        await loseIt({ job, runner, other, proxy });
        assertTakenOver(await endedOn(other, job.id), runner.name, other.name);
        assert.equal(sampler.stop().overlaps, []);
      } finally {
        sampler.stop();
        await stopHosts(hosts);
        await proxy?.close();
      }
    });
  });
}

test('kill -9 of a host mid-encode: its guard ends the encoder, and another host runs the job once the lease runs out', async () => {
  await takeOver({ seconds: 8 }, async ({ runner }) => {
    runner.child.kill('SIGKILL');
    await runner.exited;
  });
});

test('a host frozen (SIGSTOP) for three lease periods: its guard ends its encoder before another host starts it, and after SIGCONT it changes nothing', async () => {
  await takeOver({ seconds: 10 }, async ({ job, runner, other }) => {
    runner.child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    await runningOn(other, job.id);
    // Frozen for three leases in all, while host b encodes.
    await until(() => Date.now() - stoppedAt >= 3 * LEASE_SEC * 1000, 'three lease periods', 40_000, 200);
    runner.child.kill('SIGCONT');
    await until(() => runner.logged('this host lost the job'), 'host a to find it lost the job', 20_000);
    // Host a's view agrees: the farm's record, not its own.
    await until(async () => (await runner.api.get(job.id)).host === other.name, "host a to show b's run", 10_000);
  });
});

test('a host cut off from the database (a partition): it ends its encoder before its lease runs out, another host runs the job, and once healed it changes nothing', async () => {
  await takeOver({ seconds: 10, proxied: true }, async ({ job, runner, other, proxy }) => {
    proxy!.cut();
    const cutAt = Date.now();
    await runningOn(other, job.id);
    assert.ok(runner.logged('this host lost the job'), 'host a dropped the job before host b took it');
    await until(() => Date.now() - cutAt >= 3 * LEASE_SEC * 1000, 'three lease periods', 40_000, 200);
    proxy!.heal();
    await until(() => runner.logged('the PostgreSQL store answers again'), 'host a to reach the database again', 30_000);
  });
});

test.run();

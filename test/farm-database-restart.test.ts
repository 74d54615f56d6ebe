// The farm's database stopped and started again under load: hosts wait (encoders run on, writes
// are retried, nothing new is claimed), then go on; every job is done once, none lost, none run
// twice. On a PostgreSQL cluster of the test's own, which it can stop.
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type Host, sampleRuns, startHost, stopHosts } from './helpers/farm.js';
import { encodeCommand } from './helpers/media.js';
import { ownCluster } from './helpers/postgres.js';
import { withTempDir } from './helpers/temp.js';
import { until } from './helpers/wait.js';

/** How a host stands, for a failure's message: running or not, and the end of its log. */
function lastWords(host: Host): string {
  const state = host.child.exitCode !== null || host.child.signalCode !== null ? `exited (${host.child.exitCode ?? host.child.signalCode})` : 'running';
  const lines = host.stdout().trim().split('\n').slice(-8).map((line) => line.slice(0, 300));
  return `host ${host.name}, ${state}; its log ends:\n  ${lines.join('\n  ')}\n  stderr: ${host.stderr().slice(-500)}`;
}

test('the database stopped and restarted under load: hosts wait, then every job is done exactly once, and each still holds its name', async () => {
  const cluster = await ownCluster();
  await withTempDir(async (dir) => {
    // A lease long enough to outlast the restart: the guards' deadline is 15 - 1 - 2 = 12 s.
    const flags = ['--max-concurrent', '2', '--lease', '15', '--kill-grace', '1'];
    const hosts = [await startHost(dir.path, 'a', cluster.url, flags), await startHost(dir.path, 'b', cluster.url, flags)];
    const sampler = sampleRuns();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 24; i++) {
        const output = join(dir.path, `out-${i}.mp4`);
        ids.push((await hosts[i % 2]!.api.submit({ command: encodeCommand(output, { seconds: 1.5, realtime: true, size: '64x48', fps: 10 }), output, name: `under load ${i}` })).id);
      }
      await until(async () => (await hosts[0]!.api.page({ limit: 1 })).counts.done >= 4, 'a few jobs to be done', 60_000);
      cluster.stop();
      try {
        await until(() => hosts.every((host) => host.logged('the PostgreSQL store does not answer')), 'both hosts to find the database gone', 60_000).catch((error: Error) => {
          throw new Error(`${error.message}\n${hosts.map(lastWords).join('\n')}`);
        });
      } finally {
        cluster.start();
      }
      await until(() => hosts.every((host) => host.logged('the PostgreSQL store answers again')), 'both hosts to reach it again', 30_000);
      await until(async () => (await hosts[1]!.api.page({ limit: 1 })).counts.done === 24, 'all 24 jobs to be done', 120_000, 250);
      const jobs = await hosts[0]!.api.list();
      assert.is(jobs.length, 24, 'nothing lost');
      for (const job of jobs) {
        assert.is(job.status, 'done');
        assert.is(job.history.length, 1, `${job.name} ran once: ${JSON.stringify(job.history)}`);
      }
      // The host names' locks, held by sessions the restart ended, were taken again (before the
      // hosts said the store answers): a second daemon named a is still refused.
      const second = await startHost(join(dir.path, 'again'), 'a', cluster.url, flags).then(
        async (extra) => {
          await extra.stop();
          return 'started';
        },
        (error: Error) => error.message,
      );
      assert.match(second, /another encsup daemon is host a/);
      const seen = sampler.stop();
      assert.equal(seen.overlaps, []);
      for (const id of ids) assert.ok((seen.runsOf.get(id)?.size ?? 0) <= 1, `job ${id} ran once`);
    } finally {
      sampler.stop();
      await stopHosts(hosts);
      cluster.stop();
    }
  });
});

test.run();

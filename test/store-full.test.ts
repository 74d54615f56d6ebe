// A store that fills up while encodes run, and clients that retry: submissions are refused within a
// second while it is full, nothing accepted is lost, health comes back by itself, and an
// idempotency key makes a retried submission one job.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestDaemon, waitForStatus, withTestDaemon } from './helpers/daemon.js';
import { tempDir } from './helpers/temp.js';
import { until } from './helpers/wait.js';

test('an idempotency key (header or clientId) makes retried and concurrent submissions one job, across a restart too', async () => {
  const dir = tempDir();
  let daemon = await startTestDaemon(dir.path);
  try {
    const post = (body: object, key?: string) =>
      daemon.authed('/api/jobs', { method: 'POST', body: JSON.stringify(body), headers: key ? { 'idempotency-key': key } : {} });
    const body = { command: ['sleep', '30'], name: 'once' };
    const first = await post(body, 'upload-7f3a');
    assert.is(first.status, 201);
    const made = (await first.json()) as { id: string; clientId: string };
    assert.is(made.clientId, 'upload-7f3a');
    const again = await post(body, 'upload-7f3a');
    assert.equal([again.status, again.headers.get('idempotent-replayed')], [200, 'true']);
    assert.is(((await again.json()) as { id: string }).id, made.id);
    const concurrent = await Promise.all(Array.from({ length: 8 }, () => post({ ...body, clientId: 'batch-42' })));
    const ids = new Set(await Promise.all(concurrent.map(async (response) => ((await response.json()) as { id: string }).id)));
    assert.is(ids.size, 1, 'eight at once, one job');
    assert.is((await post({ ...body, clientId: 'a' }, 'b')).status, 400);
    const bad = await post(body, 'has space');
    assert.is(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, 'Idempotency-Key: expected printable ASCII');
    await daemon.close();
    daemon = await startTestDaemon(dir.path);
    const afterRestart = await post(body, 'upload-7f3a');
    assert.equal([afterRestart.status, ((await afterRestart.json()) as { id: string }).id], [200, made.id]);
    assert.is((await daemon.api.list()).length, 2, 'two keys, two jobs');
  } finally {
    await daemon.close();
    dir.remove();
  }
});

/** A tmpfs of `size` at `path`; false where this machine can't mount one (no privilege). */
function mountTmpfs(path: string, size: string): boolean {
  mkdirSync(path, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', path], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('a store on a tmpfs that fills while a job runs: 503 within a second, the running job kept, health back by itself', async () => {
  const dir = tempDir();
  const data = join(dir.path, 'data');
  if (!mountTmpfs(data, '4m')) {
    console.log('  (skipped: this machine cannot mount a tmpfs; the read-only store test covers the refusal)');
    dir.remove();
    return;
  }
  try {
    const daemon = await startTestDaemon(data, { retryBackoffSec: 0 });
    try {
      const { api, authed, url } = daemon;
      const ticking = ['sh', '-c', 'for i in $(seq 1 30); do echo "Step $i/30"; sleep 0.1; done'];
      const accepted = await api.submit({ command: ticking, name: 'accepted before' });
      await until(async () => ((await api.get(accepted.id)).progress ?? 0) > 0, 'the job to make progress');
      // Fill the disk to the last byte.
      try {
        execFileSync('dd', ['if=/dev/zero', `of=${join(data, 'filler')}`, 'bs=64k'], { stdio: 'ignore' });
      } catch {
        // dd ends with "no space left": that is the point
      }
      // The running job's next progress write fails: the store is known to refuse writes.
      await until(async () => (await fetch(new URL('/healthz', url))).status === 503, 'health to say the store refuses writes', 10_000);
      const started = performance.now();
      const refused = await authed('/api/jobs', { method: 'POST', body: JSON.stringify({ command: ['true'] }), headers: { 'idempotency-key': 'refused-1' } });
      const took = performance.now() - started;
      assert.is(refused.status, 503);
      assert.ok(took < 1000, `refused in ${took.toFixed(0)} ms`);
      assert.match(((await refused.json()) as { error: string }).error, /ENOSPC|no space/i);
      rmSync(join(data, 'filler'));
      // No submission needed: a probe, or the retried write of the running job, finds space again.
      await until(async () => (await fetch(new URL('/healthz', url))).status === 200, 'health to recover by itself', 10_000);
      const done = await waitForStatus(api, accepted.id, ['done', 'failed'], 30_000);
      assert.is(done.status, 'done');
      // The refused key made nothing: trying it again now makes the job.
      const retried = await authed('/api/jobs', { method: 'POST', body: JSON.stringify({ command: ['true'] }), headers: { 'idempotency-key': 'refused-1' } });
      assert.is(retried.status, 201);
    } finally {
      await daemon.close();
    }
    const reopened = await startTestDaemon(data);
    try {
      const jobs = await reopened.api.list();
      assert.ok(jobs.some((job) => job.name === 'accepted before' && job.status === 'done'), 'the accepted job is on disk, done');
    } finally {
      await reopened.close();
    }
  } finally {
    execFileSync('umount', [data], { stdio: 'ignore' });
    dir.remove();
  }
});

test.run();

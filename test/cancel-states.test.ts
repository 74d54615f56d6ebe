// Cancel works in every state a job can be in before it ends: waiting in line, waiting out a
// retry's backoff (neither in line nor running), running, and an external job waiting for its
// output; `encsup cancel` exits non-zero when the job did not end cancelled.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cli } from './helpers/cli.js';
import { withTestDaemon } from './helpers/daemon.js';
import { until } from './helpers/wait.js';

test('a job waiting out its retry backoff is cancelled, and its next attempt never runs', async () => {
  await withTestDaemon({ retryBackoffSec: 1 }, async ({ api, dir, url }) => {
    const job = await api.submit({ command: ['sh', '-c', 'echo failing; exit 3'], maxAttempts: 3 });
    const waiting = await until(async () => {
      const seen = await api.get(job.id);
      return seen.status === 'queued' && seen.retryDelayMs !== null ? seen : null;
    }, 'the first attempt to fail and a retry to be scheduled');
    assert.is(waiting.attempts, 1);
    const cancelled = await cli(['cancel', job.id, '--data-dir', dir.path, '--url', url]);
    assert.is(cancelled.code, 0, cancelled.stderr);
    assert.match(cancelled.stdout, `${job.id} cancelled`);
    // The backoff (1 s, ±20 %) passes; nothing may start.
    const backoffOver = Date.now() + waiting.retryDelayMs! + 1000;
    await until(() => Date.now() > backoffOver, 'the backoff to be over', 10_000);
    const after = await api.get(job.id);
    assert.equal([after.status, after.attempts], ['cancelled', 1]);
  });
});

test('an external job waiting for its output is cancelled; a job already finished is refused with exit 1', async () => {
  await withTestDaemon({ reportDirs: tmpdir() }, async ({ api, dir, url }) => {
    const job = await api.submit({ external: true, output: join(dir.path, 'elsewhere.mp4') });
    await until(async () => (await api.get(job.id)).status === 'encoding', 'the external job to wait');
    const first = await cli(['cancel', job.id, '--data-dir', dir.path, '--url', url]);
    assert.equal([first.code, first.stdout.trim()], [0, `${job.id} cancelled`]);
    const again = await cli(['cancel', job.id, '--data-dir', dir.path, '--url', url]);
    assert.is(again.code, 1);
    assert.match(again.stderr, 'already cancelled');
  });
});

test.run();

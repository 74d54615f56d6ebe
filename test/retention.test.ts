// Finished jobs don't pile up: `encsup clean --older-than`, retry of every failed job at once, and
// the retention settings (--keep-finished, --keep-logs) applied by the daemon itself.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cli } from './helpers/cli.js';
import { postRaw, startTestDaemon, waitForStatus } from './helpers/daemon.js';
import { withTempDir } from './helpers/temp.js';
import { until } from './helpers/wait.js';

const DAY_MS = 86_400_000;

async function finishedJobs(dataDir: string) {
  const daemon = await startTestDaemon(dataDir);
  try {
    const done = await daemon.api.submit({ command: ['sh', '-c', 'echo finished'], name: 'done one' });
    const failed = await daemon.api.submit({ command: ['sh', '-c', 'echo broken; exit 2'], maxAttempts: 1, name: 'failed one' });
    await waitForStatus(daemon.api, done.id, ['done']);
    await waitForStatus(daemon.api, failed.id, ['failed']);
    return { done: done.id, failed: failed.id };
  } finally {
    await daemon.close();
  }
}

test('--keep-finished removes jobs and logs past their age at start; --keep-logs only the logs', async () => {
  await withTempDir(async (dir) => {
    const ids = await finishedJobs(dir.path);
    const log = (id: string) => join(dir.path, 'logs', `${id}.log`);
    assert.ok(existsSync(log(ids.done)));
    // Eight days on: past --keep-logs 7d, within --keep-finished 30d.
    const week = await startTestDaemon(dir.path, { keepLogsSec: '7d', keepFinishedSec: '30d' }, { nowMs: () => Date.now() + 8 * DAY_MS });
    try {
      await until(() => !existsSync(log(ids.done)) && !existsSync(log(ids.failed)), 'the old logs to go');
      assert.equal((await week.api.list()).map((job) => job.id).sort(), [ids.done, ids.failed].sort(), 'the records stay');
      assert.match(await week.api.log(ids.failed), 'broken', 'their last lines are still on the record');
    } finally {
      await week.close();
    }
    const month = await startTestDaemon(dir.path, { keepFinishedSec: '30d' }, { nowMs: () => Date.now() + 31 * DAY_MS });
    try {
      await until(async () => (await month.api.list()).length === 0, 'the old jobs to go');
    } finally {
      await month.close();
    }
  });
});

test('encsup clean removes finished jobs older than an age (by status, where asked); retry-failed queues the failed ones again', async () => {
  await withTempDir(async (dir) => {
    const ids = await finishedJobs(dir.path);
    const daemon = await startTestDaemon(dir.path);
    // Paused, so the job queued again stays queued.
    await daemon.api.updateSettings({ paused: true });
    try {
      const flags = ['--data-dir', dir.path, '--url', daemon.url];
      assert.match((await cli(['clean', '--older-than', '1h', ...flags])).stdout, 'removed 0 finished jobs');
      const retried = await cli(['retry-failed', '--search', 'failed one', '--json', ...flags]);
      assert.equal(JSON.parse(retried.stdout), { retried: [ids.failed] });
      assert.is((await daemon.api.get(ids.failed)).status, 'queued');
      const cleaned = await cli(['clean', '--older-than', '0', '--status', 'done', ...flags]);
      assert.match(cleaned.stdout, 'removed 1 finished job');
      assert.equal((await daemon.api.list()).map((job) => job.id), [ids.failed], 'the queued one is not finished, so it stays');
      assert.not.ok(existsSync(join(dir.path, 'logs', `${ids.done}.log`)));
      const bad = await postRaw(daemon, '/api/jobs/clean', JSON.stringify({ olderThan: 'soon' }));
      assert.equal([bad.status, bad.json.field], [400, 'olderThan']);
    } finally {
      await daemon.close();
    }
    const reopened = await startTestDaemon(dir.path);
    await reopened.api.updateSettings({ paused: true });
    try {
      assert.equal((await reopened.api.list()).map((job) => job.id), [ids.failed], 'removed from the store, not only from memory');
    } finally {
      await reopened.close();
    }
  });
});

test.run();

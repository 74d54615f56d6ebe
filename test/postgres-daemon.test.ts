// The daemon on a real PostgreSQL store: jobs live in the database, not the data folder (a daemon
// with another data folder finds them); one daemon per database until hosts share one; the URL's
// password never appears in messages; DATABASE_URL selects the store and never reaches encoders.
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiClient } from '../src/api/client.js';
import { readTokenFileSync } from '../src/api/token.js';
import { redactedUrl } from '../src/store/store-url.js';
import { cli } from './helpers/cli.js';
import { spawnDaemon } from './helpers/daemon-process.js';
import { startTestDaemon, waitForStatus } from './helpers/daemon.js';
import { encodeCommand } from './helpers/media.js';
import { withDatabase } from './helpers/postgres.js';
import { withTempDir } from './helpers/temp.js';

test('jobs are kept in PostgreSQL: a daemon with another data folder finds them; a second daemon with the same host name is refused', async () => {
  await withDatabase(async (database) => {
  await withTempDir(async (first) => {
    const a = await startTestDaemon(first.path, { store: database.url });
    let id: string;
    try {
      const output = join(first.path, 'pg.mp4');
      const job = await a.api.submit({ command: encodeCommand(output, { seconds: 1 }), output, name: 'kept in postgres' });
      id = job.id;
      assert.is((await waitForStatus(a.api, job.id, ['done'])).progress, 100);
      await withTempDir(async (other) => {
        await startTestDaemon(other.path, { store: database.url }).then(
          async (extra) => {
            await extra.close();
            assert.unreachable('a second daemon started on the same database');
          },
          (error: Error) => assert.match(error.message, /another encsup daemon is host .* of the farm/),
        );
      });
    } finally {
      await a.close();
    }
    await withTempDir(async (second) => {
      const b = await startTestDaemon(second.path, { store: database.url });
      try {
        const found = await b.api.get(id);
        assert.equal([found.name, found.status], ['kept in postgres', 'done']);
      } finally {
        await b.close();
      }
    });
  });
  });
});

test('DATABASE_URL selects the store and is not passed to encoders; a bad or unreachable URL stops the start with its password hidden', async () => {
  await withDatabase(async (database) => {
  await withTempDir(async (dir) => {
    const daemon = await spawnDaemon(dir.path, [], { DATABASE_URL: database.url });
    try {
      const api = new ApiClient(daemon.url, readTokenFileSync(dir.path));
      const job = await api.submit({ command: ['sh', '-c', 'echo "[${DATABASE_URL:-}]"'], validate: false });
      await waitForStatus(api, job.id, ['done']);
      assert.match(await api.log(job.id), '[]');
      assert.match(daemon.stdout(), `"store":"${redactedUrl(database.url)}"`, 'the log names the store');
      const password = new URL(database.url).password;
      if (password) assert.not.match(daemon.stdout(), `:${password}@`, 'without its password');
    } finally {
      daemon.child.kill('SIGTERM');
      await daemon.exited;
    }
    const wrong = await cli(['daemon', '--port', '0', '--data-dir', dir.path, '--store', 'mysql://root:hunter2@db/encsup']);
    assert.is(wrong.code, 1);
    assert.match(wrong.stderr, 'expected a PostgreSQL URL');
    assert.not.match(wrong.stderr, 'hunter2');
    const unreachable = await cli(['daemon', '--port', '0', '--data-dir', dir.path, '--store', 'postgres://encsup:hunter2@127.0.0.1:1/encsup']);
    assert.is(unreachable.code, 1);
    assert.match(unreachable.stderr, 'cannot reach the PostgreSQL store at postgres://encsup:***@127.0.0.1:1/encsup');
    assert.not.match(unreachable.stderr, 'hunter2');
  });
  });
});

test('encsup migrate-store copies the file store into PostgreSQL with the daemon stopped, once; a daemon on --store finds every job', async () => {
  await withDatabase(async (database) => {
  await withTempDir(async (dir) => {
    const ids: string[] = [];
    const a = await startTestDaemon(dir.path, { maxAttempts: 1 });
    try {
      for (const command of [['true'], ['true'], ['sh', '-c', 'exit 4']]) ids.push((await a.api.submit({ command, validate: false })).id);
      for (const id of ids) await waitForStatus(a.api, id, ['done', 'failed']);
      const refused = await cli(['--data-dir', dir.path, 'migrate-store', '--to', database.url]);
      assert.is(refused.code, 1, 'not while the daemon runs');
      assert.match(refused.stderr, 'another encsup daemon owns');
    } finally {
      await a.close();
    }
    const moved = await cli(['--data-dir', dir.path, 'migrate-store', '--to', database.url]);
    assert.is(moved.code, 0, moved.stderr);
    assert.match(moved.stdout, 'copied 3 job(s)');
    const again = JSON.parse((await cli(['--data-dir', dir.path, 'migrate-store', '--to', database.url, '--json'])).stdout) as { copied: number; kept: string[] };
    assert.equal([again.copied, again.kept.sort()], [0, [...ids].sort()], 'a second run keeps what is there');
    await withTempDir(async (elsewhere) => {
      const b = await startTestDaemon(elsewhere.path, { store: database.url });
      try {
        const jobs = await Promise.all(ids.map((id) => b.api.get(id)));
        assert.equal(jobs.map((job) => job.status), ['done', 'done', 'failed']);
      } finally {
        await b.close();
      }
    });
  });
  });
});

test.run();

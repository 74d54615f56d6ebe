// The store contract: every backend (the job file, the in-memory store for unit tests, and later
// PostgreSQL) must pass the same suite, alone and under the ledger: reload, replace, ordering,
// merging and failures.
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Job } from '../machines/job-record.js';
import { JobLedger } from '../src/store/job-ledger.js';
import { summarize } from '../src/store/job-summary.js';
import type { JobStore } from '../src/store/job-store.js';
import { type MemoryStore, openMemoryStore } from '../src/store/memory-store.js';
import { endTornLine, openFileStore } from '../src/store/file-store.js';
import pg from 'pg';
import { MIGRATIONS, SQL } from '../src/farm/farm-sql.js';
import { openPostgresStore } from '../src/store/postgres-store.js';
import { inTransaction } from '../src/store/pg-transaction.js';
import { freshDatabase, setReadOnly } from './helpers/postgres.js';
import { startTestDaemon } from './helpers/daemon.js';
import { aJob } from './helpers/jobs.js';
import { loadWhole } from './helpers/load-whole.js';
import { withTempDir } from './helpers/temp.js';
import { until } from './helpers/wait.js';

/** The store, with `spy` told of each call of the named methods, and its arguments, before it runs. */
function spiedOn(store: JobStore, methods: readonly string[], spy: (method: string, args: unknown[]) => void): JobStore {
  return new Proxy(store, {
    get(target, key) {
      const value = Reflect.get(target, key) as unknown;
      if (typeof value !== 'function') return value;
      if (typeof key === 'string' && methods.includes(key)) return (...args: unknown[]) => (spy(key, args), (value as (...all: unknown[]) => unknown).apply(target, args));
      return (value as (...all: unknown[]) => unknown).bind(target);
    },
  });
}

interface Backend {
  open(dir: string): Promise<JobStore>;
  /** Makes the store refuse writes (true) or take them again (false). */
  refuseWrites(dir: string, refuse: boolean): void;
  /** Waits for a refuseWrites that takes effect asynchronously (a database's setting). */
  settle?: () => Promise<void>;
}

const databases = new Map<string, Awaited<ReturnType<typeof freshDatabase>>>();
const pendingChanges: Promise<void>[] = [];

// The in-memory store's records live beside it, keyed by folder, so a reopen sees them.
const memory = new Map<string, MemoryStore>();
const backends: [string, Backend][] = [
  [
    'file',
    {
      open: (dir) => openFileStore(join(dir, 'jobs.db')),
      // Root writes read-only files; an immutable file refuses even root.
      refuseWrites: (dir, refuse) =>
        process.getuid?.() === 0 ? execFileSync('chattr', [refuse ? '+i' : '-i', join(dir, 'jobs.db')]) : chmodSync(join(dir, 'jobs.db'), refuse ? 0o444 : 0o600),
    },
  ],
  [
    'postgres',
    {
      // A database of its own per test folder; a reopen finds the same one.
      open: async (dir) => {
        const database = databases.get(dir) ?? (await freshDatabase());
        databases.set(dir, database);
        return openPostgresStore(database.url);
      },
      refuseWrites: (dir, refuse) => {
        const database = databases.get(dir)!;
        pendingChanges.push(setReadOnly(database.admin, database.name, refuse));
      },
      settle: () => Promise.all(pendingChanges.splice(0)).then(() => undefined),
    },
  ],
  [
    'memory',
    {
      open: async (dir) => {
        const store = memory.get(dir)?.reopen() ?? openMemoryStore();
        memory.set(dir, store);
        return store;
      },
      refuseWrites: (dir, refuse) => memory.get(dir)!.failWrites(refuse ? new Error('EROFS: read-only file system') : null),
    },
  ],
];

for (const [name, { open, refuseWrites, settle }] of backends) {
  test(`${name}: a job put is loaded back whole after reopening`, async () => {
    await withTempDir(async (dir) => {
      const store = await open(dir.path);
      const job = aJob('a1', { env: { 'WEIRD.NAME': 'x', $HOME: 'y' }, logTail: ['one', 'two'] });
      await store.put(job);
      await store.close();
      const again = await open(dir.path);
      const { jobs, problems } = await loadWhole(again);
      assert.equal(jobs, [job]);
      assert.equal(problems, []);
      await again.close();
    });
  });

  test(`${name}: a finished job loads as its summary and reads back whole by id; an unfinished one loads whole`, async () => {
    await withTempDir(async (dir) => {
      const store = await open(dir.path);
      const finished = aJob('f1', { status: 'done', progress: 100, finishedAt: '2026-01-01T00:01:00.000Z', logTail: ['the last line'], command: ['ffmpeg', '-i', 'in.mov', 'out.mp4'] });
      const waiting = aJob('w1');
      await store.put(finished);
      await store.put(waiting);
      await store.put(aJob('gone', { status: 'failed' }));
      await store.remove('gone');
      await store.sync();
      await store.close();
      const again = await open(dir.path);
      const { active, finished: summaries, problems } = await again.load();
      assert.equal(problems, []);
      assert.equal(active, [waiting]);
      assert.equal([...summaries.values()], [summarize(finished)]);
      assert.is(summaries.get('f1')?.searchText.split('\n')[1], 'ffmpeg -i in.mov out.mp4');
      assert.equal(await again.read('f1'), finished);
      assert.equal(await again.read('w1'), waiting);
      assert.is(await again.read('gone'), undefined, 'removed');
      assert.is(await again.read('nosuch'), undefined);
      // What was put last, written or not.
      await again.put({ ...finished, status: 'queued', finishedAt: null });
      assert.is((await again.read('f1'))?.status, 'queued');
      await again.close();
    });
  });

  test(`${name}: a second put replaces the first`, async () => {
    await withTempDir(async (dir) => {
      const store = await open(dir.path);
      await store.put(aJob('a1'));
      await store.put(aJob('a1', { status: 'done', progress: 100 }));
      await store.put(aJob('b2'));
      const { jobs } = await loadWhole(store);
      assert.is(jobs.length, 2);
      assert.is(jobs.find((job) => job.id === 'a1')?.status, 'done');
      await store.close();
    });
  });
test(`${name} + ledger: a change is visible only once it is durable, and concurrent changes coalesce to the newest`, async () => {
  await withTempDir(async (dir) => {
    const store = await open(dir.path);
    const ledger = new JobLedger(store, { nowIso: () => '2026-01-01T00:00:00.000Z', onWriteError: () => undefined });
    const first = ledger.record(aJob('a1', { progress: 1 }));
    assert.is(ledger.held('a1'), undefined, 'not visible before the write');
    void ledger.record(aJob('a1', { progress: 2 }));
    void ledger.record(aJob('a1', { progress: 3 }));
    await first;
    await ledger.whenIdle();
    assert.is(ledger.held('a1')?.progress, 3);
    const { jobs } = await loadWhole(store);
    assert.is(jobs[0]?.progress, 3);
    await store.close();
  });
});

test(`${name} + ledger: changes to different jobs become durable in the order they happened`, async () => {
  await withTempDir(async (dir) => {
    const store = await open(dir.path);
    const ledger = new JobLedger(store, { nowIso: () => '2026-01-01T00:00:00.000Z', onWriteError: () => undefined });
    const order: string[] = [];
    ledger.onCommitted((job) => order.push(`${job.id}:${job.status}`));
    void ledger.record(aJob('a', { status: 'encoding' }));
    void ledger.record(aJob('a', { status: 'encoding', progress: 50 }));
    void ledger.record(aJob('a', { status: 'done' }));
    void ledger.record(aJob('b', { status: 'encoding' }));
    await ledger.whenIdle();
    // a's newest version keeps a's place in line: b never shows as started before a as done.
    assert.equal(order.slice(-2), ['a:done', 'b:encoding']);
    await store.close();
  });
});

  test(`${name} + ledger: a change of progress alone is written without a sync; a batch with any other change (the same job's too) is synced`, async () => {
    await withTempDir(async (dir) => {
      const store = await open(dir.path);
      const calls: string[] = [];
      const watched = spiedOn(store, ['sync', 'writeOut'], (method) => calls.push(method));
      // A short hold: the first report goes out when it ends, with nothing else to take it along.
      const ledger = new JobLedger(watched, { nowIso: () => '2026-01-01T00:00:00.000Z', onWriteError: () => undefined, runStateHoldMs: 20 });
      // A store that writes durably at each put (a database) has nothing to sync or write out.
      const writesAtSync = store.durablePuts !== true;
      await ledger.recordRunState(aJob('a1', { status: 'encoding', progress: 10 }));
      assert.equal(calls.splice(0), writesAtSync ? [store.writeOut ? 'writeOut' : 'sync'] : []);
      assert.is(ledger.held('a1')?.progress, 10, 'visible once written');
      assert.is((await store.read('a1'))?.progress, 10, 'in the store');
      void ledger.recordRunState(aJob('a1', { status: 'encoding', progress: 20 }));
      void ledger.record(aJob('b1', { status: 'encoding' }));
      await ledger.whenIdle();
      // The progress may go out in a batch of its own before b1 is queued; b1's batch is synced.
      assert.is(calls.splice(0).at(-1), writesAtSync ? 'sync' : undefined, "synced with another job's change");
      // Progress waiting (behind a batch under way), then the same job's transition: one entry,
      // the newest version, synced.
      void ledger.record(aJob('c1', { status: 'queued' }));
      void ledger.recordRunState(aJob('a1', { status: 'encoding', progress: 30 }));
      const done = ledger.record(aJob('a1', { status: 'done', progress: 100 }));
      await done;
      await ledger.whenIdle();
      assert.equal(calls, writesAtSync ? ['sync', 'sync'] : []);
      await store.close();
      const again = await open(dir.path);
      const { jobs } = await loadWhole(again);
      assert.equal(jobs.map((job) => [job.id, job.status, job.progress]).sort(), [['a1', 'done', 100], ['b1', 'encoding', 0], ['c1', 'queued', 0]]);
      await again.close();
    });
  });

  test(`${name} + ledger: progress alone is held for the next batch: each job's newest report written once, in order with the other changes`, async () => {
    await withTempDir(async (dir) => {
      const store = await open(dir.path);
      const puts: string[] = [];
      const watched = spiedOn(store, ['put'], (_method, [job]) => puts.push(`${(job as Job).id}:${(job as Job).status}:${(job as Job).progress}`));
      // A hold no test outlasts: only another change or whenIdle can end it.
      const ledger = new JobLedger(watched, { nowIso: () => '2026-01-01T00:00:00.000Z', onWriteError: () => undefined, runStateHoldMs: 60_000 });
      const order: string[] = [];
      ledger.onCommitted((job) => order.push(`${job.id}:${job.progress}`));
      const first = ledger.recordRunState(aJob('a', { status: 'encoding', progress: 10 }));
      const second = ledger.recordRunState(aJob('a', { status: 'encoding', progress: 20 }));
      void ledger.recordRunState(aJob('b', { status: 'encoding', progress: 5 }));
      assert.is(ledger.latest('a')?.progress, 20, 'the held report is the newest the daemon has');
      assert.equal(puts, [], 'nothing written while held');
      // Another job's transition takes the held reports with it, ahead of itself.
      await ledger.record(aJob('c', { status: 'queued' }));
      await Promise.all([first, second]);
      assert.equal(puts, ['a:encoding:20', 'b:encoding:5', 'c:queued:0']);
      assert.equal(order, ['a:20', 'b:5', 'c:0']);
      // The same job's transition takes the place of its held report; whenIdle ends a hold at once.
      void ledger.recordRunState(aJob('a', { status: 'encoding', progress: 30 }));
      void ledger.record(aJob('a', { status: 'done', progress: 100 }));
      void ledger.recordRunState(aJob('b', { status: 'encoding', progress: 50 }));
      await ledger.whenIdle();
      assert.equal(puts.slice(3), ['a:done:100', 'b:encoding:50']);
      await store.close();
      const again = await open(dir.path);
      const { jobs } = await loadWhole(again);
      assert.equal(jobs.map((job) => [job.id, job.status, job.progress]).sort(), [['a', 'done', 100], ['b', 'encoding', 50], ['c', 'queued', 0]]);
      await again.close();
    });
  });

  test(`${name} + ledger: a client's change the store refuses is rejected and kept nowhere; the daemon's own is retried until stored`, async () => {
    await withTempDir(async (dir) => {
      const store = await open(dir.path);
      await store.put(aJob('kept'));
      const errors: unknown[] = [];
      // What the ledger says of the store each time a retry is made durable: a put that succeeds
      // (the job file only holds it until the sync) does not make the store writable.
      const failureAtSync: (string | null)[] = [];
      const watched = spiedOn(store, ['sync'], () => failureAtSync.push(ledger.failure?.message ?? null));
      const ledger: JobLedger = new JobLedger(watched, { nowIso: () => '2026-01-01T00:00:00.000Z', onWriteError: (_job, error) => errors.push(error), retryMs: 20 });
      refuseWrites(dir.path, true);
      await settle?.();
      await ledger.tryRecord(aJob('refused')).then(
        () => assert.unreachable('a refused write was accepted'),
        (error: Error) => assert.match(error.message, /EACCES|EPERM|EROFS|read-only transaction/),
      );
      assert.ok(ledger.failure, 'the failure is known');
      const syncsBefore = failureAtSync.length;
      const daemonChange = ledger.record(aJob('kept', { status: 'done' }));
      await until(() => errors.length >= 3, 'retries while the store refuses');
      assert.ok(ledger.failure, 'still known between retries');
      assert.not.ok(failureAtSync.slice(syncsBefore).includes(null), 'known at every retry, until one is durable');
      refuseWrites(dir.path, false);
      await settle?.();
      await daemonChange;
      assert.is(ledger.failure, null, 'writable again');
      assert.ok(errors.length >= 2);
      await store.close();
      const again = await open(dir.path);
      const { jobs } = await loadWhole(again);
      assert.equal(jobs.map((job) => [job.id, job.status]), [['kept', 'done']], 'the refused job is nowhere, the retried change is stored');
      await again.close();
    });
  });

}

test('postgres: a start reads finished jobs as their summaries (paths mapped); a row whose fields do not hold is read whole, and set aside when it is not a job', async () => {
  const database = await freshDatabase();
  try {
    const maps = [{ farm: '/farm/media', local: '/mnt/nas' }];
    const store = await openPostgresStore(database.url, { pathMaps: maps });
    const done = aJob('d1', { status: 'done', progress: 100, finishedAt: '2026-01-01T00:01:00.000Z', output: '/mnt/nas/out/d1.mp4', command: ['ffmpeg', '-i', '/mnt/nas/in.mov', '/mnt/nas/out/d1.mp4'] });
    const failed = aJob('f1', { status: 'failed', finishedAt: null, updatedAt: '2026-01-01T00:02:00.000Z', clientId: 'web-7', priority: -3 });
    await store.put(done);
    await store.put(failed);
    await store.close();
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    // Written by hand, as a damaged or foreign row would be: the status column says finished.
    const insert = (id: string, record: unknown) => client.query(`INSERT INTO encsup_jobs (id, status, record, seq) VALUES ($1, 'done', $2, nextval('encsup_jobs_seq'))`, [id, JSON.stringify(record)]);
    await insert('back', aJob('back', { status: 'queued' }));
    await insert('bad', { ...aJob('bad', { status: 'done' }), priority: 'high' });
    await insert('other', aJob('someone-else', { status: 'done' }));
    await client.end();
    const again = await openPostgresStore(database.url, { pathMaps: maps });
    const { active, finished, problems } = await again.load();
    assert.equal([...finished.keys()].sort(), ['d1', 'f1']);
    assert.equal(finished.get('d1'), summarize(done), 'the summary the whole record gives, with this host\'s paths');
    assert.equal(finished.get('f1'), summarize(failed));
    assert.equal(active.map((job) => job.id), ['back'], 'its record says queued: it is read whole and runs');
    assert.equal(problems.length, 2);
    assert.ok(problems.some((problem) => problem.startsWith('job bad:')) && problems.some((problem) => problem.startsWith('job other:')), problems.join('; '));
    assert.equal(await again.read('d1'), done);
    await again.close();
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    const { rows } = await admin.query<{ id: string }>('SELECT id FROM encsup_quarantine ORDER BY id');
    assert.equal(rows.map((row) => row.id), ['bad', 'other']);
    // A record that is no object at all: its summary fields are nulls, so it is read whole, and set aside.
    await admin.query(`INSERT INTO encsup_jobs (id, status, record, seq) VALUES ('text', 'done', '"just text"', nextval('encsup_jobs_seq'))`);
    const third = await openPostgresStore(database.url, { pathMaps: maps });
    const reloaded = await third.load();
    assert.equal([...reloaded.finished.keys()].sort(), ['d1', 'f1']);
    assert.equal(reloaded.finished.get('d1'), summarize(done));
    assert.equal(reloaded.active.map((job) => job.id), ['back']);
    assert.equal(reloaded.problems.map((problem) => problem.split(':')[0]), ['job text']);
    await third.close();
    await admin.end();
  } finally {
    await database.drop();
  }
});

test('postgres: a farm database made before the summary column gets it from its rows at the next start, and loads from it', async () => {
  const database = await freshDatabase();
  try {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    // The schema as the previous version left it (migrations 1 and 2), with a job it finished.
    await client.query('CREATE TABLE encsup_schema_migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    for (const [version, sql] of MIGRATIONS.filter(([version]) => version < 3)) {
      await client.query(sql);
      await client.query('INSERT INTO encsup_schema_migrations (version) VALUES ($1)', [version]);
    }
    const done = aJob('old-done', { status: 'done', progress: 100, finishedAt: '2026-01-01T00:01:00.000Z' });
    await client.query(`INSERT INTO encsup_jobs (id, status, record, seq) VALUES ($1, 'done', $2, nextval('encsup_jobs_seq'))`, [done.id, JSON.stringify(done)]);
    const store = await openPostgresStore(database.url);
    const { finished, problems } = await store.load();
    assert.equal(problems, []);
    assert.equal(finished.get('old-done'), summarize(done));
    await store.close();
    const { rows } = await client.query<{ summary: unknown[] }>(`SELECT summary FROM encsup_jobs WHERE id = 'old-done'`);
    assert.is(rows[0]!.summary[0], 'old-done', 'the column was filled from the record');
    await client.end();
  } finally {
    await database.drop();
  }
});

test('postgres: a start reads the unfinished jobs through an index, not every finished row; one with a status no version knows is still read, and set aside', async () => {
  const database = await freshDatabase();
  const client = new pg.Client({ connectionString: database.url });
  try {
    await (await openPostgresStore(database.url)).close(); // its tables, every migration applied
    await client.connect();
    const done = aJob('old', { status: 'done', progress: 100, finishedAt: '2026-01-01T00:01:00.000Z' });
    await client.query(
      `INSERT INTO encsup_jobs (id, status, record, seq) SELECT 'old' || n, 'done', jsonb_set($1::jsonb, '{id}', to_jsonb('old' || n)), nextval('encsup_jobs_seq') FROM generate_series(1, 20000) AS n`,
      [JSON.stringify(done)],
    );
    const waiting = aJob('waiting');
    const paused = { ...aJob('paused'), status: 'paused' };
    for (const job of [waiting, paused]) await client.query(`INSERT INTO encsup_jobs (id, status, record, seq) VALUES ($1, $2, $3, nextval('encsup_jobs_seq'))`, [job.id, job.status, JSON.stringify(job)]);
    await client.query('ANALYZE encsup_jobs');
    const { rows } = await client.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${SQL.loadActive}`);
    const plan = JSON.stringify(rows[0]!['QUERY PLAN']);
    assert.ok(plan.includes('"Index Name":"encsup_jobs_unfinished"'), `the read of the unfinished jobs goes through their index: ${plan}`);
    const store = await openPostgresStore(database.url);
    try {
      const { active, finished, problems } = await store.load();
      assert.equal(active.map((job) => job.id), ['waiting']);
      assert.is(finished.size, 20000);
      assert.equal(problems.map((problem) => problem.split(':')[0]), ['job paused']);
    } finally {
      await store.close();
    }
  } finally {
    await client.end();
    await database.drop();
  }
});

test('postgres: a transaction whose connection the server ends between two of its statements fails, and the daemon goes on', async () => {
  const database = await freshDatabase();
  const pool = new pg.Pool({ connectionString: database.url });
  const admin = new pg.Client({ connectionString: database.admin });
  await admin.connect();
  try {
    const outcome = await inTransaction(pool, async (client) => {
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const ended = new Promise((resolve) => client.once('end', resolve));
      // Ended while this transaction runs no statement (a restart, an operator): pg tells it as an
      // 'error' event of the client, which nothing but the transaction is there to hear.
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      await ended;
      await client.query('SELECT 1');
    }).then(
      () => 'committed',
      (error: Error) => `failed: ${error.message}`,
    );
    assert.match(outcome, /^failed: /);
    // The pool gave up that connection: the next transaction gets a working one.
    assert.is(await inTransaction(pool, async (client) => (await client.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one), 1);
  } finally {
    await admin.end();
    await pool.end();
    await database.drop();
  }
});

test('postgres + ledger: a change is visible once its own transaction commits, not only once the rest of its batch is written', async () => {
  const database = await freshDatabase();
  const store = await openPostgresStore(database.url);
  const locker = new pg.Client({ connectionString: database.url });
  await locker.connect();
  try {
    const ledger = new JobLedger(store, { nowIso: () => '2026-01-01T00:00:00.000Z', onWriteError: () => undefined });
    await ledger.record(aJob('held-back'));
    // Another session holds held-back's row: a write of it waits for that session to end.
    await locker.query('BEGIN');
    await locker.query('SELECT id FROM encsup_jobs WHERE id = $1 FOR UPDATE', ['held-back']);
    // The first write drains alone; the next two wait for it and go out as one batch, in order.
    void ledger.record(aJob('first'));
    void ledger.record(aJob('second'));
    const blocked = ledger.record(aJob('held-back', { progress: 50 }));
    await until(() => ledger.held('second'), 'second to be visible while the rest of its batch waits', 10_000);
    assert.is(ledger.held('held-back')?.progress, aJob('held-back').progress, 'the blocked change is not visible yet');
    await locker.query('COMMIT');
    await blocked;
    assert.is(ledger.held('held-back')?.progress, 50);
  } finally {
    await locker.end();
    await store.close();
    await database.drop();
  }
});

test('job file: a record written by the previous version loads under the new field names', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir.path, 'jobs.db');
    const { attemptsBeforeManualRetry: _a, progressUpdates: _p, pass: _pass, passes: _passes, ...current } = aJob('old', { status: 'done', progress: 100 });
    const old = { ...current, attemptsBeforeRetry: 2, progressWrites: 17 };
    writeFileSync(file, `${JSON.stringify({ _id: 'old', status: 'done', json: JSON.stringify(old) })}\n`);
    const store = await openFileStore(file);
    const { jobs, problems } = await loadWhole(store);
    assert.equal(problems, []);
    assert.equal([jobs[0]!.attemptsBeforeManualRetry, jobs[0]!.progressUpdates, jobs[0]!.pass, jobs[0]!.passes], [2, 17, null, null]);
    assert.not.ok('attemptsBeforeRetry' in jobs[0]!);
    await store.close();
  });
});

test('job file: records that are not jobs are set aside in quarantine.jsonl with the reason; the rest load, and a start does not stop', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir.path, 'jobs.db');
    const line = (id: string, json: string) => `${JSON.stringify({ _id: id, status: 'queued', json })}\n`;
    writeFileSync(
      file,
      line('good', JSON.stringify(aJob('good'))) +
        line('x', JSON.stringify({ id: 'x', status: 'queued' })) +
        line('badstatus', JSON.stringify({ ...aJob('badstatus'), status: 'running?' })) +
        line('badpid', JSON.stringify({ ...aJob('badpid'), pid: -1 })) +
        line('nojson', '{"id": "nojson", ') +
        line('number', '5'),
    );
    const store = await openFileStore(file);
    const { jobs, problems } = await loadWhole(store);
    assert.equal(jobs.map((job) => job.id), ['good']);
    assert.is(problems.length, 5);
    assert.ok(problems.some((problem) => /^job x: name: /.test(problem)), problems.join('\n'));
    assert.ok(problems.some((problem) => /^job badstatus: status: /.test(problem)));
    assert.ok(problems.some((problem) => /^job badpid: pid: /.test(problem)));
    assert.ok(problems.every((problem) => problem.includes('quarantine.jsonl')));
    await store.close();
    const quarantined = readFileSync(join(dir.path, 'quarantine.jsonl'), 'utf8').trim().split('\n').map((each) => JSON.parse(each) as { id: string; reason: string; record: string });
    assert.equal(quarantined.map((each) => each.id).sort(), ['badpid', 'badstatus', 'nojson', 'number', 'x']);
    assert.is(JSON.parse(quarantined.find((each) => each.id === 'x')!.record).id, 'x', 'the record is kept as it was');
    // Set aside once: the next start loads the good job and reports nothing.
    const again = await openFileStore(file);
    assert.equal(await loadWhole(again), { jobs: (await loadWhole(again)).jobs, problems: [] });
    await again.close();
    // The daemon starts on such a folder, and /healthz says what it set aside.
    writeFileSync(file, line('good', JSON.stringify(aJob('good', { status: 'done', progress: 100 }))) + line('x', JSON.stringify({ id: 'x', status: 'queued' })));
    const daemon = await startTestDaemon(dir.path);
    try {
      const health = (await (await fetch(`${daemon.url}/healthz`)).json()) as { store: { problemsAtLoad: number } };
      assert.is(health.store.problemsAtLoad, 1);
      assert.is((await daemon.api.get('good')).id, 'good');
    } finally {
      await daemon.close();
    }
  });
});

test('daemon: after a restart, finished jobs are listed and searched from their summaries and read whole when asked; one whose record is damaged is set aside when read, and leaves the listing', async () => {
  await withTempDir(async (dir) => {
    let daemon = await startTestDaemon(dir.path);
    const ids: string[] = [];
    try {
      for (const name of ['first poster', 'second poster']) ids.push((await daemon.api.submit({ command: ['sh', '-c', `echo made ${name}`], name, validate: false })).id);
      // Failed: a start reads no failed job's record (it learns run times from the latest done ones).
      for (const name of ['trailer', 'teaser']) ids.push((await daemon.api.submit({ command: ['sh', '-c', `echo made ${name}; exit 3`], name, validate: false, maxAttempts: 1 })).id);
      for (const id of ids) await until(async () => ['done', 'failed'].includes((await daemon.api.get(id)).status), `job ${id} to end`);
    } finally {
      await daemon.close();
    }
    // The third job's record damaged where a start does not read it: after its summary.
    const file = join(dir.path, 'jobs.db');
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const at = lines.findLastIndex((line) => line.includes(`"_id":"${ids[2]}"`));
    assert.ok(lines[at]!.includes('"summary":['), 'a finished job\'s line carries its summary');
    lines[at] = lines[at]!.replace(/"json":".*"\}$/, '"json":"{\\"id\\":\\"cut"}');
    writeFileSync(file, `${lines.join('\n')}\n`);
    daemon = await startTestDaemon(dir.path);
    try {
      const health = (await (await fetch(`${daemon.url}/healthz`)).json()) as { store: { problemsAtLoad: number } };
      assert.is(health.store.problemsAtLoad, 0, 'nothing read at start is damaged');
      const page = await daemon.api.page({ q: 'poster' });
      assert.equal(page.jobs.map((job) => job.name).sort(), ['first poster', 'second poster']);
      assert.ok(page.jobs.every((job) => job.logTail.some((line) => line.startsWith('made'))), 'whole records, read from the store');
      assert.equal([page.counts.done, page.counts.failed], [2, 2]);
      const whole = await daemon.api.get(ids[0]!);
      assert.equal([whole.status, whole.logTail], ['done', ['made first poster']]);
      await daemon.api.get(ids[2]!).then(
        () => assert.unreachable('a damaged record was served'),
        (error: Error) => assert.match(error.message, ids[2]!),
      );
      assert.is((await daemon.api.page()).counts.failed, 1, 'set aside: no longer listed');
      assert.match(readFileSync(join(dir.path, 'quarantine.jsonl'), 'utf8'), ids[2]!);
      // A finished job read whole can be retried, and runs again.
      await daemon.api.retry(ids[3]!);
      await until(async () => {
        const job = await daemon.api.get(ids[3]!);
        return job.attempts === 2 && job.status === 'failed';
      }, 'the retry to run');
    } finally {
      await daemon.close();
    }
  });
});

test('job file: a line cut off by a crash is ended before the next record, so that record is not glued to it and lost', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir.path, 'jobs.db');
    const store = await openFileStore(file);
    await store.put(aJob('a1'));
    await store.sync();
    // What a write cut short by a power cut leaves: part of a line, no newline.
    appendFileSync(file, '{"_id":"b2","status":"que');
    await endTornLine(file);
    await endTornLine(file);
    assert.ok(readFileSync(file, 'utf8').endsWith('"que\n'), 'ended once, however often asked');
    await store.put(aJob('c3'));
    await store.sync();
    // Read as a start after a power cut would (no compaction at close to tidy the file first).
    const again = await openFileStore(file);
    const { jobs, problems } = await loadWhole(again);
    assert.equal(jobs.map((job) => job.id).sort(), ['a1', 'c3'], 'the record after the cut-off line loads');
    assert.is(problems.length, 1);
    await again.close();
    await store.close();
  });
});

test('job file: a file cut off in the middle of its last line still loads every complete record', async () => {
  await withTempDir(async (dir) => {
    const store = await openFileStore(join(dir.path, 'jobs.db'));
    await store.put(aJob('a1'));
    await store.put(aJob('b2'));
    await store.close();
    const file = join(dir.path, 'jobs.db');
    appendFileSync(file, readFileSync(file, 'utf8').split('\n')[0]!.slice(0, 40));
    const again = await openFileStore(file);
    const { jobs, problems } = await loadWhole(again);
    assert.equal(jobs.map((job) => job.id).sort(), ['a1', 'b2']);
    assert.is(problems.length, 1);
    assert.match(problems[0]!, 'line 3 could not be read');
    await again.close();
  });
});

test('ledger: a failed write is retried until the store takes it, and nothing is dropped', async () => {
  let failures = 2;
  const saved: string[] = [];
  const flaky: JobStore = {
    load: async () => ({ active: [], finished: new Map(), problems: [] }),
    read: async () => undefined,
    put: async (job) => {
      if (failures-- > 0) throw new Error('disk full');
      saved.push(job.id);
    },
    sync: async () => undefined,
    remove: async () => undefined,
    checkWritable: async () => {
      if (failures > 0) throw new Error('disk full');
    },
    close: async () => undefined,
  };
  const errors: string[] = [];
  const ledger = new JobLedger(flaky, { nowIso: () => 'now', onWriteError: (_job, error) => errors.push(String(error)), retryMs: 5 });
  await ledger.record(aJob('a1'));
  assert.equal(saved, ['a1']);
  assert.is(errors.length, 2);
  assert.is(ledger.held('a1')?.id, 'a1');
});

test.after(async () => {
  for (const database of databases.values()) await database.drop();
});

test.run();

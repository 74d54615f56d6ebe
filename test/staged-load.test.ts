// A store that reads its finished jobs apart (the job file's second pass, PostgreSQL's cursor: a
// hundred thousand finished jobs): the daemon recovers and runs the unfinished ones and serves at
// once; what needs every job (listing, a submission's client id, metrics) waits until the finished
// ones have been read, then sees them.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import pg from 'pg';
import { openFileStore } from '../src/store/file-store.js';
import { recordLine } from '../src/store/job-file.js';
import type { JobStore, LoadedJobs, StagedLoad } from '../src/store/job-store.js';
import type { Job } from '../machines/job-record.js';
import { JobLedger } from '../src/store/job-ledger.js';
import { summarize } from '../src/store/job-summary.js';
import { openMemoryStore } from '../src/store/memory-store.js';
import { openPostgresStore } from '../src/store/postgres-store.js';
import { FarmFeed } from '../src/farm/farm-feed.js';
import { silentLogger } from '../src/logger.js';
import type { Page } from '../src/api/client.js';
import { startTestDaemon, waitForStatus } from './helpers/daemon.js';
import { aJob } from './helpers/jobs.js';
import { freshDatabase } from './helpers/postgres.js';
import { withTempDir } from './helpers/temp.js';
import { until } from './helpers/wait.js';

test('postgres: a staged load gives the unfinished jobs, then the finished ones; together they are the whole load, and the change feed starts from the newest seq', async () => {
  const database = await freshDatabase();
  try {
    const store = await openPostgresStore(database.url);
    const queued = aJob('q1', { status: 'queued' });
    const done = aJob('d1', { status: 'done', progress: 100, finishedAt: '2026-01-01T00:01:00.000Z' });
    const failed = aJob('f1', { status: 'failed', finishedAt: '2026-01-01T00:02:00.000Z', clientId: 'web-7' });
    for (const job of [queued, done, failed]) await store.put(job);
    await store.close();
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    // Its status column says done, its record queued: the record decides, in whichever part reads it.
    await client.query(`INSERT INTO encsup_jobs (id, status, record, seq) VALUES ('back', 'done', $1, nextval('encsup_jobs_seq'))`, [JSON.stringify(aJob('back', { status: 'queued' }))]);
    const { rows } = await client.query<{ top: string }>('SELECT max(seq)::text AS top FROM encsup_jobs');
    await client.end();

    const again = await openPostgresStore(database.url);
    try {
      assert.is(again.loadedUpTo, 0n, 'nothing read yet');
      const active = await again.staged.active();
      assert.equal(active.active.map((job) => job.id), ['q1']);
      assert.is(active.finished.size, 0);
      assert.is(again.loadedUpTo, BigInt(rows[0]!.top));
      assert.not.ok(again.seqs.has('d1'), 'the finished are not read yet');
      const finished = await again.staged.finished();
      assert.equal([...finished.finished.keys()].sort(), ['d1', 'f1']);
      assert.equal(finished.finished.get('f1'), summarize(failed));
      assert.equal(finished.active.map((job) => job.id), ['back']);
      assert.ok(['q1', 'd1', 'f1', 'back'].every((id) => again.seqs.has(id)));
      const whole = await again.load();
      assert.equal(whole.active.map((job) => job.id).sort(), ['back', 'q1']);
      assert.equal([...whole.finished.keys()].sort(), ['d1', 'f1']);
    } finally {
      await again.close();
    }
  } finally {
    await database.drop();
  }
});

test('job file: a staged load gives the unfinished jobs and the unreadable lines, then the finished ones from a second pass; together they are the whole load', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir.path, 'jobs.db');
    const store = await openFileStore(path);
    const queued = aJob('q1', { status: 'queued' });
    const done = aJob('d1', { status: 'done', progress: 100, finishedAt: '2026-01-01T00:01:00.000Z' });
    const failed = aJob('f1', { status: 'failed', finishedAt: '2026-01-01T00:02:00.000Z', clientId: 'web-7' });
    for (const job of [queued, done, failed, aJob('gone', { status: 'done' })]) await store.put(job);
    await store.remove('gone');
    await store.sync();
    await store.close();
    const old = aJob('old', { status: 'done', finishedAt: '2026-01-01T00:03:00.000Z' });
    // A line an earlier version wrote (no summary: read whole), one whose status column says done
    // and record queued (the record decides), one of a status no version knows, and a torn line.
    appendFileSync(path, `${recordLine('old', 'done', JSON.stringify(old))}\n${recordLine('back', 'done', JSON.stringify(aJob('back', { status: 'queued' })))}\n`);
    appendFileSync(path, `${recordLine('odd', 'paused', JSON.stringify({ ...aJob('odd'), status: 'paused' }))}\n{"_id":"torn","sta\n`);

    const again = await openFileStore(path);
    try {
      assert.ok(again.staged, 'the job file loads in two parts');
      const active = await again.staged!.active();
      assert.equal(active.active.map((job) => job.id), ['q1']);
      assert.is(active.finished.size, 0);
      assert.equal(active.problems.length, 2, active.problems.join('\n'));
      assert.match(active.problems.join('\n'), /line \d+ could not be read/, active.problems.join('\n'));
      assert.match(active.problems.join('\n'), /job odd: /);
      const finished = await again.staged!.finished();
      assert.equal([...finished.finished.keys()].sort(), ['d1', 'f1', 'old']);
      assert.equal(finished.finished.get('f1'), summarize(failed));
      assert.equal(finished.finished.get('old'), summarize(old));
      assert.equal(finished.active.map((job) => job.id), ['back']);
      assert.equal(finished.problems, []);
    } finally {
      await again.close();
    }
    // The same file loaded at once: both parts.
    const third = await openFileStore(path);
    try {
      const whole = await third.load();
      assert.equal(whole.active.map((job) => job.id).sort(), ['back', 'q1']);
      assert.equal([...whole.finished.keys()].sort(), ['d1', 'f1', 'old']);
    } finally {
      await third.close();
    }
  });
});

/** A job file of `count` finished jobs, each written twice, as the store writes them: a start's next sync rewrites it. */
function fileOfFinishedJobs(path: string, count: number, finishedJob: (id: string) => Job): void {
  const lines: string[] = [];
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < count; i++) {
      const job = finishedJob(`d${i}`);
      lines.push(recordLine(job.id, job.status, JSON.stringify(job), summarize(job)));
    }
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

test('job file: what changes while the finished jobs are read is left to the writer, whether the file\'s rewrite starts before that pass or while it runs', async () => {
  await withTempDir(async (dir) => {
    const finishedJob = (id: string) => aJob(id, { status: 'done', progress: 100, finishedAt: '2026-01-01T00:01:00.000Z' });
    for (const first of ['the pass', 'the rewrite'] as const) {
      const path = join(dir.path, `${first === 'the pass' ? 'pass' : 'rewrite'}-first.db`);
      fileOfFinishedJobs(path, 30_000, finishedJob);
      const lines = readFileSync(path, 'utf8').split('\n').length;
      // No fsyncs: the rewrite then runs beside the pass instead of long after it (they wait for
      // each other, as the pass finds lines by their offsets).
      const store = await openFileStore(path, { durable: false });
      try {
        await store.staged!.active();
        let reading: Promise<LoadedJobs> | null = first === 'the pass' ? store.staged!.finished() : null;
        // A retry, a removal and a new job, synced: the sync starts the rewrite.
        await store.put(aJob('d1', { status: 'queued' }));
        await store.remove('d2');
        await store.put(aJob('new', { status: 'queued' }));
        await store.sync();
        reading ??= store.staged!.finished();
        const finished = await reading;
        assert.is(finished.finished.size, 29_998, `${first} first: every finished job but the two changed meanwhile`);
        assert.not.ok(finished.finished.has('d1') || finished.finished.has('d2') || finished.finished.has('new'));
        assert.equal(finished.finished.get('d29999'), summarize(finishedJob('d29999')));
        assert.equal(await store.read('d1'), aJob('d1', { status: 'queued' }));
        assert.equal(await store.read('d3'), finishedJob('d3'));
        assert.is(await store.read('d2'), undefined);
        await store.sync();
        await until(() => readFileSync(path, 'utf8').split('\n').length < lines * 0.6, `the file to be rewritten (${first} first)`, 20_000);
      } finally {
        await store.close();
      }
    }
  });
});

test('ledger: finished jobs adopted late join the book unless it learned newer meanwhile (a change, a removal), and waiters learn it is whole', async () => {
  const store = openMemoryStore();
  const ledger = new JobLedger(store, { nowIso: () => '2026-01-01T00:00:00.000Z', onWriteError: () => undefined });
  ledger.expectFinished();
  assert.not.ok(ledger.whole);
  let whole = false;
  const waiting = ledger.whenWhole().then(() => (whole = true));
  ledger.adopt([aJob('running', { status: 'encoding' })], new Map());
  // Meanwhile: one job retried (now queued), one finished here, one removed by another host.
  await ledger.record(aJob('retried', { status: 'queued' }));
  await ledger.record(aJob('fresh', { status: 'done', name: 'finished here' }));
  ledger.drop('gone');
  const old = (id: string, name = 'read at start') => aJob(id, { status: 'done', name, finishedAt: '2025-12-31T00:00:00.000Z' });
  assert.not.ok(whole);
  ledger.adoptFinished({
    active: [aJob('late', { status: 'queued' })],
    finished: new Map(['retried', 'fresh', 'gone', 'kept'].map((id) => [id, summarize(old(id))])),
  });
  await waiting;
  assert.ok(ledger.whole);
  const byId = new Map(ledger.list().map((summary) => [summary.id, summary]));
  assert.equal([...byId.keys()].sort(), ['fresh', 'kept', 'late', 'retried', 'running']);
  assert.is(byId.get('retried')!.status, 'queued', 'the newer change stays');
  assert.ok(byId.get('fresh')!.searchText.startsWith('finished here'), 'the newer summary stays');
  assert.is(byId.get('kept')!.status, 'done');
  assert.is(ledger.counts().done, 2);
});

test('ledger: while the finished jobs are being read, a job not in the book yet is read from the store', async () => {
  const store = openMemoryStore();
  const done = aJob('old', { status: 'done', finishedAt: '2025-12-31T00:00:00.000Z' });
  await store.put(done);
  const ledger = new JobLedger(store, { nowIso: () => '2026-01-01T00:00:00.000Z', onWriteError: () => undefined });
  ledger.expectFinished();
  ledger.adopt([], new Map());
  assert.equal(await ledger.read('old'), done);
  assert.is(await ledger.read('none'), undefined);
});

/** The job file, with its load in two parts: the finished jobs once `gate` opens, after `failures` failed reads. */
function stagedFileStore(gate: Promise<void>, failures = 0): (path: string) => Promise<JobStore> {
  let reads = 0;
  return async (path) => {
    const store = await openFileStore(path);
    const staged: StagedLoad = {
      active: async () => ({ ...(await store.load()), finished: new Map() }),
      finished: async () => {
        await gate;
        if (++reads <= failures) throw new Error('Connection terminated unexpectedly');
        return { ...(await store.load()), active: [] };
      },
    };
    return { ...store, staged };
  };
}

test('daemon: with finished jobs still being read, it serves and runs the waiting jobs; listing and a submission by client id wait, then see every job', async () => {
  await withTempDir(async (dir) => {
    let daemon = await startTestDaemon(dir.path);
    let first: string;
    let waitingId: string;
    try {
      first = (await daemon.api.submit({ command: ['sh', '-c', 'echo one'], name: 'one', clientId: 'web-1', validate: false })).id;
      await waitForStatus(daemon.api, first, ['done']);
      // Left waiting in line by a paused queue; the next start runs it.
      await daemon.api.pause();
      // It runs on until the test lets it end, so the test can watch it end.
      const go = `${dir.path}/go`;
      waitingId = (await daemon.api.submit({ command: ['sh', '-c', `while [ ! -e ${go} ]; do sleep 0.02; done; echo two`], name: 'two', validate: false })).id;
    } finally {
      await daemon.close();
    }
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    daemon = await startTestDaemon(dir.path, {}, { openStore: stagedFileStore(gate) });
    try {
      assert.is((await fetch(`${daemon.url}/healthz`)).status, 200, 'healthy before the finished jobs are read');
      let listed = false;
      const listing = daemon.api.page().then((page) => ((listed = true), page));
      listing.catch(() => undefined);
      let replayedAnswer = false;
      const again = daemon.api.submit({ command: ['sh', '-c', 'echo one'], name: 'one', clientId: 'web-1', validate: false }).then((job) => ((replayedAnswer = true), job));
      again.catch(() => undefined);
      // The waiting job runs to its end meanwhile, seen on the event stream (which does not wait).
      const ended = new AbortController();
      let doneSeen = false;
      void daemon.api
        .events(waitingId, (event) => {
          if (event.type === 'lifecycle' && event.event.kind === 'done') doneSeen = true;
          return doneSeen;
        }, ended.signal, async () => writeFileSync(`${dir.path}/go`, ''))
        .catch(() => undefined);
      await until(async () => doneSeen, 'the waiting job to run before the finished jobs are read');
      ended.abort();
      assert.not.ok(listed, 'the listing waits for every job');
      assert.not.ok(replayedAnswer, 'a submission by client id waits for every job');
      open();
      let answered: Page | null = null;
      void listing.then((page) => (answered = page), () => undefined);
      const page = await until(() => answered, 'the listing, once the finished jobs are in');
      assert.equal(page.jobs.map((job) => job.name).sort(), ['one', 'two']);
      assert.is(page.counts.done, 2);
      assert.is((await again).id, first, 'the client id of a job read late is known: no second job');
      assert.is((await daemon.api.page()).jobs.length, 2);
    } finally {
      open();
      await daemon.close();
    }
  });
});

test('farm feed: when it connects, the jobs of the book whose rows are gone (removed while it did not listen) leave the book; the rest stay', async () => {
  const database = await freshDatabase();
  const store = await openPostgresStore(database.url);
  try {
    for (const id of ['kept', 'gone', 'running']) await store.put(aJob(id, id === 'running' ? { status: 'encoding' } : { status: 'done', finishedAt: '2026-01-01T00:01:00.000Z' }));
    const ledger = new JobLedger(store, { nowIso: () => '2026-01-01T00:00:00.000Z', onWriteError: () => undefined });
    const loaded = await store.load();
    ledger.adopt(loaded.active, loaded.finished);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query(`DELETE FROM encsup_jobs WHERE id = 'gone'`);
    await client.end();
    const feed = new FarmFeed({ store, ledger, log: silentLogger, onJob: () => undefined, onLive: () => undefined, onCancelRequested: () => undefined, onWaiting: () => undefined });
    await feed.start();
    try {
      assert.equal(ledger.list().map((job) => job.id).sort(), ['kept', 'running']);
      assert.not.ok(store.seqs.has('gone'));
    } finally {
      await feed.stop();
    }
  } finally {
    await store.close();
    await database.drop();
  }
});

test('daemon: a read of the finished jobs that fails is tried again, and what waits for them is answered once one succeeds', async () => {
  await withTempDir(async (dir) => {
    let daemon = await startTestDaemon(dir.path);
    let id: string;
    try {
      id = (await daemon.api.submit({ command: ['sh', '-c', 'echo one'], name: 'one', validate: false })).id;
      await waitForStatus(daemon.api, id, ['done']);
    } finally {
      await daemon.close();
    }
    daemon = await startTestDaemon(dir.path, {}, { openStore: stagedFileStore(Promise.resolve(), 1) });
    try {
      let answered: Page | null = null;
      // Unanswered when the test fails: the daemon's close ends it.
      void daemon.api.page().then((page) => (answered = page), () => undefined);
      const page = await until(() => answered, 'the listing, once a read of the finished jobs succeeds');
      assert.equal(page.jobs.map((job) => job.id), [id]);
      assert.is((await daemon.api.get(id)).status, 'done');
    } finally {
      await daemon.close();
    }
  });
});

test.run();

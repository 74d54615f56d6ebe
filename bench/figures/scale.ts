// 6. Scale: a store of many jobs (100,000; 10,000 with --quick) against one of 1,000: daemon start
// time, the time to its first listing and resident memory once every job is in (a real daemon
// process: it serves before it has read its finished jobs), submissions per second through the
// API, a page of the listing (the dashboard's first request), and the time to choose the next job
// to start with that many waiting. The same start and memory again on the PostgreSQL store (a
// farm's), with as many finished jobs in its table.
import { join } from 'node:path';
import { JobQueue } from '../../machines/job-queue.js';
import type { Job } from '../../machines/job-record.js';
import { ApiClient } from '../../src/api/client.js';
import { newJobRecord } from '../../src/jobs/submission.js';
import pg from 'pg';
import { openFileStore } from '../../src/store/file-store.js';
import { openPostgresStore } from '../../src/store/postgres-store.js';
import { freshDatabase } from '../../test/helpers/postgres.js';
import { type DaemonProcess, startDaemonProcess } from '../daemon-process.js';
import { type Figure, atMost, elapsed, figure } from '../lib.js';

async function fillStore(file: string, count: number): Promise<void> {
  const store = await openFileStore(file);
  const base = newJobRecord({ command: ['ffmpeg', '-i', 'in.mp4', 'out.mp4'], name: 'old job' }, 'x', '2026-01-01T00:00:00.000Z', '/tmp');
  const batch: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    batch.push(store.put({ ...base, id: `old${i}`, status: 'done', progress: 100 }));
    if (batch.length === 500) await Promise.all(batch.splice(0));
  }
  await Promise.all(batch);
  await store.close();
}

/** `count` finished jobs in a fresh database's table, as a farm that ran them leaves them. */
async function fillDatabase(url: string, count: number): Promise<void> {
  await (await openPostgresStore(url)).close(); // its tables
  const record = { ...newJobRecord({ command: ['ffmpeg', '-i', 'in.mp4', 'out.mp4'], name: 'old job' }, 'x', '2026-01-01T00:00:00.000Z', '/tmp'), status: 'done', progress: 100 };
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (let from = 0; from < count; from += 5000) {
      const ids = Array.from({ length: Math.min(5000, count - from) }, (_, at) => `old${from + at}`);
      await client.query(`INSERT INTO encsup_jobs (id, status, record, seq) SELECT id, 'done', jsonb_set($1::jsonb, '{id}', to_jsonb(id)), nextval('encsup_jobs_seq') FROM unnest($2::text[]) AS id`, [JSON.stringify(record), ids]);
    }
    // The statistics the server's autovacuum keeps of a table that grew over a farm's life: without
    // them, right after a bulk insert, the planner guesses that most rows are unfinished and reads
    // every one of them instead of their index.
    await client.query('ANALYZE encsup_jobs');
  } finally {
    await client.end();
  }
}

async function submissionsPerSecond(url: string, token: string | null, count: number): Promise<number> {
  const api = new ApiClient(url, token);
  // One long job holds the single slot, so everything submitted waits in line, as in a busy farm.
  await api.submit({ command: ['sleep', '600'], name: 'blocker' });
  const start = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      await api.submit({ command: ['true'], name: 'queued' });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return count / elapsed(start);
}

/** The median time of a page of 100 jobs in the dashboard's order, the first page and the next. */
async function pageMillis(url: string, token: string | null): Promise<number> {
  const api = new ApiClient(url, token);
  const times: number[] = [];
  for (let i = 0; i < 21; i++) {
    const start = performance.now();
    const first = await api.page({ order: 'view', limit: 100 });
    if (first.next) await api.page({ order: 'view', limit: 100, cursor: first.next });
    times.push((performance.now() - start) / 2);
  }
  return times.sort((a, b) => a - b)[10]!;
}

function chooseNextMicros(waiting: number): number {
  const queue = new JobQueue<Job>();
  const base = newJobRecord({ command: ['true'] }, 'q', '2026-01-01T00:00:00.000Z', '/tmp');
  for (let i = 0; i < waiting; i++) queue.enqueue({ ...base, id: `q${i}`, priority: i % 21 - 10, createdAt: new Date(1_767_225_600_000 + i).toISOString() });
  const rounds = 2000;
  const start = performance.now();
  // Choosing the next job, and the submission that replaces it, so the line keeps its length.
  for (let i = 0; i < rounds; i++) {
    const job = queue.dequeue()!;
    queue.enqueue({ ...job, createdAt: new Date(1_800_000_000_000 + i).toISOString() });
  }
  return (elapsed(start) * 1e6) / rounds;
}

/**
 * Seconds from the daemon's spawn to its first listing, and its resident memory 2 s after. Either
 * store serves before its finished jobs are read (finished-loading.ts): a listing waits for them.
 * The memory is measured as the daemon runs from then on: it learns run times from the done jobs
 * and collects what the read left behind just after the listing is answered.
 */
async function onceEveryJobIsIn(daemon: DaemonProcess): Promise<{ whole: number; rss: number }> {
  const listed = performance.now();
  await new ApiClient(daemon.url, daemon.token).page({ order: 'view', limit: 1 });
  const whole = daemon.startSeconds + elapsed(listed);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  return { whole, rss: daemon.rssMb() };
}

export async function scale(quick: boolean, dir: string): Promise<Figure[]> {
  const big = quick ? 10_000 : 100_000;
  const small = 1_000;
  const submissions = quick ? 1_000 : 10_000;
  const results: Record<number, { start: number; whole: number; rss: number; rate: number; page: number; choose: number }> = {};
  for (const size of [small, big]) {
    const dataDir = join(dir, `scale-${size}`);
    await fillStore(join(dataDir, 'jobs.db'), size);
    const daemon = await startDaemonProcess(dataDir, ['--max-concurrent', '1']);
    const { whole, rss } = await onceEveryJobIsIn(daemon);
    const page = await pageMillis(daemon.url, daemon.token);
    const rate = await submissionsPerSecond(daemon.url, daemon.token, size === small ? Math.min(submissions, 1_000) : submissions);
    await daemon.stop();
    results[size] = { start: daemon.startSeconds, whole, rss, rate, page, choose: chooseNextMicros(size) };
  }
  const database = await freshDatabase();
  let postgres: { start: number; whole: number; rss: number };
  try {
    await fillDatabase(database.url, big);
    const daemon = await startDaemonProcess(join(dir, 'scale-postgres'), ['--max-concurrent', '1', '--store', database.url]);
    postgres = { start: daemon.startSeconds, ...(await onceEveryJobIsIn(daemon)) };
    await daemon.stop();
  } finally {
    await database.drop();
  }
  const against = `the same with ${small.toLocaleString('en')} jobs`;
  // The goals are for 100,000 stored; a --quick run (10,000) is held to the same, as a floor.
  const perTenThousand = ((results[big]!.rss - results[small]!.rss) / (big - small)) * 10_000;
  return [
    figure(`daemon start, ${big.toLocaleString('en')} jobs stored`, results[big]!.start, 's', results[small]!.start, against, atMost(1, 's', results[big]!.start)),
    figure(`daemon start to its first listing (every job read), ${big.toLocaleString('en')} jobs stored`, results[big]!.whole, 's', results[small]!.whole, against),
    figure(`resident memory, ${big.toLocaleString('en')} jobs stored, every job read (2 s after the first listing)`, results[big]!.rss, 'MB', results[small]!.rss, against, atMost(150, 'MB', results[big]!.rss)),
    figure('resident memory per 10,000 finished jobs', perTenThousand, 'MB', results[small]!.rss, `the whole daemon with ${small.toLocaleString('en')} jobs`, atMost(5, 'MB (what 150 MB at 100,000 leaves)', perTenThousand)),
    figure(`submissions through the API, ${big.toLocaleString('en')} jobs stored`, results[big]!.rate, 'jobs/s', results[small]!.rate, against),
    figure(`daemon start, ${big.toLocaleString('en')} jobs stored in PostgreSQL`, postgres.start, 's', results[big]!.start, 'the same on the job file', atMost(1, 's', postgres.start)),
    figure(`daemon start to its first listing (every job read), ${big.toLocaleString('en')} jobs stored in PostgreSQL`, postgres.whole, 's', results[big]!.whole, 'the same on the job file'),
    figure(`resident memory, ${big.toLocaleString('en')} jobs stored in PostgreSQL, every job read (2 s after the first listing)`, postgres.rss, 'MB', results[big]!.rss, 'the same on the job file', atMost(150, 'MB', postgres.rss)),
    figure(`a page of 100 jobs through the API (dashboard order), ${big.toLocaleString('en')} jobs stored`, results[big]!.page, 'ms', results[small]!.page, against),
    figure(`choosing the next job, ${big.toLocaleString('en')} waiting`, results[big]!.choose, 'µs', results[small]!.choose, `${small.toLocaleString('en')} waiting`),
  ];
}

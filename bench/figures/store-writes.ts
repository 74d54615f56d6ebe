// 5. Store writes: an encode that prints 10,000 progress lines, through the daemon at the 1 %
// threshold: store writes for the job, against one write per line (and what each costs in time,
// measured on the same job file store).
import { join } from 'node:path';
import { isFinished } from '../../machines/job-record.js';
import { openFileStore } from '../../src/store/file-store.js';
import { newJobRecord } from '../../src/jobs/submission.js';
import { JobLedger } from '../../src/store/job-ledger.js';
import type { JobStore } from '../../src/store/job-store.js';
import { openPostgresStore } from '../../src/store/postgres-store.js';
import { freshDatabase } from '../../test/helpers/postgres.js';
import { benchDaemon } from '../daemon.js';
import { type Figure, elapsed, figure } from '../lib.js';

export async function storeWrites(_quick: boolean, dir: string): Promise<Figure[]> {
  const lines = 10_000;
  const daemon = await benchDaemon(join(dir, 'writes-data'), { progressThreshold: 1 });
  const script = `i=0; while [ $i -lt ${lines} ]; do i=$((i+1)); echo "frame=$i fps=25 q=28.0 size=1kB time=00:00:01.00 bitrate=1kbits/s speed=1x"; done`;
  const job = await daemon.requests.submit({ command: ['sh', '-c', script], totalFrames: lines });
  const done = (await daemon.ledger.waitFor(job.id, (j) => isFinished(j.status), 120_000))!;
  await daemon.close();

  // What one write per line would cost, on the same kind of store.
  const store = await openFileStore(join(dir, 'per-line.db'));
  const record = newJobRecord({ command: ['x'] }, 'per-line', new Date().toISOString(), dir);
  const sample = 1000;
  const start = performance.now();
  for (let i = 0; i < sample; i++) await store.put({ ...record, frame: i });
  const perWriteMs = (elapsed(start) * 1000) / sample;
  await store.close();
  const synced = await confirmedPerSecond(dir, () => openFileStore(join(dir, 'synced.db'), { durable: true }));
  const unsynced = await confirmedPerSecond(dir, () => openFileStore(join(dir, 'unsynced.db'), { durable: false }));
  // What the fsync adds to each confirmed change, spread over the changes of each commit.
  const fsyncMsPerChange = (1 / synced - 1 / unsynced) * 1000;
  // The same on PostgreSQL (a committed statement each; ENCSUP_TEST_PG_URL, else a throwaway
  // cluster with fsync on), next to the file.
  const database = await freshDatabase();
  const postgres = await confirmedPerSecond(dir, () => openPostgresStore(database.url));
  await database.drop();
  return [
    figure('confirmed submissions a second, each on disk (fsync, group commit) before its answer, 8 clients at once', synced, 'jobs/s', unsynced, 'the same with no fsync (before issue 13)'),
    figure('fsync cost per confirmed change (group commit, 8 clients at once)', fsyncMsPerChange, 'ms', 1000 / unsynced, 'the whole cost of a confirmed change with no fsync'),
    figure('confirmed submissions a second on the PostgreSQL store, 8 clients at once', postgres, 'jobs/s', synced, 'the job file, each fsynced (group commit)'),
    figure(`store writes for ${lines} progress lines`, done.progressUpdates + 2, 'writes', lines, 'one write per line'),
    figure(`store time for ${lines} progress lines`, (done.progressUpdates + 2) * perWriteMs, 'ms', lines * perWriteMs, 'one write per line'),
  ];
}

/** Submissions stored through the ledger as the API stores them, 8 clients each waiting for its answer. */
async function confirmedPerSecond(dir: string, open: () => Promise<JobStore>): Promise<number> {
  const store = await open();
  const ledger = new JobLedger(store, { nowIso: () => new Date().toISOString(), onWriteError: () => undefined });
  const perClient = 250;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: 8 }, async (_, client) => {
      for (let i = 0; i < perClient; i++) await ledger.tryRecord(newJobRecord({ command: ['x'] }, `c${client}-${i}`, new Date().toISOString(), dir));
    }),
  );
  const seconds = elapsed(start);
  await store.close();
  return (8 * perClient) / seconds;
}

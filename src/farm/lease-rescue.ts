// Jobs whose host can no longer run them, put back: claims whose lease ran out (the host died,
// froze or lost the database) and, at a host's start, the claims of its earlier life. Each is
// read and changed under a row lock and released only while its lease token is the one read, so a
// rescue and a late renewal never both win. A run cut short is an interruption, as after a crash
// (recovery.ts): back in line with its place kept, or failed once interruptions used up theirs.
import type { Job } from '../../machines/job-record.js';
import type { LifecycleEvent } from '../../machines/lifecycle.js';
import { toCancelled } from '../../machines/job-updates.js';
import { recoverJobs } from '../recovery.js';
import { SQL } from './farm-sql.js';
import { toFarmPaths } from './path-map.js';
import type { PostgresStore } from '../store/postgres-store.js';
import { inTransaction } from '../store/pg-transaction.js';

interface ClaimRow {
  id: string;
  record: unknown;
  owner: string;
  cancel_requested: boolean;
  lease_token: string;
}

export interface Rescued {
  job: Job;
  event: LifecycleEvent;
}

/** Expired claims of any host (`owner` null), or every claim of this host's earlier life. */
export function rescueClaims(store: PostgresStore, which: 'expired' | 'own', at: string): Promise<Rescued[]> {
  return inTransaction(store.pool, async (client) => {
    const rescued: Rescued[] = [];
    const { rows } = which === 'expired' ? await client.query<ClaimRow>(SQL.expiredLeases) : await client.query<ClaimRow>(SQL.ownClaims, [store.hostName]);
    for (const row of rows) {
      const read = store.readRow(row.record);
      if (!read.ok) {
        await client.query(SQL.quarantine, [row.id, read.reason]);
        continue;
      }
      const what = which === 'expired' ? `host ${row.owner} stopped renewing its lease` : `host ${row.owner} restarted`;
      const next = rescuedVersion(read.job, row.cancel_requested, what, at);
      const { rows: released } = await client.query<{ seq: string }>(SQL.releaseRescued, [row.id, next.job.status, JSON.stringify(toFarmPaths(next.job, store.pathMaps)), row.lease_token]);
      if (released.length > 0) rescued.push(next);
    }
    return rescued;
  });
}

/** What a job whose host is gone becomes: cancelled if that was asked, else interrupted and queued. */
export function rescuedVersion(job: Job, cancelRequested: boolean, what: string, at: string): Rescued {
  const interrupted = recoverJobs([job], at, what).changed[0];
  // Claimed but not started (waiting there, or in a retry's backoff): simply back in line.
  const next = interrupted ?? { ...job, status: 'queued' as const, retryDelayMs: null };
  if (cancelRequested) return { job: toCancelled(next, at), event: { kind: 'cancelled', jobId: job.id, at } };
  if (next.status === 'failed') return { job: next, event: { kind: 'failed', jobId: job.id, at, reason: next.error ?? what, failureKind: next.failureKind } };
  return { job: next, event: { kind: 'requeued', jobId: job.id, at, reason: 'recovery' } };
}

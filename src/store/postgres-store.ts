// The job store in PostgreSQL (--store postgres://…): the JobStore contract over the farm's job
// table (src/farm/farm-sql.ts), its schema made and migrated at start by versioned migrations under
// an advisory lock (several hosts may start at once). Every write is fenced: a job this host holds
// is written only under its lease token, any other only if its row is as this host last saw it, so
// a host that lost a job, or read an old version of it, changes nothing. Records cross here between
// the farm's paths and this host's (--path-map). A write is durable when its statement commits.
import pg from 'pg';
import { FINISHED_STATUSES, type Job, type JobStatus, isFinished } from '../../machines/job-record.js';
import { MIGRATIONS, SQL } from '../farm/farm-sql.js';
import { type PathMapping, localPathMapper, toFarmPaths, toLocalPaths } from '../farm/path-map.js';
import { type JobStore, type LoadedJobs, type StagedLoad, StoreRefusal, joinStages } from './job-store.js';
import { type JobSummary, isText, isTextOrNull, sharedKind, summarize } from './job-summary.js';
import { inTransaction } from './pg-transaction.js';
import { checkRecord } from './record-schema.js';
import { redactedUrl } from './store-url.js';

// Keys of the advisory locks: one for migrating; one per host name (pg's hashtext of it, in this
// range), held by the daemon that is that host.
const MIGRATE_LOCK = 0x656e6373;
const HOST_LOCK_SPACE = 0x656e6374;

export class StoreInUseError extends Error {}


/** A claim this host holds: its lease token, and when its encoders must be gone (monotonic ns). */
export interface HeldClaim {
  token: string;
  deadlineNs: bigint;
}

export interface PostgresStoreOptions {
  /** The farm's name of this daemon; two daemons with one name are refused. */
  hostName?: string;
  pathMaps?: readonly PathMapping[];
}

export interface PostgresStore extends JobStore {
  readonly pool: pg.Pool;
  /** A connection of its own for lease renewals, so they never wait behind other statements. */
  readonly leasePool: pg.Pool;
  readonly url: string;
  readonly hostName: string;
  readonly pathMaps: readonly PathMapping[];
  /** Jobs this host holds, by id. */
  readonly claims: Map<string, HeldClaim>;
  /** The newest seq of each job this host has seen (its own writes and the change feed). */
  readonly seqs: Map<string, string>;
  /** Jobs this host held and lost: nothing more of theirs is written until it claims one again. */
  readonly lost: Set<string>;
  /** The newest seq in the table when the unfinished jobs were loaded (0 before): the change feed reads on from there. */
  readonly loadedUpTo: bigint;
  readonly staged: StagedLoad;
  /** A stored record as this host sees it, or why it can't be read. */
  readRow(record: unknown): { ok: true; job: Job } | { ok: false; reason: string };
  /**
   * Whether this daemon still holds its host name. The lock lives in a session: a database restart
   * ends it, so it is taken again on a new one; false when another daemon took the name meanwhile.
   */
  holdHostName(): Promise<boolean>;
}

async function migrate(client: pg.PoolClient): Promise<void> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATE_LOCK]);
  try {
    await client.query('CREATE TABLE IF NOT EXISTS encsup_schema_migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const done = new Set((await client.query<{ version: number }>('SELECT version FROM encsup_schema_migrations')).rows.map((row) => row.version));
    for (const [version, sql] of MIGRATIONS) {
      if (done.has(version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('INSERT INTO encsup_schema_migrations (version) VALUES ($1)', [version]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATE_LOCK]);
  }
}

export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
  const hostName = options.hostName ?? 'encsup';
  const pathMaps = options.pathMaps ?? [];
  const pool = new pg.Pool({ connectionString: url, max: 6, connectionTimeoutMillis: 10_000 });
  // A connection the server ends while idle (a restart, a terminated backend) is replaced at the
  // next query; it must not take the daemon down.
  pool.on('error', () => undefined);
  // Held for the daemon's life: its session's advisory lock says this host name is taken.
  let holder = await pool.connect().catch((error: Error) => {
    throw new Error(`cannot reach the PostgreSQL store at ${redactedUrl(url)}: ${error.message}`);
  });
  let holderLost = false;
  const watchHolder = (client: pg.PoolClient) => client.on('error', () => (holderLost = true));
  watchHolder(holder);
  const lockName = (client: pg.PoolClient) => client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked', [HOST_LOCK_SPACE, hostName]).then(({ rows }) => rows[0]!.locked);
  const locked = await lockName(holder);
  if (!locked) {
    holder.release();
    await pool.end();
    throw new StoreInUseError(`another encsup daemon is host ${hostName} of the farm at ${redactedUrl(url)}; give this one another --host-name`);
  }
  try {
    await migrate(holder);
  } catch (error) {
    holder.release();
    await pool.end();
    throw error;
  }
  const leasePool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 5000 });
  leasePool.on('error', () => undefined);
  const claims = new Map<string, HeldClaim>();
  const seqs = new Map<string, string>();
  const lost = new Set<string>();
  // The seq a version of a job was made from, fixed at its first try: a write retried after the
  // change feed has read a newer version must not pass as made from that one.
  const basedOn = new WeakMap<Job, string | null>();
  const readRow = (record: unknown) => {
    const checked = checkRecord(record);
    return checked.ok ? { ok: true as const, job: toLocalPaths(checked.job, pathMaps) } : checked;
  };
  // The newest seq in the table when the unfinished jobs were read: the change feed starts there.
  let loadedUpTo = 0n;
  // A seq this host knew already stays when a read gives an older one (the feed was faster).
  const noteSeq = (id: string, seq: string) => {
    const known = seqs.get(id);
    if (known === undefined || BigInt(known) < BigInt(seq)) seqs.set(id, seq);
  };
  /** Rows read whole into `into`: each by its record's status, or set aside where it is no job. */
  const adoptRows = async (rows: { id: string; record: unknown; seq: string }[], into: LoadedJobs) => {
    for (const row of rows) {
      const read = readRow(row.record);
      // A record under another job's id could be neither read by its id nor written back.
      const checked = read.ok && read.job.id !== row.id ? { ok: false as const, reason: `its record is job ${JSON.stringify(read.job.id)}'s, not this row's` } : read;
      if (checked.ok) {
        if (isFinished(checked.job.status)) into.finished.set(checked.job.id, summarize(checked.job));
        else into.active.push(checked.job);
        noteSeq(row.id, row.seq);
        continue;
      }
      // Set aside, not dropped: the operator can read it, mend it and submit the job again.
      await pool.query(SQL.quarantine, [row.id, checked.reason]);
      into.problems.push(`job ${row.id}: ${checked.reason}; set aside in the table encsup_quarantine`);
    }
  };
  const staged: StagedLoad = {
    async active() {
      const loaded: LoadedJobs = { active: [], finished: new Map(), problems: [] };
      const { rows: top } = await pool.query<{ top: string }>(SQL.newestSeq);
      const { rows } = await pool.query<{ id: string; record: unknown; seq: string }>(SQL.loadActive);
      loadedUpTo = BigInt(top[0]!.top);
      await adoptRows(rows, loaded);
      return loaded;
    },
    async finished() {
      const loaded: LoadedJobs = { active: [], finished: new Map(), problems: [] };
      const wholes: { id: string; record: unknown; seq: string }[] = [];
      type SummaryRow = { id: string; seq: string; fields: unknown };
      const localPath = localPathMapper(pathMaps);
      // Through a cursor, a page at a time, the next asked for while this one is read: the
      // server's work and this process's overlap, and the rows held at once stay few.
      await inTransaction(
        pool,
        async (reader) => {
          await reader.query(`DECLARE finished_summaries NO SCROLL CURSOR FOR ${SQL.loadFinishedSummaries}`);
          const fetchPage = (): Promise<SummaryRow[]> => reader.query<SummaryRow>(`FETCH ${SUMMARY_PAGE} FROM finished_summaries`).then(({ rows }) => rows);
          let page: Promise<SummaryRow[]> | null = fetchPage();
          while (page !== null) {
            const rows: SummaryRow[] = await page;
            page = rows.length === SUMMARY_PAGE ? fetchPage() : null;
            // Heard now, so that a failure while this page is read is not left unhandled.
            page?.catch(() => undefined);
            for (const row of rows) {
              const summary = finishedSummary(row.id, row.fields, localPath);
              if (summary !== null) {
                loaded.finished.set(row.id, summary);
                noteSeq(row.id, row.seq);
              } else {
                // Not the fields of a finished job: its whole record decides, as for an unfinished one.
                const { rows: whole } = await pool.query<{ record: unknown }>(SQL.readOne, [row.id]);
                if (whole.length > 0) wholes.push({ id: row.id, record: whole[0]!.record, seq: row.seq });
              }
            }
          }
        },
        'BEGIN READ ONLY',
      );
      await adoptRows(wholes, loaded);
      return loaded;
    },
  };
  return {
    pool,
    leasePool,
    url,
    hostName,
    pathMaps,
    claims,
    seqs,
    lost,
    readRow,
    async holdHostName() {
      if (!holderLost) return true;
      const fresh = await pool.connect();
      watchHolder(fresh);
      if (!(await lockName(fresh))) {
        fresh.release();
        return false;
      }
      holder.release(true);
      holder = fresh;
      holderLost = false;
      return true;
    },
    async load(): Promise<LoadedJobs> {
      // The finished first, as they were before the active: a job that moved between the two
      // reads is found in the second, or by the change feed from loadedUpTo.
      const finished = await staged.finished();
      return joinStages(finished, await staged.active());
    },
    staged,
    get loadedUpTo() {
      return loadedUpTo;
    },
    async read(id) {
      const { rows } = await pool.query<{ record: unknown }>(SQL.readOne, [id]);
      if (rows.length === 0) return undefined;
      const checked = readRow(rows[0]!.record);
      return checked.ok && checked.job.id === id ? checked.job : undefined;
    },
    async put(job) {
      if (lost.has(job.id)) throw new StoreRefusal(job.id, `job ${job.id}: this host lost it to another host; the change was not written`);
      const record = JSON.stringify(toFarmPaths(job, pathMaps));
      const claim = claims.get(job.id);
      if (claim) {
        // Finished, or back in line for any host (not a backoff this host waits out): let it go.
        const release = isFinished(job.status) || (job.status === 'queued' && job.retryDelayMs === null);
        const { rows } = await pool.query<{ seq: string }>(SQL.putClaimed, [job.id, job.status, record, release, claim.token]);
        if (rows.length === 0) {
          claims.delete(job.id);
          throw new StoreRefusal(job.id, `job ${job.id}: this host's lease on it ran out and another host took it over; the change was not written`);
        }
        if (release) claims.delete(job.id);
        seqs.set(job.id, rows[0]!.seq);
        return;
      }
      if (!basedOn.has(job)) basedOn.set(job, seqs.get(job.id) ?? null);
      const { rows } = await pool.query<{ seq: string }>(SQL.putUnclaimed, [job.id, job.status, record, basedOn.get(job)!]);
      if (rows.length === 0) throw new StoreRefusal(job.id, `job ${job.id} changed on another host meanwhile (it may have started there); nothing was written`);
      seqs.set(job.id, rows[0]!.seq);
    },
    async remove(id) {
      await pool.query(SQL.remove, [id]);
      seqs.delete(id);
    },
    // Each put is committed (synchronous_commit): durable already.
    async sync() {},
    durablePuts: true,
    async checkWritable() {
      const { rows } = await pool.query<{ readonly: string }>('SHOW transaction_read_only');
      if (rows[0]?.readonly === 'on') throw new Error(`EROFS: the PostgreSQL store at ${redactedUrl(url)} is read-only now`);
    },
    async close() {
      // Destroyed, not returned: the pool is ending, and the session may have been ended already.
      holder.release(true);
      await Promise.all([pool.end(), leasePool.end()]);
    },
  };
}

// Finished jobs' summaries read per query at start. Small pages as fast as big ones, and what a
// page leaves to collect stays small: with 10,000 rows a page, a daemon holding 100,000 finished
// jobs kept 30 MB more resident after reading them (a young generation grown for the pages).
const SUMMARY_PAGE = 2000;

/**
 * A finished job's summary from the fields loadFinishedSummaries reads, each checked (a row is
 * input like any other), its paths made this host's by `local`; null when they are not those of
 * a finished job with this id, and its whole record is read instead.
 */
export function finishedSummary(id: string, fields: unknown, local: (path: string) => string): JobSummary | null {
  if (!Array.isArray(fields) || fields.length !== 11) return null;
  const [recordId, status, name, command, output, clientId, kind, priority, createdAt, finishedAt, updatedAt] = fields as unknown[];
  if (recordId !== id || !FINISHED_STATUSES.includes(status as JobStatus) || !isText(name) || !isText(kind)) return null;
  if (!Array.isArray(command) || !command.every(isText) || !isTextOrNull(output) || !isTextOrNull(clientId)) return null;
  if (typeof priority !== 'number' || !Number.isInteger(priority) || !isText(createdAt) || !isText(updatedAt) || !isTextOrNull(finishedAt)) return null;
  const summary = summarize({ id, status: status as JobStatus, name, command: command.map(local), output: output === null ? null : local(output), clientId, kind: sharedKind(kind), priority, createdAt, startedAt: null, finishedAt, updatedAt });
  return Number.isFinite(summary.createdMs) && Number.isFinite(summary.endedMs) ? summary : null;
}

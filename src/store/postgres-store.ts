// The job store in PostgreSQL (--store postgres://…): one table of job records, its schema made
// and migrated at start by versioned migrations under an advisory lock (several daemons may start
// at once), the same JobStore contract as the nedb file. A write is durable when its statement
// commits, so `sync` has nothing left to do. Until several hosts share one database with claims
// and leases, one daemon uses a database at a time: a second one is refused at start.
import pg from 'pg';
import type { Job } from '../../machines/job-record.js';
import type { JobStore, LoadedJobs } from './job-store.js';
import { checkRecord } from './record-schema.js';

/** Each migration once, in order; the number is its version. Never edit one that has shipped. */
const MIGRATIONS: [number, string][] = [
  [
    1,
    `CREATE TABLE encsup_jobs (
       id text PRIMARY KEY,
       status text NOT NULL,
       record jsonb NOT NULL,
       updated_at timestamptz NOT NULL DEFAULT now()
     );
     CREATE INDEX encsup_jobs_status ON encsup_jobs (status);
     CREATE TABLE encsup_quarantine (
       id text NOT NULL,
       reason text NOT NULL,
       record text NOT NULL,
       at timestamptz NOT NULL DEFAULT now()
     );`,
  ],
];

// Keys of the advisory locks: one for migrating, one held by the daemon that uses the database.
const MIGRATE_LOCK = 0x656e6373;
const IN_USE_LOCK = 0x656e6374;

export class StoreInUseError extends Error {}

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

/** The URL without its password, for messages and logs. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://…';
  }
}

export async function openPostgresStore(url: string): Promise<JobStore> {
  const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 10_000 });
  // A connection the server ends while idle (a restart, a terminated backend) is replaced at the
  // next query; it must not take the daemon down.
  pool.on('error', () => undefined);
  // Held for the daemon's life: its session's advisory lock says the database is in use.
  const holder = await pool.connect().catch((error: Error) => {
    throw new Error(`cannot reach the PostgreSQL store at ${redactedUrl(url)}: ${error.message}`);
  });
  holder.on('error', () => undefined);
  const locked = (await holder.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [IN_USE_LOCK])).rows[0]!.locked;
  if (!locked) {
    holder.release();
    await pool.end();
    throw new StoreInUseError(`another encsup daemon uses the PostgreSQL store at ${redactedUrl(url)}; one daemon per database until several hosts share one`);
  }
  try {
    await migrate(holder);
  } catch (error) {
    holder.release();
    await pool.end();
    throw error;
  }
  return {
    async loadAll(): Promise<LoadedJobs> {
      const { rows } = await pool.query<{ id: string; record: unknown }>('SELECT id, record FROM encsup_jobs');
      const jobs: Job[] = [];
      const problems: string[] = [];
      for (const row of rows) {
        const checked = checkRecord(row.record);
        if (checked.ok) {
          jobs.push(checked.job);
          continue;
        }
        // Set aside, not dropped: the operator can read it, mend it and submit the job again.
        await pool.query('WITH moved AS (DELETE FROM encsup_jobs WHERE id = $1 RETURNING id, record) INSERT INTO encsup_quarantine (id, reason, record) SELECT id, $2, record::text FROM moved', [row.id, checked.reason]);
        problems.push(`job ${row.id}: ${checked.reason}; set aside in the table encsup_quarantine`);
      }
      return { jobs, problems };
    },
    async put(job) {
      await pool.query(
        'INSERT INTO encsup_jobs (id, status, record, updated_at) VALUES ($1, $2, $3, now()) ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, record = EXCLUDED.record, updated_at = now()',
        [job.id, job.status, JSON.stringify(job)],
      );
    },
    async remove(id) {
      await pool.query('DELETE FROM encsup_jobs WHERE id = $1', [id]);
    },
    // Each put is committed (synchronous_commit): durable already.
    async sync() {},
    async checkWritable() {
      const { rows } = await pool.query<{ readonly: string }>('SHOW transaction_read_only');
      if (rows[0]?.readonly === 'on') throw new Error(`EROFS: the PostgreSQL store at ${redactedUrl(url)} is read-only now`);
    },
    async close() {
      // Destroyed, not returned: the pool is ending, and the session may have been ended already.
      holder.release(true);
      await pool.end();
    },
  };
}

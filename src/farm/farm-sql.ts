// Every statement of the farm's protocol in PostgreSQL, in one place, each named for what it does
// (as River keeps its queue in one SQL file): the schema's migrations, then claims, leases, fenced
// writes, the rescue of expired leases, cancel requests, the change feed and the hosts' rows.
// One table of jobs is the single source of truth; a claimed job carries its owner, a lease token
// (new at every claim) and the lease's end on the database's clock.

/** Each migration once, in order; the number is its version. Never edit one that has shipped. */
export const MIGRATIONS: [number, string][] = [
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
  [
    2,
    `ALTER TABLE encsup_jobs
       ADD COLUMN owner text,
       ADD COLUMN lease_token text,
       ADD COLUMN lease_until timestamptz,
       ADD COLUMN cancel_requested boolean NOT NULL DEFAULT false,
       ADD COLUMN seq bigint;
     CREATE SEQUENCE encsup_jobs_seq;
     UPDATE encsup_jobs SET seq = nextval('encsup_jobs_seq');
     ALTER TABLE encsup_jobs ALTER COLUMN seq SET NOT NULL;
     CREATE UNIQUE INDEX encsup_jobs_by_seq ON encsup_jobs (seq);
     CREATE INDEX encsup_jobs_waiting ON encsup_jobs (((record->>'priority')::int) DESC, (record->>'createdAt'), id) WHERE status = 'queued' AND owner IS NULL;
     CREATE INDEX encsup_jobs_leases ON encsup_jobs (lease_until) WHERE owner IS NOT NULL;
     CREATE TABLE encsup_hosts (
       name text PRIMARY KEY,
       labels jsonb NOT NULL DEFAULT '[]',
       api_url text,
       max_concurrent int NOT NULL DEFAULT 0,
       capacity jsonb NOT NULL DEFAULT '{}',
       running int NOT NULL DEFAULT 0,
       draining boolean NOT NULL DEFAULT false,
       started_at timestamptz NOT NULL DEFAULT now(),
       heartbeat_at timestamptz NOT NULL DEFAULT now(),
       stopped_at timestamptz
     );
     CREATE FUNCTION encsup_job_changed() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       IF TG_OP = 'DELETE' THEN
         PERFORM pg_notify('encsup_jobs', 'deleted ' || OLD.id);
         RETURN OLD;
       END IF;
       PERFORM pg_notify('encsup_jobs', 'changed');
       RETURN NEW;
     END $$;
     -- A lease renewal changes no seq, so it wakes nobody.
     CREATE TRIGGER encsup_job_changed AFTER INSERT OR DELETE OR UPDATE OF seq ON encsup_jobs
       FOR EACH ROW EXECUTE FUNCTION encsup_job_changed();`,
  ],
  [
    3,
    // The fields of a job's summary, kept beside its record by the server at every write (a
    // generated column: no writer can forget it), so a start reads these small arrays and never
    // decompresses the records of a hundred thousand finished jobs. A record that is no object
    // gives nulls, and is then read whole and set aside.
    // jsonb_build_array is only STABLE (for other types its output could depend on settings); of
    // jsonb values alone it is the same array every time, which a generated column needs.
    `CREATE FUNCTION encsup_summary_fields(record jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
       SELECT jsonb_build_array(record->'id', record->'status', record->'name', record->'command', record->'output', record->'clientId',
         record->'kind', record->'priority', record->'createdAt', record->'finishedAt', record->'updatedAt')
     $$;
     ALTER TABLE encsup_jobs ADD COLUMN summary jsonb GENERATED ALWAYS AS (encsup_summary_fields(record)) STORED;`,
  ],
  [
    4,
    // The unfinished jobs, which a start reads before it serves (SQL.loadActive, whose condition
    // this is, word for word, so the planner takes it): without it that read went through every
    // row, a quarter of a second at 100,000 finished jobs. `NOT IN` and not the unfinished
    // statuses by name, so a row with a status no version knows is still read, and set aside.
    `CREATE INDEX encsup_jobs_unfinished ON encsup_jobs (seq) WHERE status NOT IN ('done', 'failed', 'cancelled');`,
  ],
];

/** Channels: every change of a job row; a running job's progress as it is now (never stored). */
export const JOBS_CHANNEL = 'encsup_jobs';
export const LIVE_CHANNEL = 'encsup_live';

const NEXT_SEQ = `nextval('encsup_jobs_seq')`;

export const SQL = {
  /** The unfinished jobs whole: recovery and the waiting line need all of them. Its condition is migration 4's index's. */
  loadActive: `SELECT id, record, seq FROM encsup_jobs WHERE status NOT IN ('done', 'failed', 'cancelled')`,
  newestSeq: 'SELECT coalesce(max(seq), 0)::text AS top FROM encsup_jobs',
  /** The finished jobs as the fields of their summaries (migration 3), not whole. */
  loadFinishedSummaries: `SELECT id, seq, summary AS fields FROM encsup_jobs WHERE status IN ('done', 'failed', 'cancelled')`,
  readOne: 'SELECT record FROM encsup_jobs WHERE id = $1',

  /** A new job, or a change to one no host holds, made only if the row is as this host last saw it. */
  putUnclaimed: `INSERT INTO encsup_jobs AS job (id, status, record, seq) VALUES ($1, $2, $3, ${NEXT_SEQ})
    ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, record = EXCLUDED.record, seq = EXCLUDED.seq, updated_at = now()
      WHERE job.owner IS NULL AND job.seq = $4
    RETURNING seq`,

  /** A change to a job this host holds: fenced by its lease token. `$4` true lets the claim go. */
  putClaimed: `UPDATE encsup_jobs SET status = $2, record = $3, seq = ${NEXT_SEQ}, updated_at = now(),
      owner = CASE WHEN $4 THEN NULL ELSE owner END,
      lease_token = CASE WHEN $4 THEN NULL ELSE lease_token END,
      lease_until = CASE WHEN $4 THEN NULL ELSE lease_until END,
      cancel_requested = CASE WHEN $4 THEN false ELSE cancel_requested END
    WHERE id = $1 AND lease_token = $5 AND lease_until > now()
    RETURNING seq`,

  remove: 'DELETE FROM encsup_jobs WHERE id = $1 AND owner IS NULL',

  quarantine: 'WITH moved AS (DELETE FROM encsup_jobs WHERE id = $1 RETURNING id, record) INSERT INTO encsup_quarantine (id, reason, record) SELECT id, $2, record::text FROM moved',

  /**
   * The best waiting job this host may run: highest priority, then oldest; pinned here or to one
   * of its labels, or not pinned; every need within what the host has free (a resource it does not
   * name is unlimited); nothing while the host is drained (from anywhere: the row says so at once).
   * One statement: two hosts never claim the same job.
   * $1 host, $2 labels, $3 free resources, $4 lease seconds.
   */
  claimNext: `WITH pick AS (
      SELECT id FROM encsup_jobs
      WHERE status = 'queued' AND owner IS NULL
        AND NOT EXISTS (SELECT 1 FROM encsup_hosts WHERE name = $1 AND draining)
        AND (record->>'on' IS NULL OR record->>'on' = $1 OR record->>'on' = ANY($2::text[]))
        AND NOT EXISTS (
          SELECT 1 FROM jsonb_each_text(record->'needs') AS need(name, amount)
          WHERE need.amount::numeric > COALESCE(($3::jsonb ->> need.name)::numeric, 'Infinity'::numeric))
      ORDER BY (record->>'priority')::int DESC, record->>'createdAt', id
      LIMIT 1
      FOR UPDATE SKIP LOCKED)
    UPDATE encsup_jobs AS job SET owner = $1, lease_token = gen_random_uuid()::text,
        lease_until = now() + make_interval(secs => $4), cancel_requested = false,
        record = jsonb_set(job.record, '{host}', to_jsonb($1::text)), seq = ${NEXT_SEQ}, updated_at = now()
      FROM pick WHERE job.id = pick.id
    RETURNING job.id, job.record, job.lease_token, job.seq`,

  /** The leases this host still holds, renewed; the ones missing from the answer are lost. */
  renewLeases: `UPDATE encsup_jobs SET lease_until = now() + make_interval(secs => $3)
    WHERE owner = $1 AND lease_token = ANY($2::text[]) AND lease_until > now()
    RETURNING id, lease_token, cancel_requested`,

  /** Why a renewal missed a claim: who holds the job now, whether it is still this claim, and its lease. */
  claimState: `SELECT owner, status, lease_token = $2 AS same_claim, lease_until > now() AS unexpired,
      EXTRACT(EPOCH FROM now() - lease_until)::float8 AS expired_sec FROM encsup_jobs WHERE id = $1`,

  /** Claims whose lease ran out (their host stopped renewing), locked for the rescuer. */
  expiredLeases: `SELECT id, record, owner, cancel_requested, lease_token FROM encsup_jobs
    WHERE owner IS NOT NULL AND lease_until < now()
    ORDER BY lease_until LIMIT 100 FOR UPDATE SKIP LOCKED`,

  /**
   * Claims of an earlier life of this host (a crash, a kill -9), taken back at its start; and runs
   * no host holds (a store written before hosts, or copied from a daemon that was killed).
   */
  ownClaims: `SELECT id, record, COALESCE(owner, 'encsup') AS owner, cancel_requested, lease_token FROM encsup_jobs
    WHERE owner = $1 OR (owner IS NULL AND status IN ('encoding', 'finalizing')) FOR UPDATE`,

  /** A rescued job back in line (or finished), its claim gone: only while the claim is the one read. */
  releaseRescued: `UPDATE encsup_jobs SET status = $2, record = $3, owner = NULL, lease_token = NULL, lease_until = NULL,
      cancel_requested = false, seq = ${NEXT_SEQ}, updated_at = now()
    WHERE id = $1 AND lease_token IS NOT DISTINCT FROM $4
    RETURNING seq`,

  /** A durable cancel request for a job some host holds; its owner ends the encoder. */
  requestCancel: `UPDATE encsup_jobs SET cancel_requested = true, seq = ${NEXT_SEQ}, updated_at = now()
    WHERE id = $1 AND owner IS NOT NULL
    RETURNING owner`,

  /**
   * Every change after `$1`, in order, without the records: the catch-up after a notification, a
   * missed one or a reconnect. Seqs are taken when a statement runs, not when it commits, so a
   * change may become visible after one with a higher seq; `settled` says a row is older than any
   * write still in flight can be (writes are single short statements), so everything up to it has
   * been seen: the feed moves its mark only that far.
   */
  changesSince: `SELECT id, seq, owner, cancel_requested, updated_at < now() - make_interval(secs => $2) AS settled
    FROM encsup_jobs WHERE seq > $1 ORDER BY seq LIMIT 1000`,

  recordsOf: 'SELECT id, record, seq, owner FROM encsup_jobs WHERE id = ANY($1::text[])',

  /** Which of these ids have no row any more. */
  goneOf: 'SELECT id FROM unnest($1::text[]) AS known (id) WHERE NOT EXISTS (SELECT 1 FROM encsup_jobs AS job WHERE job.id = known.id)',

  notifyLive: `SELECT pg_notify('${LIVE_CHANNEL}', $1)`,

  /** This host's row at its start: what it is and has; `draining` is kept (an operator set it). */
  registerHost: `INSERT INTO encsup_hosts AS host (name, labels, api_url, max_concurrent, capacity, running, started_at, heartbeat_at, stopped_at)
    VALUES ($1, $2, $3, $4, $5, 0, now(), now(), NULL)
    ON CONFLICT (name) DO UPDATE SET labels = EXCLUDED.labels, api_url = EXCLUDED.api_url, max_concurrent = EXCLUDED.max_concurrent,
      capacity = EXCLUDED.capacity, running = 0, started_at = now(), heartbeat_at = now(), stopped_at = NULL
    RETURNING draining`,

  heartbeat: `UPDATE encsup_hosts SET heartbeat_at = now(), max_concurrent = $2, capacity = $3, running = $4, stopped_at = NULL
    WHERE name = $1 RETURNING draining`,

  hostStopped: 'UPDATE encsup_hosts SET stopped_at = now(), running = 0 WHERE name = $1',

  setDraining: 'UPDATE encsup_hosts SET draining = $2 WHERE name = $1 RETURNING name',

  listHosts: `SELECT host.name, host.labels, host.api_url, host.max_concurrent, host.capacity, host.running, host.draining,
      host.started_at, host.heartbeat_at, host.stopped_at,
      EXTRACT(EPOCH FROM now() - host.heartbeat_at)::float8 AS heartbeat_age_sec,
      ARRAY(SELECT id FROM encsup_jobs WHERE owner = host.name ORDER BY id) AS held_jobs
    FROM encsup_hosts AS host ORDER BY host.name`,

  /** Hosts seen lately (a heartbeat younger than `$1` seconds) that have not said they stopped. */
  liveHosts: `SELECT name FROM encsup_hosts WHERE stopped_at IS NULL AND heartbeat_at > now() - make_interval(secs => $1)`,
} as const;

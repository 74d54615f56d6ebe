// What the other hosts do, seen here: LISTEN on the job table's notifications (a change, a removal)
// and on live progress, each change read back in seq order from where this host left off, so a
// notification lost in a reconnect is caught by the catch-up read that follows it (and by a slow
// poll, whatever happens). Changes go into the ledger (the API's view of the farm) and the event
// stream; a cancel asked for a job this host holds goes to its owner's hand; a job put in line
// wakes the claimer.
import pg from 'pg';
import type { Job } from '../../machines/job-record.js';
import type { Logger } from '../logger.js';
import type { LiveProgress } from '../runner/runner-actor.js';
import type { JobLedger } from '../store/job-ledger.js';
import type { PostgresStore } from '../store/postgres-store.js';
import { CoalescedRun } from './coalesced-run.js';
import { JOBS_CHANNEL, LIVE_CHANNEL, SQL } from './farm-sql.js';

export interface FarmFeedDeps {
  store: PostgresStore;
  ledger: JobLedger;
  log: Logger;
  /** A job changed by another host, as it is now. */
  onJob: (job: Job) => void;
  /** Another host's encoder's progress as it is now. */
  onLive: (live: LiveProgress & { host: string }) => void;
  /** A cancel was asked for a job this host holds. */
  onCancelRequested: (id: string) => void;
  /** A job is waiting that some host may claim. */
  onWaiting: () => void;
}

interface ChangeRow {
  id: string;
  seq: string;
  owner: string | null;
  cancel_requested: boolean;
  settled: boolean;
}

// No write of a job takes longer than this from its seq to its commit (each is one statement).
const SETTLE_SEC = 5;

// The catch-up read runs at least this often, notifications or not.
const POLL_MS = 5000;
const RECONNECT_MS = 1000;

export class FarmFeed {
  #client: pg.Client | null = null;
  #lastSeq = 0n;
  readonly #reads = new CoalescedRun(
    () => this.#readChanges(),
    (error) => this.deps.log.debug({ err: error }, 'farm change feed: read failed; tried again'),
  );
  #stopped = false;
  #poll: NodeJS.Timeout | null = null;
  #reconnect: NodeJS.Timeout | null = null;

  constructor(private readonly deps: FarmFeedDeps) {
    // From the table's newest change when the daemon loaded it, not from the jobs it has read so
    // far (the finished ones may still be on their way in), nor from a write of its own since: a
    // change another host made before that write would be skipped.
    this.#lastSeq = deps.store.loadedUpTo;
  }

  async start(): Promise<void> {
    await this.#connect();
    this.#poll = setInterval(() => this.catchUp(), POLL_MS);
  }

  /** Reads every change since the last one seen (coalesced: one read at a time, one more if asked). */
  catchUp(): void {
    if (!this.#stopped) this.#reads.request();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#poll) clearInterval(this.#poll);
    if (this.#reconnect) clearTimeout(this.#reconnect);
    await this.#reads.settled();
    await this.#client?.end().catch(() => undefined);
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.deps.store.url, connectionTimeoutMillis: 10_000 });
    const lost = () => {
      if (this.#client !== client) return;
      this.#client = null;
      void client.end().catch(() => undefined);
      this.#scheduleReconnect();
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (message) => this.#notified(message.channel, message.payload ?? ''));
    this.#client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${JOBS_CHANNEL}`);
      await client.query(`LISTEN ${LIVE_CHANNEL}`);
    } catch (error) {
      lost();
      throw error;
    }
    // Whatever happened while not listening: removals by a full id read, changes by seq.
    await this.#reconcileRemovals();
    this.catchUp();
  }

  #scheduleReconnect(): void {
    if (this.#stopped || this.#reconnect) return;
    this.#reconnect = setTimeout(() => {
      this.#reconnect = null;
      this.#connect().catch(() => undefined);
    }, RECONNECT_MS);
  }

  #notified(channel: string, payload: string): void {
    if (channel === LIVE_CHANNEL) return this.#liveNotified(payload);
    if (payload.startsWith('deleted ')) {
      const id = payload.slice('deleted '.length);
      this.deps.store.seqs.delete(id);
      this.deps.ledger.drop(id);
      return;
    }
    this.catchUp();
  }

  #liveNotified(payload: string): void {
    let live: unknown;
    try {
      live = JSON.parse(payload);
    } catch {
      return;
    }
    // Another daemon wrote it, but it is still read as untrusted: a shape check, nothing more.
    if (!isLive(live) || live.host === this.deps.store.hostName) return;
    this.deps.onLive(live);
  }

  async #readChanges(): Promise<void> {
    const { store } = this.deps;
    for (;;) {
      const before = this.#lastSeq;
      const { rows } = await store.pool.query<ChangeRow>(SQL.changesSince, [String(before), SETTLE_SEC]);
      const wanted: string[] = [];
      let settledUpTo = this.#lastSeq;
      let unsettledSeen = false;
      for (const row of rows) {
        const seq = BigInt(row.seq);
        // The mark moves over settled rows only, and only until the first row that is not.
        if (row.settled && !unsettledSeen) settledUpTo = seq;
        else unsettledSeen = true;
        if (row.owner === store.hostName && store.claims.has(row.id)) {
          // This host's own job: its book has the newest version; only a cancel request is news.
          if (row.cancel_requested) this.deps.onCancelRequested(row.id);
          continue;
        }
        const known = store.seqs.get(row.id);
        if (known === undefined || BigInt(known) < seq) wanted.push(row.id);
      }
      if (wanted.length > 0) await this.#take(wanted);
      this.#lastSeq = settledUpTo;
      // A full page read on only while the mark moves (a page of unsettled rows waits for the next read).
      if (rows.length < 1000 || settledUpTo === before) return;
    }
  }

  /** The records of jobs changed elsewhere, into the book and the event stream. */
  async #take(ids: string[]): Promise<void> {
    const { store, ledger } = this.deps;
    const { rows } = await store.pool.query<{ id: string; record: unknown; seq: string; owner: string | null }>(SQL.recordsOf, [ids]);
    let waiting = false;
    for (const row of rows) {
      const known = store.seqs.get(row.id);
      if (known !== undefined && BigInt(known) >= BigInt(row.seq)) continue;
      if (store.claims.has(row.id)) continue;
      const read = store.readRow(row.record);
      if (!read.ok) continue;
      store.seqs.set(row.id, row.seq);
      ledger.observe(read.job);
      this.deps.onJob(read.job);
      if (read.job.status === 'queued' && row.owner === null) waiting = true;
    }
    if (waiting) this.deps.onWaiting();
  }

  async #reconcileRemovals(): Promise<void> {
    // The book's ids against the table, not the table's against the book: at a start the book holds
    // only the unfinished jobs (the finished are read after), and those few are all it sends.
    const known = this.deps.ledger.list().map((job) => job.id);
    if (known.length === 0) return;
    const { rows } = await this.deps.store.pool.query<{ id: string }>(SQL.goneOf, [known]);
    for (const { id } of rows) {
      this.deps.store.seqs.delete(id);
      this.deps.ledger.drop(id);
    }
  }
}

function isLive(value: unknown): value is LiveProgress & { host: string } {
  if (value === null || typeof value !== 'object') return false;
  const live = value as Record<string, unknown>;
  return typeof live['host'] === 'string' && typeof live['jobId'] === 'string' && typeof live['at'] === 'string' && typeof live['runSeconds'] === 'number' && live['progress'] !== null && typeof live['progress'] === 'object';
}

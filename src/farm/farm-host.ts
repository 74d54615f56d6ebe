// This daemon as a host of the farm: its row in encsup_hosts (heartbeat, cap, resources, drained),
// its claims on waiting jobs (only what it can start now, in one statement each), the leases of
// the jobs it holds (lease-keeper.ts), and the rescue of other hosts' expired claims (and, at its
// start, of its own earlier life's).
import type { Actor } from 'xstate';
import type { Job } from '../../machines/job-record.js';
import type { LifecycleEvent } from '../../machines/lifecycle.js';
import { freeResources } from '../../machines/resources.js';
import type { supervisorMachine } from '../../machines/supervisor-machine.js';
import type { Logger } from '../logger.js';
import type { JobLedger } from '../store/job-ledger.js';
import type { PostgresStore } from '../store/postgres-store.js';
import { SQL } from './farm-sql.js';
import { CoalescedRun } from './coalesced-run.js';
import { LeaseKeeper } from './lease-keeper.js';
import { rescueClaims } from './lease-rescue.js';
import type { RunGuards } from './run-guards.js';

export interface FarmHostDeps {
  store: PostgresStore;
  supervisor: Actor<typeof supervisorMachine>;
  ledger: JobLedger;
  guards: RunGuards;
  labels: string[];
  leaseMs: number;
  killGraceMs: number;
  log: Logger;
  nowIso: () => string;
  /** Announces what this host did to a job (a rescue), once the job's record is durable. */
  announce: (event: LifecycleEvent, job: Job) => void;
}

/** A host's row, as `encsup hosts` shows it. */
export interface HostRow {
  name: string;
  labels: string[];
  api_url: string | null;
  max_concurrent: number;
  capacity: Record<string, number>;
  running: number;
  draining: boolean;
  started_at: Date;
  heartbeat_at: Date;
  stopped_at: Date | null;
  heartbeat_age_sec: number;
  held_jobs: string[];
}

// With no cap (--max-concurrent 0), claims per pass: a host never takes the whole line at once.
const UNCAPPED_CLAIMS = 16;

export class FarmHost {
  readonly leases: LeaseKeeper;
  #draining = false;
  /** Another daemon took this host's name (its lock lapsed with a database restart). */
  #nameTaken = false;
  #stopped = false;
  #timer: NodeJS.Timeout | null = null;
  #tick: Promise<void> | null = null;
  readonly #claims = new CoalescedRun(
    () => this.#claimWhatFits(),
    (error) => this.#unreachable(error),
  );
  #unreachableSince: string | null = null;

  constructor(private readonly deps: FarmHostDeps) {
    this.leases = new LeaseKeeper({ ...deps, onUnreachable: (error) => this.#unreachable(error) });
  }

  /** Jobs this host lost: their announcements are dropped, their writes refused. */
  get lost(): ReadonlySet<string> {
    return this.deps.store.lost;
  }

  get name(): string {
    return this.deps.store.hostName;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Registers the host, takes back its earlier life's claims, then renews, rescues and claims. */
  async start(apiUrl: string): Promise<void> {
    const { store, supervisor, labels } = this.deps;
    const { maxConcurrent, capacity } = supervisor.getSnapshot().context;
    const { rows } = await store.pool.query<{ draining: boolean }>(SQL.registerHost, [store.hostName, JSON.stringify(labels), apiUrl, maxConcurrent, JSON.stringify(capacity)]);
    this.#draining = rows[0]?.draining === true;
    if (this.#draining) this.deps.log.warn({ host: store.hostName }, 'this host is drained: it starts no job until `encsup hosts resume` names it');
    await this.#rescue('own');
    this.leases.start();
    this.#timer = setInterval(() => void this.#runTick(), this.leases.renewEveryMs);
    this.wake();
  }

  /** Something changed (a job queued, a slot freed): claim what fits, soon. */
  wake(): void {
    if (!this.#stopped) this.#claims.request();
  }

  /** Every host's row, read now. */
  async hosts(): Promise<HostRow[]> {
    return (await this.deps.store.pool.query<HostRow>(SQL.listHosts)).rows;
  }

  /** Drains (or resumes) a host of the farm, this one or another; false when there is no such host. */
  async setDraining(name: string, draining: boolean): Promise<boolean> {
    const { rows } = await this.deps.store.pool.query(SQL.setDraining, [name, draining]);
    if (name === this.name && rows.length > 0) {
      this.#draining = draining;
      if (!draining) this.wake();
    }
    return rows.length > 0;
  }

  /** Stops claiming and renewing; the shutdown has already released what it held. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.leases.stop();
    await this.#tick;
    await this.#claims.settled();
    await this.deps.store.pool.query(SQL.hostStopped, [this.name]).catch(() => undefined);
  }

  #runTick(): void {
    if (this.#tick || this.#stopped) return;
    this.#tick = (async () => {
      try {
        await this.#keepName();
        await this.#heartbeat();
        await this.#rescue('expired');
        if (this.#unreachableSince !== null) this.deps.log.info({ since: this.#unreachableSince }, 'the PostgreSQL store answers again');
        this.#unreachableSince = null;
        this.wake();
      } catch (error) {
        this.#unreachable(error);
      } finally {
        this.#tick = null;
      }
    })();
  }

  /** After a database restart, the host name's lock again; a host whose name was taken meanwhile stops claiming. */
  async #keepName(): Promise<void> {
    if (await this.deps.store.holdHostName()) return;
    if (!this.#nameTaken) this.deps.log.error({ host: this.name }, 'another daemon took this host name while the database was away: this host starts no new job (restart it with another --host-name)');
    this.#nameTaken = true;
  }

  async #heartbeat(): Promise<void> {
    const { maxConcurrent, capacity, running } = this.deps.supervisor.getSnapshot().context;
    const { rows } = await this.deps.store.pool.query<{ draining: boolean }>(SQL.heartbeat, [this.name, maxConcurrent, JSON.stringify(capacity), running.length]);
    const draining = rows[0]?.draining === true;
    if (draining !== this.#draining) this.deps.log.info({ host: this.name }, draining ? 'drained: this host starts no new job; running ones finish' : 'resumed: this host takes jobs again');
    this.#draining = draining;
  }

  async #rescue(which: 'expired' | 'own'): Promise<void> {
    for (const { job, event } of await rescueClaims(this.deps.store, which, this.deps.nowIso())) {
      this.deps.log.warn({ jobId: job.id, status: job.status }, which === 'own' ? "took back a job this host held before it restarted" : 'took back a job whose host stopped renewing its lease');
      this.deps.announce(event, job);
    }
  }

  /** How many more jobs this host can start now: nothing is claimed to wait here. */
  #freeSlots(): number {
    const snapshot = this.deps.supervisor.getSnapshot();
    const { paused, queue, running, backingOff, maxConcurrent } = snapshot.context;
    if (this.#draining || this.#nameTaken || this.#stopped || paused || !snapshot.matches('accepting') || queue.size > 0) return 0;
    if (maxConcurrent === 0) return UNCAPPED_CLAIMS;
    return maxConcurrent - running.length - Object.keys(backingOff).length;
  }

  async #claimWhatFits(): Promise<void> {
    const { store, supervisor, ledger, labels } = this.deps;
    while (this.#freeSlots() > 0) {
      const { capacity, holding } = supervisor.getSnapshot().context;
      const free = freeResources(capacity, Object.values(holding).map((hold) => hold.needs));
      const sent = process.hrtime.bigint();
      const { rows } = await store.pool.query<{ id: string; record: unknown; lease_token: string; seq: string }>(SQL.claimNext, [this.name, labels, JSON.stringify(free), this.deps.leaseMs / 1000]);
      const row = rows[0];
      if (!row) return;
      this.leases.hold(row.id, { token: row.lease_token, deadlineNs: this.leases.deadlineAfter(sent) });
      store.seqs.set(row.id, row.seq);
      const read = store.readRow(row.record);
      if (!read.ok) {
        // Not a job: set aside where the operator finds it, as at a start.
        store.claims.delete(row.id);
        await store.pool.query(SQL.quarantine, [row.id, read.reason]);
        this.deps.log.warn({ jobId: row.id, problem: read.reason }, 'a stored record could not be read; set aside in encsup_quarantine');
        continue;
      }
      ledger.observe(read.job);
      supervisor.send({ type: 'TAKE', job: read.job });
    }
  }

  #unreachable(error: unknown): void {
    if (this.#unreachableSince !== null) return;
    this.#unreachableSince = this.deps.nowIso();
    this.deps.log.error({ err: error }, 'the PostgreSQL store does not answer: running jobs go on until their leases would run out, nothing new starts');
  }
}

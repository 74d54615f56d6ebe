// This daemon as a host of the farm: its row in encsup_hosts (heartbeat, cap, resources, drained),
// its claims on waiting jobs (only what it can start now), the leases of the jobs it holds
// (renewed every sixth of a lease, on the database's clock), the guards' deadlines that follow
// each renewal, cancel requests from other hosts, and the rescue of other hosts' expired claims.
// A claim this host can no longer renew is dropped here before its lease runs out: its encoder is
// ended (by the guard, if the daemon itself is frozen), and whatever it tries to write is refused.
import type { Actor } from 'xstate';
import type { Job } from '../../machines/job-record.js';
import type { LifecycleEvent } from '../../machines/lifecycle.js';
import { freeResources } from '../../machines/resources.js';
import type { supervisorMachine } from '../../machines/supervisor-machine.js';
import { LEASE_MARGIN_SEC } from '../config.js';
import type { Logger } from '../logger.js';
import type { JobLedger } from '../store/job-ledger.js';
import type { PostgresStore } from '../store/postgres-store.js';
import { SQL } from './farm-sql.js';
import { CoalescedRun } from './coalesced-run.js';
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

// How long before the guard's deadline the daemon ends a late run itself, so that it is stored as an
// interruption rather than seen as an encoder killed by a signal.
const DAEMON_LEAD_NS = 1_000_000_000n;

// With no cap (--max-concurrent 0), claims per pass: a host never takes the whole line at once.
const UNCAPPED_CLAIMS = 16;

export class FarmHost {
  readonly #cancelsSent = new Set<string>();
  #draining = false;
  #stopped = false;
  #timer: NodeJS.Timeout | null = null;
  #renewTimer: NodeJS.Timeout | null = null;
  #tick: Promise<void> | null = null;
  #renewing: Promise<void> | null = null;
  /** Jobs whose runs this host is ending because it could not renew their leases in time. */
  readonly #interrupting = new Set<string>();
  readonly #claims = new CoalescedRun(
    () => this.#claimWhatFits(),
    (error) => this.#unreachable(error),
  );
  #unreachableSince: string | null = null;

  constructor(private readonly deps: FarmHostDeps) {}

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

  get renewEveryMs(): number {
    return Math.max(250, Math.floor(this.deps.leaseMs / 6));
  }

  /** Registers the host, takes back its earlier life's claims, then renews, rescues and claims. */
  async start(apiUrl: string): Promise<void> {
    const { store, supervisor, labels } = this.deps;
    const { maxConcurrent, capacity } = supervisor.getSnapshot().context;
    const { rows } = await store.pool.query<{ draining: boolean }>(SQL.registerHost, [store.hostName, JSON.stringify(labels), apiUrl, maxConcurrent, JSON.stringify(capacity)]);
    this.#draining = rows[0]?.draining === true;
    if (this.#draining) this.deps.log.warn({ host: store.hostName }, 'this host is drained: it starts no job until `encsup hosts resume` names it');
    await this.#rescue('own');
    this.#timer = setInterval(() => void this.#runTick(), this.renewEveryMs);
    this.#renewTimer = setInterval(() => {
      // Not behind a renewal that hangs on a dead connection: the deadlines are checked anyway.
      this.#endOverdue();
      this.#runRenewal();
    }, this.renewEveryMs);
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

  /** Another host asked for this job's cancel: its owner (this host) ends it. */
  cancelRequested(id: string): void {
    if (!this.deps.store.claims.has(id) || this.#cancelsSent.has(id)) return;
    this.#cancelsSent.add(id);
    this.deps.supervisor.send({ type: 'CANCEL', id, at: this.deps.nowIso() });
  }

  /** The store turned down a write of this job: another host holds it now. */
  lose(id: string, why: string): void {
    const { claims, lost } = this.deps.store;
    claims.delete(id);
    this.#cancelsSent.delete(id);
    this.#interrupting.delete(id);
    if (lost.has(id)) return;
    lost.add(id);
    this.deps.log.warn({ jobId: id, host: this.name }, `this host lost the job: ${why}`);
    this.deps.supervisor.send({ type: 'LOST', id });
  }

  /** Stops claiming and renewing; the shutdown has already released what it held. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#renewTimer) clearInterval(this.#renewTimer);
    await this.#tick;
    await this.#renewing;
    await this.#claims.settled();
    await this.deps.store.pool.query(SQL.hostStopped, [this.name]).catch(() => undefined);
  }

  #deadlineAfter(sentNs: bigint): bigint {
    return sentNs + BigInt(this.deps.leaseMs - this.deps.killGraceMs - LEASE_MARGIN_SEC * 1000) * 1_000_000n;
  }

  #runTick(): void {
    if (this.#tick || this.#stopped) return;
    this.#tick = (async () => {
      try {
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

  /** Renewals run on a connection and a timer of their own: nothing else delays them. */
  #runRenewal(): void {
    if (this.#renewing || this.#stopped) return;
    this.#renewing = (async () => {
      try {
        await this.#renew();
      } catch (error) {
        this.#unreachable(error);
      } finally {
        this.#renewing = null;
      }
    })();
  }

  /**
   * Claims whose renewals are late. A second before the guard's deadline the daemon ends the run
   * itself, as an interruption (stored, if the database still takes it, and the job goes back in
   * line at once); past the guard's deadline the claim is dropped: the guard has ended the run.
   */
  #endOverdue(): void {
    const now = process.hrtime.bigint();
    const { running, external } = this.deps.supervisor.getSnapshot().context;
    for (const [id, claim] of this.deps.store.claims) {
      if (claim.deadlineNs <= now) {
        this.lose(id, 'its lease could not be renewed in time');
      } else if (claim.deadlineNs - DAEMON_LEAD_NS <= now && !this.#interrupting.has(id)) {
        if (!running.includes(id) && !external.includes(id)) {
          this.lose(id, 'its lease could not be renewed in time');
          continue;
        }
        this.#interrupting.add(id);
        this.deps.log.warn({ jobId: id, host: this.name }, 'ending a run whose lease this host could not renew in time; the job goes back in line');
        this.deps.supervisor.send({ type: 'INTERRUPT', id, reason: `host ${this.name} could not renew its lease in time` });
      }
    }
  }

  async #renew(): Promise<void> {
    const { store, guards } = this.deps;
    const held = [...store.claims.entries()];
    if (held.length === 0) return;
    const sent = process.hrtime.bigint();
    const { rows } = await store.leasePool.query<{ id: string; lease_token: string; cancel_requested: boolean }>(SQL.renewLeases, [this.name, held.map(([, claim]) => claim.token), this.deps.leaseMs / 1000]);
    const renewed = new Map(rows.map((row) => [row.id, row]));
    const deadline = this.#deadlineAfter(sent);
    for (const [id, claim] of held) {
      const row = renewed.get(id);
      if (store.claims.get(id) !== claim) continue;
      if (!row) {
        const { rows: state } = await store.pool.query(SQL.claimState, [id, claim.token]).catch(() => ({ rows: [] }));
        if (store.claims.get(id) === claim) this.lose(id, `its lease ran out before this host renewed it (${JSON.stringify(state[0] ?? 'no such job')})`);
        continue;
      }
      claim.deadlineNs = deadline;
      guards.extend(id, deadline);
      // A missed notification is caught here.
      if (row.cancel_requested) this.cancelRequested(id);
    }
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
    if (this.#draining || this.#stopped || paused || !snapshot.matches('accepting') || queue.size > 0) return 0;
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
      store.claims.set(row.id, { token: row.lease_token, deadlineNs: this.#deadlineAfter(sent) });
      store.lost.delete(row.id);
      store.seqs.set(row.id, row.seq);
      this.#cancelsSent.delete(row.id);
      this.#interrupting.delete(row.id);
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

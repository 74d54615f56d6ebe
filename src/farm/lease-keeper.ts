// The leases of the jobs this host holds: renewed every sixth of a lease on a connection and a
// timer of their own (nothing else delays them), each renewal moving the guards' deadlines on; a
// claim whose renewals are late is ended before its lease can run out (by the daemon a second
// before its guard would, as an interruption); a claim the database no longer shows as this
// host's is lost: its run is dropped here and nothing more of it is written.
import type { Actor } from 'xstate';
import { hasActor, type supervisorMachine } from '../../machines/supervisor-machine.js';
import { LEASE_MARGIN_SEC } from '../config.js';
import type { Logger } from '../logger.js';
import type { HeldClaim, PostgresStore } from '../store/postgres-store.js';
import { SQL } from './farm-sql.js';
import type { RunGuards } from './run-guards.js';

export interface LeaseKeeperDeps {
  store: PostgresStore;
  supervisor: Actor<typeof supervisorMachine>;
  guards: RunGuards;
  leaseMs: number;
  killGraceMs: number;
  log: Logger;
  nowIso: () => string;
  /** A renewal failed: the database does not answer. */
  onUnreachable: (error: unknown) => void;
}

// How long before the guard's deadline the daemon ends a late run itself, so that it is stored as an
// interruption rather than seen as an encoder killed by a signal.
const DAEMON_LEAD_NS = 1_000_000_000n;

export class LeaseKeeper {
  readonly #cancelsSent = new Set<string>();
  /** Jobs whose runs this host is ending because it could not renew their leases in time. */
  readonly #interrupting = new Set<string>();
  #timer: NodeJS.Timeout | null = null;
  #renewing: Promise<void> | null = null;

  constructor(private readonly deps: LeaseKeeperDeps) {}

  get renewEveryMs(): number {
    return Math.max(250, Math.floor(this.deps.leaseMs / 6));
  }

  get #host(): string {
    return this.deps.store.hostName;
  }

  start(): void {
    this.#timer = setInterval(() => {
      // Not behind a renewal that hangs on a dead connection: the deadlines are checked anyway.
      this.#endOverdue();
      if (!this.#renewing) this.#renewing = this.#renew().catch(this.deps.onUnreachable).finally(() => (this.#renewing = null));
    }, this.renewEveryMs);
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#renewing;
  }

  /** When a run claimed or renewed now must be gone (the guard's deadline), on the monotonic clock. */
  deadlineAfter(sentNs: bigint): bigint {
    return sentNs + BigInt(this.deps.leaseMs - this.deps.killGraceMs - LEASE_MARGIN_SEC * 1000) * 1_000_000n;
  }

  /** A claim just made: held from now on, with nothing of an earlier one of the same job. */
  hold(id: string, claim: HeldClaim): void {
    this.deps.store.claims.set(id, claim);
    this.deps.store.lost.delete(id);
    this.#cancelsSent.delete(id);
    this.#interrupting.delete(id);
  }

  /** Another host asked for this job's cancel: its owner (this host) ends it. */
  cancelRequested(id: string): void {
    if (!this.deps.store.claims.has(id) || this.#cancelsSent.has(id)) return;
    this.#cancelsSent.add(id);
    this.deps.supervisor.send({ type: 'CANCEL', id, at: this.deps.nowIso() });
  }

  /** Another host holds the job now (or may at any moment): dropped here, written nowhere. */
  lose(id: string, why: string): void {
    const { claims, lost } = this.deps.store;
    claims.delete(id);
    this.#cancelsSent.delete(id);
    this.#interrupting.delete(id);
    if (lost.has(id)) return;
    lost.add(id);
    this.deps.log.warn({ jobId: id, host: this.#host }, `this host lost the job: ${why}`);
    this.deps.supervisor.send({ type: 'LOST', id });
  }

  /**
   * Claims whose renewals are late. A second before the guard's deadline the daemon ends the run
   * itself, as an interruption (stored, if the database still takes it, and the job goes back in
   * line at once); past the guard's deadline the claim is dropped: the guard has ended the run.
   */
  #endOverdue(): void {
    const now = process.hrtime.bigint();
    const { context } = this.deps.supervisor.getSnapshot();
    for (const [id, claim] of this.deps.store.claims) {
      const late = claim.deadlineNs - DAEMON_LEAD_NS <= now;
      const runsHere = hasActor(context, id);
      if (claim.deadlineNs <= now || (late && !runsHere)) {
        this.lose(id, 'its lease could not be renewed in time');
      } else if (late && !this.#interrupting.has(id)) {
        this.#interrupting.add(id);
        this.deps.log.warn({ jobId: id, host: this.#host }, 'ending a run whose lease this host could not renew in time; the job goes back in line');
        this.deps.supervisor.send({ type: 'INTERRUPT', id, reason: `host ${this.#host} could not renew its lease in time` });
      }
    }
  }

  async #renew(): Promise<void> {
    const { store, guards } = this.deps;
    const held = [...store.claims.entries()];
    if (held.length === 0) return;
    const sent = process.hrtime.bigint();
    const { rows } = await store.leasePool.query<{ id: string; cancel_requested: boolean }>(SQL.renewLeases, [this.#host, held.map(([, claim]) => claim.token), this.deps.leaseMs / 1000]);
    const renewed = new Map(rows.map((row) => [row.id, row]));
    const deadline = this.deadlineAfter(sent);
    for (const [id, claim] of held) {
      const row = renewed.get(id);
      if (store.claims.get(id) !== claim) continue;
      if (!row) {
        // Why, for the log: who holds it now, whether the lease had ended.
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
}

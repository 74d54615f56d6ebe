// Changes to waiting jobs in a farm: the line is the job table, not any one supervisor. A job no
// host holds is changed here by a write that only lands if no host claimed it meanwhile; a job this
// host holds goes through its supervisor as on one box; a job another host holds gets a durable
// cancel request, which its owner acts on (notified at once, or at its next renewal at the latest).
import type { Actor } from 'xstate';
import type { Job } from '../../machines/job-record.js';
import type { LifecycleEvent } from '../../machines/lifecycle.js';
import { toCancelled } from '../../machines/job-updates.js';
import { beyondCapacity } from '../../machines/resources.js';
import type { supervisorMachine } from '../../machines/supervisor-machine.js';
import { type JobQueueing, RequestError } from '../jobs/job-requests.js';
import type { JobLedger } from '../store/job-ledger.js';
import { StoreRefusal } from '../store/job-store.js';
import type { PostgresStore } from '../store/postgres-store.js';
import { SQL } from './farm-sql.js';

export interface FarmQueueingDeps {
  store: PostgresStore;
  supervisor: Actor<typeof supervisorMachine>;
  ledger: JobLedger;
  nowIso: () => string;
  announce: (event: LifecycleEvent, job: Job) => void;
  /** A job is waiting: this host may claim it. */
  wake: () => void;
  /** What each live host of the farm has (as its last heartbeat said), for the submit check. */
  hostCapacities: () => Promise<Record<string, number>[]>;
}

export function farmQueueing(deps: FarmQueueingDeps): JobQueueing {
  const { store, supervisor, ledger, nowIso, announce } = deps;
  const heldHere = (id: string) => store.claims.has(id);
  /** One try at a change to a job no host holds; false when a host claimed it first. */
  const changeUnclaimed = async (job: Job): Promise<boolean> => {
    try {
      await ledger.tryRecord(job);
      return true;
    } catch (error) {
      if (error instanceof StoreRefusal) return false;
      throw new RequestError('unavailable', `the job store cannot be written (${(error as Error).message})`);
    }
  };
  return {
    // An external job waits for a file that this host's watcher sees: it stays here.
    prepare: (job) => (job.external && job.on === null ? { ...job, on: store.hostName } : job),
    submitted: (job) => {
      announce({ kind: 'submitted', jobId: job.id, at: job.updatedAt, name: job.name, priority: job.priority }, job);
      deps.wake();
    },
    retried: (job) => {
      announce({ kind: 'requeued', jobId: job.id, at: job.updatedAt, reason: 'manual-retry' }, job);
      deps.wake();
    },
    async cancel(job) {
      const at = nowIso();
      if (heldHere(job.id)) return void supervisor.send({ type: 'CANCEL', id: job.id, at });
      // Waiting in the farm's line (whether or not it ran before): cancelled here, unless a host claimed it first.
      if (job.status === 'queued') {
        const cancelled = toCancelled(job, at);
        if (await changeUnclaimed(cancelled)) return announce({ kind: 'cancelled', jobId: job.id, at }, ledger.held(job.id) ?? cancelled);
      }
      // Held by a host (maybe since a moment ago): its owner ends it.
      await store.pool.query(SQL.requestCancel, [job.id]).catch((error: Error) => {
        throw new RequestError('unavailable', `the cancel could not be stored (${error.message}); try again`);
      });
    },
    async reprioritize(job, priority) {
      if (heldHere(job.id)) {
        supervisor.send({ type: 'REPRIORITIZE', id: job.id, priority, at: nowIso() });
        return ledger.whenDurable(job.id);
      }
      const moved = { ...job, priority };
      if (await changeUnclaimed(moved)) announce({ kind: 'reprioritized', jobId: job.id, at: nowIso(), priority }, moved);
    },
    async unmetNeeds(job) {
      const own = supervisor.getSnapshot().context.capacity;
      if (beyondCapacity(job.needs, own).length === 0) return null;
      if ((await deps.hostCapacities()).some((capacity) => beyondCapacity(job.needs, capacity).length === 0)) return null;
      return `more than any host of the farm has: ${beyondCapacity(job.needs, own).join(', ')}`;
    },
  };
}

// The status transitions each job went through, for the dashboard's statechart view: read from
// the lifecycle events (each kind that moves a status says to which). Kept in memory since the
// daemon started; earlier runs show in each job's history.
import type { Job, JobStatus } from '../../machines/job-record.js';
import { type LifecycleEvent, STATUS_AFTER } from '../../machines/lifecycle.js';

export interface Transition {
  from: JobStatus | null;
  to: JobStatus;
  at: string;
}

const MAX_PER_JOB = 200;

export class TransitionLog {
  readonly #byJob = new Map<string, Transition[]>();

  /** A job found in the store at start: where it stands now. */
  seed(job: Job): void {
    this.#add(job.id, job.status, job.updatedAt);
  }

  observe(event: LifecycleEvent): void {
    const to = STATUS_AFTER[event.kind];
    if (to !== null) this.#add(event.jobId, to, event.at);
  }

  of(id: string): Transition[] {
    return [...(this.#byJob.get(id) ?? [])];
  }

  #add(id: string, to: JobStatus, at: string): void {
    const list = this.#byJob.get(id) ?? [];
    const last = list.at(-1);
    if (last?.to === to) return;
    list.push({ from: last?.to ?? null, to, at });
    if (list.length > MAX_PER_JOB) list.shift();
    this.#byJob.set(id, list);
  }
}

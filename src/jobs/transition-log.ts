// The status transitions each job went through, for the dashboard's statechart view: read from
// the lifecycle events (each kind that moves a status says to which). Kept in memory since the
// daemon started, for the jobs that moved last; earlier runs show in each job's history.
import type { Job, JobStatus } from '../../machines/job-record.js';
import { type LifecycleEvent, STATUS_AFTER } from '../../machines/lifecycle.js';

export interface Transition {
  from: JobStatus | null;
  to: JobStatus;
  at: string;
}

const MAX_PER_JOB = 200;
// Jobs whose transitions are kept: those that moved last. A daemon that runs for months through
// millions of short jobs holds no more; the others show where they stand now.
const MAX_JOBS = 5000;

export class TransitionLog {
  readonly #byJob = new Map<string, Transition[]>();

  observe(event: LifecycleEvent): void {
    const to = STATUS_AFTER[event.kind];
    if (to !== null) this.#add(event.jobId, to, event.at);
  }

  /** The job's transitions seen since the start; where it stands now, for one that has not moved since. */
  of(job: Pick<Job, 'id' | 'status' | 'updatedAt'>): Transition[] {
    return [...(this.#byJob.get(job.id) ?? [{ from: null, to: job.status, at: job.updatedAt }])];
  }

  #add(id: string, to: JobStatus, at: string): void {
    const list = this.#byJob.get(id) ?? [];
    const last = list.at(-1);
    if (last?.to === to) return;
    list.push({ from: last?.to ?? null, to, at });
    if (list.length > MAX_PER_JOB) list.shift();
    // Moved to the end: the first is the job that moved longest ago.
    this.#byJob.delete(id);
    this.#byJob.set(id, list);
    if (this.#byJob.size > MAX_JOBS) this.#byJob.delete(this.#byJob.keys().next().value!);
  }
}

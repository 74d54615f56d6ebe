// The status transitions each job went through, as the store saw them, for the dashboard's
// statechart view. Kept in memory since the daemon started; earlier runs show in each job's history.
import type { Job, JobStatus } from '../../machines/job-record.js';

export interface Transition {
  from: JobStatus | null;
  to: JobStatus;
  at: string;
}

const MAX_PER_JOB = 200;

export class TransitionLog {
  readonly #byJob = new Map<string, Transition[]>();

  observe(job: Job): void {
    const list = this.#byJob.get(job.id) ?? [];
    const last = list.at(-1);
    if (last?.to === job.status) return;
    list.push({ from: last?.to ?? null, to: job.status, at: job.updatedAt });
    if (list.length > MAX_PER_JOB) list.shift();
    this.#byJob.set(job.id, list);
  }

  of(id: string): Transition[] {
    return [...(this.#byJob.get(id) ?? [])];
  }
}

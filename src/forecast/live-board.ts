// Progress as it is now for each running job, kept in memory from the runner's live updates: the
// store holds throttled writes, but whoever reads a job (the API, the CLI, the dashboard) sees its
// latest frame, fps, speed and percent, and an ETA that counts down between the encoder's reports
// (an encoder with -stats_period 5 reports every 5 s; the time left does not stand still).
import { type Job, type ProgressFields, progressFieldsOf } from '../../machines/job-record.js';
import type { LiveProgress } from '../runner/runner-actor.js';

interface Seen {
  progress: ProgressFields;
  atMs: number;
}

export class LiveBoard {
  readonly #latest = new Map<string, Seen>();

  constructor(private readonly nowMs: () => number) {}

  record(update: LiveProgress): void {
    this.#latest.set(update.jobId, { progress: update.progress, atMs: this.nowMs() });
  }

  /** The job's run ended (or never started): its stored record is the truth again. */
  forget(jobId: string): void {
    this.#latest.delete(jobId);
  }

  /** The job as it is now: a running job's live progress over its stored record, the ETA counted down. */
  current(job: Job): Job {
    if (job.status !== 'encoding') return job;
    const seen = this.#latest.get(job.id);
    const stored = { progress: progressFieldsOf(job), atMs: Date.parse(job.updatedAt) };
    const latest = seen && seen.atMs >= stored.atMs ? seen : stored;
    const eta = latest.progress.etaSeconds;
    const etaSeconds = eta === null ? null : Math.max(0, Math.round(eta - Math.max(0, this.nowMs() - latest.atMs) / 1000));
    return { ...job, ...latest.progress, etaSeconds };
  }

  get size(): number {
    return this.#latest.size;
  }
}

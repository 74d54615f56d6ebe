// What a start makes of the jobs it finds in the store, after a clean stop or a `kill -9`. A job
// that was encoding or finalizing goes back in line, its progress reset and its place kept (its
// interrupted run is in `attempts` and its history, but spends no attempt of the encoder's budget:
// interruptions have their own), or fails once interruptions alone used up theirs; its encoder, if it outlived the daemon, is ended
// first, so that one job never has two encoders. Pure: the caller ends the orphans.
import type { Job } from '../machines/job-record.js';
import { INTERRUPTION_BUDGET, attemptInBudget, interruptionsInBudget, toInterrupted } from '../machines/job-updates.js';

export interface Orphan {
  jobId: string;
  pid: number;
  pidStartTicks: number | null;
}

export interface Recovery {
  /** Jobs whose record changed and must be written back. */
  changed: Job[];
  /** Jobs to put in line, oldest first. */
  queued: Job[];
  /** Encoders recorded as running: end them if they still are. */
  orphans: Orphan[];
}

/** `what` says what cut the runs short, for their reason: the daemon's stop, a lost host. */
export function recoverJobs(jobs: Job[], nowIso: string, what = 'the daemon stopped'): Recovery {
  const changed: Job[] = [];
  const queued: Job[] = [];
  const orphans: Orphan[] = [];
  for (const job of jobs) {
    if (job.status === 'encoding' || job.status === 'finalizing') {
      if (job.pid !== null) orphans.push({ jobId: job.id, pid: job.pid, pidStartTicks: job.pidStartTicks });
      const reason = `${what} during attempt ${attemptInBudget(job)} of ${job.maxAttempts}`;
      const requeued = toInterrupted(job, reason, nowIso);
      // External jobs ran nothing here: waiting again costs nothing. Others spend an interruption,
      // not an attempt: a crash loop of the daemon fails nobody's encode before its time.
      const interruptions = interruptionsInBudget(requeued);
      if (job.external || interruptions < INTERRUPTION_BUDGET) {
        changed.push(requeued);
        queued.push(requeued);
      } else {
        const error = `interrupted ${interruptions} times: the daemon stopped or crashed during each of this job's last ${interruptions} runs (it may be what takes the daemon down)`;
        changed.push({ ...requeued, status: 'failed', error, failureKind: 'interrupted', failureEvidence: null, finishedAt: nowIso });
      }
    } else if (job.status === 'queued') {
      queued.push(job);
    }
  }
  queued.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  return { changed, queued, orphans };
}

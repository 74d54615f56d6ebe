// What a start makes of the jobs it finds in the store. A job that was encoding or finalizing when
// the daemon stopped goes back in line; its interrupted run already counts in `attempts`.
import type { Job } from '../machines/job-record.js';

export interface Recovery {
  /** Jobs whose record changed and must be written back. */
  changed: Job[];
  /** Jobs to put in line, oldest first. */
  queued: Job[];
}

export function recoverJobs(jobs: Job[]): Recovery {
  const changed: Job[] = [];
  const queued: Job[] = [];
  for (const job of jobs) {
    if (job.status === 'encoding' || job.status === 'finalizing') {
      const requeued: Job = { ...job, status: 'queued', pid: null, terminationReason: null, etaSeconds: null };
      changed.push(requeued);
      queued.push(requeued);
    } else if (job.status === 'queued') {
      queued.push(job);
    }
  }
  queued.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  return { changed, queued };
}

// How long finished jobs and their logs are kept: `--keep-finished 30d` removes finished jobs (and
// their logs) that ended longer ago than that; `--keep-logs 7d` removes only the logs, keeping the
// record (its last output lines stay in it). 0 keeps them forever. Pure: which jobs are due.
import { type Job, isFinished } from '../../machines/job-record.js';
import type { JobSummary } from '../store/job-summary.js';

/** `30d`, `12h`, `90m`, `45s` or plain seconds; null for anything else. */
export function parseAge(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?$/.exec(text.trim());
  if (!match) return null;
  const unit = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[(match[2] ?? 's') as 's' | 'm' | 'h' | 'd' | 'w'];
  return Number(match[1]) * unit;
}

/** Finished jobs that ended before `nowMs - ageSec` (and, where given, have one of the statuses). */
export function finishedBefore<T extends Pick<JobSummary, 'status' | 'endedMs'>>(jobs: readonly T[], nowMs: number, ageSec: number, statuses?: readonly Job['status'][]): T[] {
  const cutoff = nowMs - ageSec * 1000;
  return jobs.filter((job) => isFinished(job.status) && (!statuses || statuses.includes(job.status)) && job.endedMs < cutoff);
}

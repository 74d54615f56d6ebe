// A job as it leaves the daemon (API, event stream, dashboard, CLI): its environment's names are
// shown, their values never are. The store keeps the values, so retries still run with them.
import type { Job } from '../../machines/job-record.js';

export const MASKED = '***';

export function publicJob<T extends Job>(job: T): T {
  const names = Object.keys(job.env);
  if (names.length === 0) return job;
  return { ...job, env: Object.fromEntries(names.map((name) => [name, MASKED])) };
}

// What a complete file in a watched folder means: the output of a job that waits for it, a
// replaced output of a job already finished (reported, never finalized again), or nothing of ours
// (logged, never an error). Pure: the jobs come in as a parameter.
import { isFinished } from '../../machines/job-record.js';
import type { JobSummary } from '../store/job-summary.js';

export type OutputOwner =
  | { kind: 'job-output'; jobId: string }
  | { kind: 'output-replaced'; jobId: string }
  | { kind: 'unmatched' };

export function ownerOfOutput(path: string, jobs: Iterable<Pick<JobSummary, 'id' | 'output' | 'status' | 'endedMs'>>): OutputOwner {
  let finished: Pick<JobSummary, 'id' | 'endedMs'> | null = null;
  for (const job of jobs) {
    if (job.output !== path) continue;
    if (!isFinished(job.status)) return { kind: 'job-output', jobId: job.id };
    if (!finished || job.endedMs > finished.endedMs) finished = job;
  }
  return finished ? { kind: 'output-replaced', jobId: finished.id } : { kind: 'unmatched' };
}

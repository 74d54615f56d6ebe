// Finalizing's check of a job's output: it must exist and hold bytes. (Media validation with
// ffprobe comes on top of this.)
import { stat } from 'node:fs/promises';
import type { Job } from '../../machines/job-record.js';

export async function checkOutput(job: Pick<Job, 'output'>): Promise<void> {
  if (job.output === null) return;
  let size: number;
  try {
    size = (await stat(job.output)).size;
  } catch {
    throw new Error(`the encoder exited 0 but its output ${job.output} does not exist`);
  }
  if (size === 0) throw new Error(`the encoder exited 0 but its output ${job.output} is empty`);
}

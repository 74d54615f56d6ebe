// Moving jobs from one store to another (`encsup migrate-store`: the job file into PostgreSQL).
// Every record the source can read is written to the target; jobs the target already holds are
// kept as they are there, unless asked to replace them. The source is left as it was.
import type { JobStore } from './job-store.js';

export interface CopyReport {
  copied: number;
  /** Ids already in the target, left as they were there. */
  kept: string[];
  /** What the source could not read (set aside by it, as at a daemon's start). */
  problems: string[];
}

export async function copyJobs(source: JobStore, target: JobStore, options: { replace: boolean }): Promise<CopyReport> {
  const { jobs, problems } = await source.loadAll();
  const present = new Set((await target.loadAll()).jobs.map((job) => job.id));
  const kept: string[] = [];
  let copied = 0;
  for (const job of jobs) {
    if (present.has(job.id) && !options.replace) {
      kept.push(job.id);
      continue;
    }
    await target.put(job);
    copied++;
  }
  await target.sync();
  return { copied, kept, problems };
}

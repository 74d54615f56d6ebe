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
  const { active, finished, problems } = await source.load();
  const inTarget = await target.load();
  const present = new Set([...inTarget.active.map((job) => job.id), ...inTarget.finished.keys()]);
  const kept: string[] = [];
  let copied = 0;
  // A finished job is read whole only when it is copied: the store may hold a great many.
  for (const each of [...active, ...finished.values()]) {
    if (present.has(each.id) && !options.replace) {
      kept.push(each.id);
      continue;
    }
    const job = 'command' in each ? each : await source.read(each.id);
    if (job === undefined) {
      problems.push(`job ${each.id}: its record could not be read back, and was not copied`);
      continue;
    }
    await target.put(job);
    copied++;
  }
  await target.sync();
  return { copied, kept, problems };
}

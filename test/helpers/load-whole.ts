// Every job a store holds, whole: what `load` summarizes of the finished ones read back by id, as
// the daemon reads one when asked. For tests that check what a store kept.
import type { Job } from '../../machines/job-record.js';
import type { JobStore } from '../../src/store/job-store.js';

export async function loadWhole(store: JobStore): Promise<{ jobs: Job[]; problems: string[] }> {
  const { active, finished, problems } = await store.load();
  const jobs = [...active];
  for (const summary of finished.values()) {
    const job = await store.read(summary.id);
    if (job === undefined) throw new Error(`job ${summary.id} is listed as finished but cannot be read back`);
    jobs.push(job);
  }
  return { jobs, problems };
}

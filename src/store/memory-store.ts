// A JobStore in memory, for unit tests that need a store but not a disk. Records are kept as JSON
// text, as a real store keeps bytes, so nothing shares objects with the caller; `reopen()` gives a
// new store over the same records, as reopening a file does. It passes the same contract suite as
// the job file store (test/store.test.ts), so it can't drift from what a real store does.
import { type Job, isFinished } from '../../machines/job-record.js';
import type { JobStore, LoadedJobs } from './job-store.js';
import { summarize } from './job-summary.js';

export interface MemoryStore extends JobStore {
  /** A new store over the same records. */
  reopen(): MemoryStore;
  /** While set, every put fails with this error and stores nothing (a full or read-only disk). */
  failWrites(error: Error | null): void;
}

export function openMemoryStore(records: Map<string, string> = new Map()): MemoryStore {
  let failure: Error | null = null;
  return {
    async load(): Promise<LoadedJobs> {
      const jobs = [...records.values()].map((text) => JSON.parse(text) as Job);
      return { active: jobs.filter((job) => !isFinished(job.status)), finished: new Map(jobs.filter((job) => isFinished(job.status)).map((job) => [job.id, summarize(job)])), problems: [] };
    },
    async read(id: string): Promise<Job | undefined> {
      const text = records.get(id);
      return text === undefined ? undefined : (JSON.parse(text) as Job);
    },
    async put(job: Job): Promise<void> {
      if (failure) throw failure;
      records.set(job.id, JSON.stringify(job));
    },
    async remove(id: string): Promise<void> {
      if (failure) throw failure;
      records.delete(id);
    },
    async sync(): Promise<void> {
      if (failure) throw failure;
    },
    async checkWritable(): Promise<void> {
      if (failure) throw failure;
    },
    async close(): Promise<void> {},
    reopen: () => openMemoryStore(records),
    failWrites(error) {
      failure = error;
    },
  };
}

// What encsup needs from a store, and nothing of how one works. The nedb file is the default; a
// store for many hosts implements the same interface and passes the same conformance tests.
import type { Job } from '../../machines/job-record.js';

export interface LoadedJobs {
  jobs: Job[];
  /** Records that could not be read (a half-written last line after a crash), described. */
  problems: string[];
}

export interface JobStore {
  /** Every job in the store. */
  loadAll(): Promise<LoadedJobs>;
  /** Writes the whole record, replacing any earlier one with the same id. */
  put(job: Job): Promise<void>;
  close(): Promise<void>;
}

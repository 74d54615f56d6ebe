// What encsup needs from a store, and nothing of how one works. The job file is the default; a
// store for many hosts implements the same interface and passes the same conformance tests.
import type { Job } from '../../machines/job-record.js';
import type { JobSummary } from './job-summary.js';

export interface LoadedJobs {
  /** Every job not yet finished, whole (recovery and the waiting line need them). */
  active: Job[];
  /** Every finished job by id, summarized (`read` gives one whole): the caller's to keep. */
  finished: Map<string, JobSummary>;
  /** Records that could not be read (a half-written last line after a crash), described. */
  problems: string[];
}

/**
 * A load in two parts, for a store whose finished jobs take long to read (a hundred thousand of
 * them, in the job file or a farm's table): the daemon adopts the unfinished jobs, recovers them
 * and serves, and the finished ones join its book when they have been read (finished-loading.ts).
 */
export interface StagedLoad {
  /** Every job not yet finished, whole (and any row that turns out finished after all). */
  active(): Promise<LoadedJobs>;
  /** Every finished job by id, summarized (and any row that turns out unfinished after all). */
  finished(): Promise<LoadedJobs>;
}

/**
 * Both parts of a staged load as one (`load`): where both name a job, the second's version. The
 * larger map of finished jobs is kept and the smaller put into it: a hundred thousand not copied.
 */
export function joinStages(first: LoadedJobs, second: LoadedJobs): LoadedJobs {
  let finished: Map<string, JobSummary>;
  if (first.finished.size > second.finished.size) {
    finished = first.finished;
    for (const [id, summary] of second.finished) finished.set(id, summary);
  } else {
    finished = second.finished;
    for (const [id, summary] of first.finished) if (!finished.has(id)) finished.set(id, summary);
  }
  return { active: [...first.active, ...second.active], finished, problems: [...first.problems, ...second.problems] };
}

export interface JobStore {
  /** Every job in the store: the unfinished whole, the finished summarized. */
  load(): Promise<LoadedJobs>;
  /** Where the store reads its finished jobs apart: both parts of `load`, the unfinished first. */
  readonly staged?: StagedLoad;
  /**
   * One job's whole record as last put (synced or not); undefined when the store has none, or
   * when its record cannot be read back as a job (it is then set aside, as `load` does).
   */
  read(id: string): Promise<Job | undefined>;
  /** Writes the whole record, replacing any earlier one with the same id; durable after `sync`. */
  put(job: Job): Promise<void>;
  /** Removes the record with this id (a finished job an operator or the retention cleans away); durable after `sync`. */
  remove(id: string): Promise<void>;
  /** Makes every put so far durable (fsync): one call for many puts, a group commit. */
  sync(): Promise<void>;
  /**
   * Writes every put so far where a reader and a restarted daemon find it, without waiting for the
   * disk (no fsync): the next `sync` makes it durable. Where absent, `sync` does this too.
   */
  writeOut?(): Promise<void>;
  /**
   * True where each put is durable once it resolves (a committed transaction): the change is made
   * visible then, not at the batch's sync, so this host never shows it later than other hosts do.
   */
  readonly durablePuts?: boolean;
  /** Rejects while the store can't take a write (disk full, read-only); changes no record. */
  checkWritable(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A change the store turns down for good, though it works: another writer holds the job (a farm
 * host's lease) or changed it since it was read. Never retried; the writer learns it lost the job.
 */
export class StoreRefusal extends Error {
  constructor(
    readonly jobId: string,
    message: string,
  ) {
    super(message);
  }
}

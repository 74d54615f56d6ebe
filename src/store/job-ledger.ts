// The daemon's book of jobs: every change goes to the store first (through the write queue) and
// becomes visible (API, events) only once it is durable. This is the committed view: what the
// store holds, with a way to wait for a job to reach a state.
import { EventEmitter } from 'node:events';
import { type Job, type JobStatus, isFinished } from '../../machines/job-record.js';
import type { JobStore, StoreRefusal } from './job-store.js';
import { type StoreFailure, WriteQueue } from './write-queue.js';

export interface JobLedgerOptions {
  nowIso: () => string;
  /** Called on every failed write; a change the daemon made is retried until it succeeds. */
  onWriteError: (job: Job, error: unknown) => void;
  /** Called when the store turns a change of the daemon's down for good (a farm host lost the job). */
  onRefused?: (job: Job, refusal: StoreRefusal) => void;
  retryMs?: number;
}

export class JobLedger {
  readonly #committed = new Map<string, Job>();
  readonly #events = new EventEmitter();
  readonly #writes: WriteQueue;

  constructor(
    private readonly store: JobStore,
    private readonly options: JobLedgerOptions,
  ) {
    this.#events.setMaxListeners(0);
    this.#writes = new WriteQueue(store, {
      nowIso: options.nowIso,
      onWriteError: options.onWriteError,
      ...(options.onRefused ? { onRefused: options.onRefused } : {}),
      ...(options.retryMs === undefined ? {} : { retryMs: options.retryMs }),
      onWritten: (job) => {
        this.#committed.set(job.id, job);
        this.#events.emit('committed', job);
      },
    });
  }

  /** Fills the book with what the store already holds (at start), without writing. */
  adopt(jobs: Job[]): void {
    for (const job of jobs) this.#committed.set(job.id, job);
  }

  /** How long the store's latest commits took (for health). */
  commitTimes(): { lastMs: number | null; slowestRecentMs: number | null } {
    return this.#writes.commitTimes();
  }

  /**
   * A version some other writer stored (another host of the farm), as the change feed read it:
   * visible and waited for like one of the daemon's own, never written back.
   */
  observe(job: Job): void {
    this.#committed.set(job.id, job);
    this.#events.emit('committed', job);
  }

  /** A job another writer removed from the store. */
  drop(id: string): void {
    this.#committed.delete(id);
  }

  get(id: string): Job | undefined {
    return this.#committed.get(id);
  }

  /** The newest version recorded, durable or still waiting to be written. */
  latest(id: string): Job | undefined {
    return this.#writes.pending(id) ?? this.#committed.get(id);
  }

  list(status?: JobStatus): Job[] {
    const all = [...this.#committed.values()];
    return status ? all.filter((job) => job.status === status) : all;
  }

  get size(): number {
    return this.#committed.size;
  }

  /** Stores a change the daemon made; resolves once it (or a newer one) is durable. */
  record(job: Job): Promise<void> {
    return this.#writes.write(this.#stamp(job));
  }

  /**
   * One try to store a change a client asked for (a submission, a retry): it is accepted only when
   * it is durable, so when the store refuses the write the promise rejects and nothing is kept.
   */
  tryRecord(job: Job): Promise<void> {
    return this.#writes.tryWrite(this.#stamp(job));
  }

  whenDurable(id: string): Promise<void> {
    return this.#writes.whenDurable(id);
  }

  whenIdle(): Promise<void> {
    return this.#writes.whenIdle();
  }

  get failure(): StoreFailure | null {
    return this.#writes.failure;
  }

  /** Calls back with every job version once it is durable; returns the unsubscribe. */
  onCommitted(listener: (job: Job) => void): () => void {
    this.#events.on('committed', listener);
    return () => this.#events.off('committed', listener);
  }

  /** The job once it satisfies `predicate`, or its latest durable version when time is up. */
  waitFor(id: string, predicate: (job: Job) => boolean, timeoutMs: number): Promise<Job | undefined> {
    const current = this.get(id);
    if (current && predicate(current)) return Promise.resolve(current);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        stop();
        resolve(this.get(id));
      }, timeoutMs);
      const stop = this.onCommitted((job) => {
        if (job.id !== id || !predicate(job)) return;
        clearTimeout(timer);
        stop();
        resolve(job);
      });
    });
  }

  /**
   * Removes finished jobs from the store and the book, for good: each only once its last change
   * is durable, and only while it is still finished (a retry in between keeps it). The ids removed.
   */
  async forget(ids: readonly string[]): Promise<string[]> {
    const removed: string[] = [];
    for (const id of ids) {
      await this.#writes.whenDurable(id);
      const job = this.#committed.get(id);
      if (!job || !isFinished(job.status) || this.#writes.pending(id)) continue;
      await this.store.remove(id);
      await this.store.sync();
      this.#committed.delete(id);
      removed.push(id);
    }
    return removed;
  }

  #stamp(job: Job): Job {
    return { ...job, updatedAt: this.options.nowIso() };
  }
}

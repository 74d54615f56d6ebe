// The daemon's book of jobs: every change goes to the store first and becomes visible (API, events)
// only once it is durable. Writes for one job are serialized and coalesced: while one is in flight,
// only the newest of the changes that arrive is written next.
import { EventEmitter } from 'node:events';
import type { Job, JobStatus } from '../../machines/job-record.js';
import type { JobStore } from './job-store.js';

export interface JobLedgerOptions {
  nowIso: () => string;
  /** Called on every failed write; the write is retried until it succeeds. */
  onWriteError: (job: Job, error: unknown) => void;
  retryMs?: number;
}

export class JobLedger {
  readonly #committed = new Map<string, Job>();
  readonly #latest = new Map<string, Job>();
  readonly #chains = new Map<string, Promise<void>>();
  readonly #events = new EventEmitter();

  constructor(
    private readonly store: JobStore,
    private readonly options: JobLedgerOptions,
  ) {
    this.#events.setMaxListeners(0);
  }

  /** Fills the book with what the store already holds (at start), without writing. */
  adopt(jobs: Job[]): void {
    for (const job of jobs) this.#committed.set(job.id, job);
  }

  get(id: string): Job | undefined {
    return this.#committed.get(id);
  }

  list(status?: JobStatus): Job[] {
    const all = [...this.#committed.values()];
    return status ? all.filter((job) => job.status === status) : all;
  }

  get size(): number {
    return this.#committed.size;
  }

  /** Stores the job; resolves once this version, or a newer one, is durable. */
  record(job: Job): Promise<void> {
    this.#latest.set(job.id, { ...job, updatedAt: this.options.nowIso() });
    const next = (this.#chains.get(job.id) ?? Promise.resolve()).then(() => this.#flush(job.id));
    this.#chains.set(job.id, next);
    void next.finally(() => {
      if (this.#chains.get(job.id) === next) this.#chains.delete(job.id);
    });
    return next;
  }

  /** Resolves once every change recorded so far for this job is durable. */
  whenDurable(id: string): Promise<void> {
    return this.#chains.get(id) ?? Promise.resolve();
  }

  async whenIdle(): Promise<void> {
    while (this.#chains.size > 0) await Promise.all(this.#chains.values());
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

  async #flush(id: string): Promise<void> {
    const job = this.#latest.get(id);
    if (!job) return; // an earlier flush already wrote the newest version
    this.#latest.delete(id);
    for (;;) {
      try {
        await this.store.put(job);
        break;
      } catch (error) {
        this.options.onWriteError(job, error);
        await new Promise((resolve) => setTimeout(resolve, this.options.retryMs ?? 1000));
        // A newer version that arrived meanwhile supersedes this one.
        if (this.#latest.has(id)) return this.#flush(id);
      }
    }
    this.#committed.set(id, job);
    this.#events.emit('committed', job);
  }
}

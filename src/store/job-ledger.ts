// The daemon's book of jobs: every change goes to the store first and becomes visible (API, events)
// only once it is durable. Writes go out one at a time in the order the changes happened, so the
// store never shows a later change without an earlier one (a job started before the one it replaced
// is recorded as finished). A job with a change still waiting to be written keeps its place in line
// and is written once, with its newest version.
import { EventEmitter } from 'node:events';
import type { Job, JobStatus } from '../../machines/job-record.js';
import type { JobStore } from './job-store.js';

export interface JobLedgerOptions {
  nowIso: () => string;
  /** Called on every failed write; the write is retried until it succeeds. */
  onWriteError: (job: Job, error: unknown) => void;
  retryMs?: number;
}

interface PendingWrite {
  job: Job;
  written: Promise<void>;
  resolve: () => void;
  /** Set for a change not yet accepted: one try, and a refusal goes back to the client. */
  reject?: (error: Error) => void;
}

export class JobLedger {
  readonly #committed = new Map<string, Job>();
  /** Changes waiting to be written, in the order of each job's first waiting change. */
  readonly #pending = new Map<string, PendingWrite>();
  #inFlight: { id: string; written: Promise<void> } | null = null;
  #draining: Promise<void> | null = null;
  #failure: { since: string; message: string } | null = null;
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

  /** The newest version recorded, durable or still waiting to be written. */
  latest(id: string): Job | undefined {
    return this.#pending.get(id)?.job ?? this.#committed.get(id);
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
    const stamped = { ...job, updatedAt: this.options.nowIso() };
    const waiting = this.#pending.get(job.id);
    if (waiting) {
      waiting.job = stamped;
      return waiting.written;
    }
    let resolve!: () => void;
    const written = new Promise<void>((done) => (resolve = done));
    this.#pending.set(job.id, { job: stamped, written, resolve });
    this.#draining ??= this.#drain();
    return written;
  }

  /**
   * One try to store a change a client asked for (a submission, a retry): it is accepted only when
   * it is durable, so when the store refuses the write the promise rejects and nothing is kept.
   */
  tryRecord(job: Job): Promise<void> {
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const written = new Promise<void>((done, fail) => {
      resolve = done;
      reject = fail;
    });
    this.#pending.set(job.id, { job: { ...job, updatedAt: this.options.nowIso() }, written, resolve, reject });
    this.#draining ??= this.#drain();
    return written;
  }

  /** Resolves once every change recorded so far for this job is durable. */
  whenDurable(id: string): Promise<void> {
    return this.#pending.get(id)?.written ?? (this.#inFlight?.id === id ? this.#inFlight.written : Promise.resolve());
  }

  async whenIdle(): Promise<void> {
    while (this.#draining) await this.#draining;
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

  async #drain(): Promise<void> {
    for (;;) {
      const next = this.#pending.entries().next();
      // Checked and cleared with no await between, so a change recorded now starts a new drain.
      if (next.done) return void (this.#draining = null);
      const [id, entry] = next.value;
      this.#pending.delete(id);
      this.#inFlight = { id, written: entry.written.catch(() => undefined) };
      if (entry.reject) {
        try {
          await this.#writeOnce(entry.job);
        } catch (error) {
          this.#inFlight = null;
          entry.reject(error as Error);
          continue;
        }
      } else {
        await this.#write(entry.job);
      }
      this.#committed.set(id, entry.job);
      this.#inFlight = null;
      entry.resolve();
      this.#events.emit('committed', entry.job);
    }
  }

  /** Null while the store takes writes; else since when it has refused them, and why. */
  get failure(): { since: string; message: string } | null {
    return this.#failure;
  }

  async #writeOnce(job: Job): Promise<void> {
    try {
      await this.store.put(job);
      this.#failure = null;
    } catch (error) {
      this.#failure ??= { since: this.options.nowIso(), message: (error as Error).message };
      this.options.onWriteError(job, error);
      throw error;
    }
  }

  /** Retries until the store takes it: an accepted job is never dropped. */
  async #write(job: Job): Promise<void> {
    for (;;) {
      try {
        await this.store.put(job);
        this.#failure = null;
        return;
      } catch (error) {
        this.#failure ??= { since: this.options.nowIso(), message: (error as Error).message };
        this.options.onWriteError(job, error);
        await new Promise((resolve) => setTimeout(resolve, this.options.retryMs ?? 1000));
      }
    }
  }
}

// The daemon's book of jobs: every change goes to the store first (through the write queue) and
// becomes visible (API, events) only once it is durable. This is the committed view: what the
// store holds, with a way to wait for a job to reach a state. Unfinished jobs are held whole; a
// finished one as its summary (job-summary.ts), with the latest few whole as well: the store
// gives the rest whole when asked, so a hundred thousand finished jobs cost a few tens of MB.
import { EventEmitter } from 'node:events';
import { type Job, type JobStatus, isFinished } from '../../machines/job-record.js';
import type { JobStore, StoreRefusal } from './job-store.js';
import { type JobSummary, countByStatus, summarize } from './job-summary.js';
import { type StoreFailure, WriteQueue } from './write-queue.js';

// Finished jobs also held whole, the latest first: a client that waited for a job to end reads it next.
const RECENT_FINISHED = 256;

export interface JobLedgerOptions {
  nowIso: () => string;
  /** Called on every failed write; a change the daemon made is retried until it succeeds. */
  onWriteError: (job: Job, error: unknown) => void;
  /** Called when the store turns a change of the daemon's down for good (a farm host lost the job). */
  onRefused?: (job: Job, refusal: StoreRefusal) => void;
  retryMs?: number;
  /** How long a running job's run state alone may wait for the next batch (WriteQueue.writeRunState). */
  runStateHoldMs?: number;
}

export class JobLedger {
  readonly #active = new Map<string, Job>();
  #finished = new Map<string, JobSummary>();
  readonly #recent = new Map<string, Job>();
  readonly #events = new EventEmitter();
  readonly #writes: WriteQueue;
  // While the finished jobs are still being read (a staged load): what the book learned meanwhile
  // that the read must not undo, and how waiters learn the book is whole.
  #loading: { removed: Set<string>; whole: Promise<void>; done: () => void } | null = null;

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
      ...(options.runStateHoldMs === undefined ? {} : { runStateHoldMs: options.runStateHoldMs }),
      onWritten: (job) => {
        this.#hold(job);
        this.#events.emit('committed', job);
      },
    });
  }

  /** Fills the book with what the store already holds (at start), without writing. */
  adopt(active: readonly Job[], finished: Map<string, JobSummary>): void {
    // Taken over as it is where the book is empty (a start): a hundred thousand entries not copied.
    if (this.#finished.size === 0) this.#finished = finished;
    else for (const [id, summary] of finished) this.#finished.set(id, summary);
    for (const job of active) this.#hold(job);
  }

  /**
   * The finished jobs are still to come (a staged load): until `adoptFinished`, the book holds only
   * the unfinished ones and what happened since, and `whenWhole` waits.
   */
  expectFinished(): void {
    if (this.#loading) return;
    let done!: () => void;
    const whole = new Promise<void>((resolve) => (done = resolve));
    this.#loading = { removed: new Set(), whole, done };
  }

  /**
   * The finished jobs of a staged load, read after the book started: each joins it unless the book
   * knows newer (a change committed or seen since) or it was removed meanwhile. The book is whole.
   */
  adoptFinished(loaded: { active: readonly Job[]; finished: Map<string, JobSummary> }): void {
    const removed = this.#loading?.removed ?? new Set<string>();
    const known = (id: string) => this.#active.has(id) || this.#finished.has(id) || removed.has(id);
    // The read's map becomes the book's, a hundred thousand entries not copied: what the book
    // learned meanwhile (few) goes into it instead, over what the read found.
    const finished = loaded.finished;
    for (const id of removed) finished.delete(id);
    for (const id of this.#active.keys()) finished.delete(id);
    for (const [id, summary] of this.#finished) finished.set(id, summary);
    this.#finished = finished;
    for (const job of loaded.active) if (!known(job.id)) this.#hold(job);
    this.#loading?.done();
    this.#loading = null;
  }

  /** Whether the book holds every job the store has (false while a staged load reads the finished). */
  get whole(): boolean {
    return this.#loading === null;
  }

  /** Resolves once the book holds every job the store has. */
  whenWhole(): Promise<void> {
    return this.#loading?.whole ?? Promise.resolve();
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
    this.#hold(job);
    this.#events.emit('committed', job);
  }

  /** A job another writer removed from the store. */
  drop(id: string): void {
    this.#loading?.removed.add(id);
    this.#active.delete(id);
    this.#finished.delete(id);
    this.#recent.delete(id);
  }

  /** The job whole as committed, where the ledger holds it so: unfinished, or finished lately. */
  held(id: string): Job | undefined {
    return this.#active.get(id) ?? this.#recent.get(id);
  }

  /** The job whole as committed, read from the store where the ledger holds only its summary. */
  async read(id: string): Promise<Job | undefined> {
    const held = this.held(id);
    // While the finished jobs are still coming, one not in the book yet may be in the store.
    if (held !== undefined || (this.whole && !this.#finished.has(id))) return held;
    const stored = await this.store.read(id);
    // Changed while it was read: the ledger's version is the newer.
    const now = this.held(id);
    if (now !== undefined) return now;
    // Not there, or set aside (quarantine.jsonl) as no job: gone from the book too.
    if (stored === undefined) {
      this.#finished.delete(id);
      return undefined;
    }
    if (this.#finished.has(id) && isFinished(stored.status)) this.#keepRecent(stored);
    return stored;
  }

  has(id: string): boolean {
    return this.#active.has(id) || this.#finished.has(id);
  }

  /** The newest version recorded, durable or still waiting to be written, where held whole. */
  latest(id: string): Job | undefined {
    return this.#writes.pending(id) ?? this.held(id);
  }

  /** Every job, summarized (or those with this status). */
  list(status?: JobStatus): JobSummary[] {
    const finished = status === undefined || isFinished(status);
    const active = status === undefined || !isFinished(status);
    const all: JobSummary[] = active ? this.active(status).map(summarize) : [];
    if (finished) for (const summary of this.#finished.values()) if (status === undefined || summary.status === status) all.push(summary);
    return all;
  }

  /** The unfinished jobs, whole (or those with this status). */
  active(status?: JobStatus): Job[] {
    const all = [...this.#active.values()];
    return status === undefined ? all : all.filter((job) => job.status === status);
  }

  /** Jobs by status. */
  counts(): Record<JobStatus, number> {
    return countByStatus(this.#active.values(), this.#finished.values());
  }

  get size(): number {
    return this.#active.size + this.#finished.size;
  }

  /** Stores a change the daemon made; resolves once it (or a newer one) is durable. */
  record(job: Job): Promise<void> {
    return this.#writes.write(this.#stamp(job));
  }

  /**
   * Stores a change of a running job's run state alone (its progress, its encoder's pid): written
   * with the next batch (held a moment for one), made durable by the next sync that a change
   * needing one asks for (WriteQueue.writeRunState).
   */
  recordRunState(job: Job): Promise<void> {
    return this.#writes.writeRunState(this.#stamp(job));
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
    const current = this.held(id);
    if (current && predicate(current)) return Promise.resolve(current);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        stop();
        resolve(this.read(id));
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
      if (!this.#finished.has(id) || this.#writes.pending(id)) continue;
      await this.store.remove(id);
      await this.store.sync();
      this.drop(id);
      removed.push(id);
    }
    return removed;
  }

  /** A committed version: whole while unfinished; summarized once finished, and whole for a while. */
  #hold(job: Job): void {
    if (!isFinished(job.status)) {
      this.#active.set(job.id, job);
      this.#finished.delete(job.id);
      this.#recent.delete(job.id);
      return;
    }
    this.#active.delete(job.id);
    this.#finished.set(job.id, summarize(job));
    this.#keepRecent(job);
  }

  #keepRecent(job: Job): void {
    this.#recent.delete(job.id);
    this.#recent.set(job.id, job);
    if (this.#recent.size > RECENT_FINISHED) this.#recent.delete(this.#recent.keys().next().value!);
  }

  #stamp(job: Job): Job {
    return { ...job, updatedAt: this.options.nowIso() };
  }
}

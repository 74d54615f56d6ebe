// The one writer to the store. Writes go out one at a time in the order the changes happened, so
// the store never holds a later change without an earlier one (a job started before the one it
// replaced is stored as finished). A job with a change still waiting keeps its place in line and
// is written once, with its newest version. Every failure is counted here, in one place.
import type { Job } from '../../machines/job-record.js';
import type { JobStore } from './job-store.js';

export interface WriteQueueOptions {
  nowIso: () => string;
  /** Called on every failed write. */
  onWriteError: (job: Job, error: unknown) => void;
  /** Called with each version once the store has it. */
  onWritten: (job: Job) => void;
  /** Pause between tries of a change that must not be dropped. */
  retryMs?: number;
}

interface PendingWrite {
  job: Job;
  written: Promise<void>;
  resolve: () => void;
  /** Set for a change not yet accepted: one try, and a refusal goes back to the client. */
  reject?: (error: Error) => void;
}

export interface StoreFailure {
  since: string;
  message: string;
}

export class WriteQueue {
  /**
   * Changes waiting to be written, in the order they were first queued. The daemon's own changes
   * of a job share one entry (keyed by the job id) that takes the newest version; each one-try
   * change a client asked for has an entry of its own, so neither can swallow the other.
   */
  readonly #pending = new Map<string, PendingWrite>();
  #onceCount = 0;
  #inFlight: { id: string; written: Promise<void> } | null = null;
  #draining: Promise<void> | null = null;
  #failure: StoreFailure | null = null;

  constructor(
    private readonly store: JobStore,
    private readonly options: WriteQueueOptions,
  ) {}

  /** Resolves once this version, or a newer one of the same job, is durable; retried until it is. */
  write(job: Job): Promise<void> {
    const waiting = this.#pending.get(job.id);
    if (waiting && !waiting.reject) {
      waiting.job = job;
      return waiting.written;
    }
    return this.#add(job, false);
  }

  /** One try: rejects, and keeps nothing, when the store refuses it. */
  tryWrite(job: Job): Promise<void> {
    return this.#add(job, true);
  }

  /** The newest version still waiting to be written, if any. */
  pending(id: string): Job | undefined {
    return this.#entriesOf(id).at(-1)?.job;
  }

  /** Resolves once every change queued so far for this job has been written or refused. */
  async whenDurable(id: string): Promise<void> {
    const waits = this.#entriesOf(id).map((entry) => entry.written.catch(() => undefined));
    if (this.#inFlight?.id === id) waits.push(this.#inFlight.written);
    await Promise.all(waits);
  }

  async whenIdle(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  /** Null while the store takes writes; else since when it has refused them, and why. */
  get failure(): StoreFailure | null {
    return this.#failure;
  }

  #add(job: Job, once: boolean): Promise<void> {
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const written = new Promise<void>((done, fail) => {
      resolve = done;
      reject = fail;
    });
    this.#pending.set(once ? `${job.id}\u0000${this.#onceCount++}` : job.id, { job, written, resolve, ...(once ? { reject } : {}) });
    this.#draining ??= this.#drain();
    return written;
  }

  #entriesOf(id: string): PendingWrite[] {
    return [...this.#pending.values()].filter((entry) => entry.job.id === id);
  }

  async #drain(): Promise<void> {
    for (;;) {
      const next = this.#pending.entries().next();
      // Checked and cleared with no await between, so a change queued now starts a new drain.
      if (next.done) return void (this.#draining = null);
      const [key, entry] = next.value;
      this.#pending.delete(key);
      this.#inFlight = { id: entry.job.id, written: entry.written.catch(() => undefined) };
      const stored = await this.#put(entry.job, entry.reject ? 1 : Infinity);
      this.#inFlight = null;
      if (stored !== true) {
        entry.reject!(stored);
        continue;
      }
      this.options.onWritten(entry.job);
      entry.resolve();
    }
  }

  /** True once stored; the last error when every try failed. */
  async #put(job: Job, tries: number): Promise<true | Error> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.store.put(job);
        this.#failure = null;
        return true;
      } catch (error) {
        this.#failure ??= { since: this.options.nowIso(), message: (error as Error).message };
        this.options.onWriteError(job, error);
        if (attempt >= tries) return error as Error;
        await new Promise((resolve) => setTimeout(resolve, this.options.retryMs ?? 1000));
      }
    }
  }
}

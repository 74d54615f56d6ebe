// The one writer to the store. Writes go out one at a time in the order the changes happened, so
// the store never holds a later change without an earlier one (a job started before the one it
// replaced is stored as finished). A job with a change still waiting keeps its place in line and
// is written once, with its newest version. What waits is written as one batch and made durable by
// one sync (a group commit): confirmed means on disk, at one fsync for many changes. Every failure
// is counted here, in one place.
import type { Job } from '../../machines/job-record.js';
import { type JobStore, StoreRefusal } from './job-store.js';

export interface WriteQueueOptions {
  nowIso: () => string;
  /** Called on every failed write. */
  onWriteError: (job: Job, error: unknown) => void;
  /** Called with each version once the store has it. */
  onWritten: (job: Job) => void;
  /** Called when the store turns a change of the daemon's down for good (StoreRefusal): dropped. */
  onRefused?: (job: Job, refusal: StoreRefusal) => void;
  /** Pause between tries of a change that must not be dropped, and between probes of a failed store. */
  retryMs?: number;
  /** How long a change of a running job's run state alone may wait for company (writeRunState); 0: none waits. */
  runStateHoldMs?: number;
}

interface PendingWrite {
  job: Job;
  written: Promise<void>;
  resolve: () => void;
  /** Set for a change not yet accepted: one try, and a refusal goes back to the client. */
  reject?: (error: Error) => void;
  /** Whether the batch that writes it must sync: false while it is a change of run state alone. */
  mustSync: boolean;
}

export interface StoreFailure {
  since: string;
  message: string;
}

// Commits remembered for the health report's store latency.
const RECENT_COMMITS = 20;
// A running job's run state (its progress, its encoder's pid) is stored at most this long after it
// changed: encoders report a few times a second each, and a write per report (a wake-up of the
// daemon when it completes, a database commit in a farm) would be most of what the daemon does
// while jobs run. Views follow progress live (the event stream's updates), not through the store.
export const RUN_STATE_HOLD_MS = 1000;

export class WriteQueue {
  /**
   * Changes waiting to be written, in the order they were first queued. The daemon's own changes
   * of a job share one entry (keyed by the job id) that takes the newest version; each one-try
   * change a client asked for has an entry of its own, so neither can swallow the other.
   */
  readonly #pending = new Map<string, PendingWrite>();
  /**
   * Changes of run state alone, by job, waiting for the next batch that another change starts or
   * for the hold to end, whichever comes first: what every running job reported meanwhile goes
   * out in one batch, each job's newest version only.
   */
  readonly #held = new Map<string, PendingWrite>();
  #holdEnds: NodeJS.Timeout | null = null;
  #onceCount = 0;
  /** The batch being written and synced: out of `#pending`, not yet durable. */
  #batch: PendingWrite[] = [];
  #draining: Promise<void> | null = null;
  #failure: StoreFailure | null = null;

  constructor(
    private readonly store: JobStore,
    private readonly options: WriteQueueOptions,
  ) {}

  /** Resolves once this version, or a newer one of the same job, is durable; retried until it is. */
  write(job: Job): Promise<void> {
    return this.#queue(job, true);
  }

  /**
   * A change of a running job's run state alone (its progress, its encoder's pid: what a power
   * cut makes moot, since the encoder ends with it): held until the next batch that another change
   * starts, or for at most `runStateHoldMs`, and a batch of such changes alone is not synced
   * (store.writeOut): the next batch that holds any other change syncs it with the rest. A crash
   * of the daemon loses at most the hold's worth (a pid never stored is found by its run's tag), a
   * power cut at most what changed since the last sync; every transition stays confirmed only once
   * on disk. Resolves once written.
   */
  writeRunState(job: Job): Promise<void> {
    const holdMs = this.options.runStateHoldMs ?? RUN_STATE_HOLD_MS;
    if (holdMs <= 0 || this.#pending.has(job.id)) return this.#queue(job, false);
    const held = this.#held.get(job.id);
    if (held) {
      held.job = job;
      return held.written;
    }
    const entry = this.#entry(job, false, false);
    this.#held.set(job.id, entry);
    this.#holdEnds ??= setTimeout(() => this.#releaseHeld(), holdMs);
    return entry.written;
  }

  /** The held run state goes out now, by itself if nothing else is waiting. */
  #releaseHeld(): void {
    this.#moveHeld();
    this.#draining ??= this.#drain();
  }

  /**
   * The held run state joins the changes waiting, ahead of whatever is queued next: the store
   * still takes every change in the order it was made. The caller starts the drain.
   */
  #moveHeld(): void {
    if (this.#holdEnds !== null) clearTimeout(this.#holdEnds);
    this.#holdEnds = null;
    for (const [id, entry] of this.#held) {
      // Every path that queues a change moves the held first, so the job has none waiting here;
      // were one ever there, it would be the newer, and its write this one's too.
      const waiting = this.#pending.get(id);
      if (waiting) void waiting.written.then(entry.resolve, entry.resolve);
      else this.#pending.set(id, entry);
    }
    this.#held.clear();
  }

  #queue(job: Job, mustSync: boolean): Promise<void> {
    this.#moveHeld();
    const waiting = this.#pending.get(job.id);
    if (waiting && !waiting.reject) {
      waiting.job = job;
      waiting.mustSync ||= mustSync;
      // It may be held run state just moved, with no drain under way yet.
      this.#draining ??= this.#drain();
      return waiting.written;
    }
    return this.#add(job, false, mustSync);
  }

  /**
   * One try: rejects, and keeps nothing, when the store refuses it. While the store is known to
   * refuse writes it rejects at once: a client is told in well under a second, rather than waiting
   * behind the daemon's own changes, which are retried until the store takes them.
   */
  tryWrite(job: Job): Promise<void> {
    if (this.#failure) return Promise.reject(new Error(`${this.#failure.message} (since ${this.#failure.since})`));
    return this.#add(job, true, true);
  }

  /** The newest version still waiting to be durable, if any. */
  pending(id: string): Job | undefined {
    return this.#entriesOf(id).at(-1)?.job;
  }

  /** Resolves once every change queued so far for this job has been written or refused. */
  async whenDurable(id: string): Promise<void> {
    await Promise.all(this.#entriesOf(id).map((entry) => entry.written.catch(() => undefined)));
  }

  /** Resolves once everything queued so far, held run state too, is written (or refused). */
  async whenIdle(): Promise<void> {
    if (this.#held.size > 0) this.#releaseHeld();
    while (this.#draining) await this.#draining;
  }

  /** Null while the store takes writes; else since when it has refused them, and why. */
  get failure(): StoreFailure | null {
    return this.#failure;
  }

  #add(job: Job, once: boolean, mustSync: boolean): Promise<void> {
    this.#moveHeld();
    const entry = this.#entry(job, once, mustSync);
    this.#pending.set(once ? `${job.id}\u0000${this.#onceCount++}` : job.id, entry);
    this.#draining ??= this.#drain();
    return entry.written;
  }

  #entry(job: Job, once: boolean, mustSync: boolean): PendingWrite {
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const written = new Promise<void>((done, fail) => {
      resolve = done;
      reject = fail;
    });
    return { job, written, resolve, mustSync, ...(once ? { reject } : {}) };
  }

  readonly #commitMs: number[] = [];

  #noteCommit(ms: number): void {
    this.#commitMs.push(ms);
    if (this.#commitMs.length > RECENT_COMMITS) this.#commitMs.shift();
  }

  /** How long the latest commits (writes and their sync) took: the last, and the slowest lately. */
  commitTimes(): { lastMs: number | null; slowestRecentMs: number | null } {
    return { lastMs: this.#commitMs.at(-1) ?? null, slowestRecentMs: this.#commitMs.length > 0 ? Math.max(...this.#commitMs) : null };
  }

  #entriesOf(id: string): PendingWrite[] {
    const held = this.#held.get(id);
    return [...this.#batch, ...this.#pending.values(), ...(held ? [held] : [])].filter((entry) => entry.job.id === id);
  }

  async #drain(): Promise<void> {
    for (;;) {
      // Everything waiting now is one batch: written in order, then made durable by one sync.
      // Held run state rides along with any other change.
      if (this.#pending.size > 0) this.#moveHeld();
      const batch = [...this.#pending.entries()];
      // Checked and cleared with no await between, so a change queued now starts a new drain.
      if (batch.length === 0) return void (this.#draining = null);
      for (const [key] of batch) this.#pending.delete(key);
      this.#batch = batch.map(([, entry]) => entry);
      const started = performance.now();
      const written: PendingWrite[] = [];
      let stored = 0;
      for (const entry of this.#batch) {
        const outcome = await this.#put(entry.job, entry.reject ? 1 : Infinity);
        if (outcome !== true) {
          if (entry.reject) entry.reject(outcome);
          else {
            // Turned down for good (StoreRefusal): nothing of it is visible, and whoever waits goes on.
            this.options.onRefused?.(entry.job, outcome as StoreRefusal);
            entry.resolve();
          }
          continue;
        }
        stored++;
        if (this.store.durablePuts) this.#durable(entry);
        else written.push(entry);
      }
      // Confirmed means on disk: nothing of the batch is visible or answered before the sync (or,
      // where each put is durable by itself, before its put). Run state alone is only written out.
      const mustSync = this.#batch.some((entry) => entry.mustSync);
      const refused = await this.#sync(written, mustSync);
      if (stored > 0 && mustSync) this.#noteCommit(performance.now() - started);
      for (const entry of written) if (!refused.has(entry)) this.#durable(entry);
      this.#batch = [];
    }
  }

  /** A change durable now: visible and answered, and the store known to take writes again. */
  #durable(entry: PendingWrite): void {
    // Only once a change is durable: a put alone may just be held in memory (the job file writes
    // at sync), so health would say writable while it is not.
    this.#failure = null;
    this.options.onWritten(entry.job);
    entry.resolve();
  }

  /**
   * Makes the batch durable. A failed sync refuses the clients' changes at once (they are told,
   * and never become visible); the daemon's own are synced again until the disk takes them.
   * Returns the refused entries.
   */
  async #sync(written: PendingWrite[], mustSync: boolean): Promise<Set<PendingWrite>> {
    const refused = new Set<PendingWrite>();
    if (written.length === 0) return refused;
    for (;;) {
      try {
        await (mustSync || !this.store.writeOut ? this.store.sync() : this.store.writeOut());
        return refused;
      } catch (error) {
        this.#noteFailure(error as Error);
        for (const entry of written) {
          if (refused.has(entry)) continue;
          if (!entry.reject) {
            this.options.onWriteError(entry.job, error);
            continue;
          }
          refused.add(entry);
          entry.reject(error as Error);
        }
        if (written.every((entry) => refused.has(entry))) return refused;
        await new Promise((resolve) => setTimeout(resolve, this.options.retryMs ?? 1000));
        // A store that writes at sync (the job file) kept nothing of the failed batch: the
        // daemon's own changes are put again; the refused clients' are not.
        for (const entry of written) if (!refused.has(entry)) await this.#put(entry.job, Infinity);
      }
    }
  }

  /** True once stored; the last error when every try failed. */
  async #put(job: Job, tries: number): Promise<true | Error> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.store.put(job);
        return true;
      } catch (error) {
        // The store works and said no: not a failure of it, and no retry changes the answer.
        if (error instanceof StoreRefusal) return error;
        this.#noteFailure(error as Error);
        this.options.onWriteError(job, error);
        if (attempt >= tries) return error as Error;
        await new Promise((resolve) => setTimeout(resolve, this.options.retryMs ?? 1000));
      }
    }
  }

  #noteFailure(error: Error): void {
    if (this.#failure !== null) return;
    this.#failure = { since: this.options.nowIso(), message: error.message };
    this.#refuseWaitingClients(error);
    this.#probeUntilWritable();
  }

  /** Clients' one-try changes queued before the failure was known: refused now, not after the retries ahead of them. */
  #refuseWaitingClients(error: Error): void {
    for (const [key, entry] of this.#pending) {
      if (!entry.reject) continue;
      this.#pending.delete(key);
      entry.reject(error);
    }
  }

  /**
   * While the store refuses writes and nothing of the daemon's is being retried, a probe write
   * tells when it takes them again, so health recovers by itself, with no client having to try.
   */
  #probeUntilWritable(): void {
    const timer = setTimeout(async () => {
      if (this.#failure === null) return;
      if (this.#draining === null) {
        try {
          await this.store.checkWritable();
          this.#failure = null;
          return;
        } catch {
          // Still refused: probe again.
        }
      }
      this.#probeUntilWritable();
    }, this.options.retryMs ?? 1000);
    timer.unref();
  }
}

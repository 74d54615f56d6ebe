// The waiting line: highest priority first, then oldest first. A sorted array with binary-search
// insertion (as p-queue does), so picking the next job is O(1) and a submission O(log n) compares.

export interface QueuedJob {
  id: string;
  priority: number;
  /** ISO time of submission; ties on priority go to the oldest. */
  createdAt: string;
}

interface Entry<T extends QueuedJob> {
  job: T;
  createdMs: number;
  /** Breaks ties between jobs created in the same millisecond: first enqueued, first out. */
  seq: number;
}

function runsBefore(a: Entry<QueuedJob>, b: Entry<QueuedJob>): boolean {
  if (a.job.priority !== b.job.priority) return a.job.priority > b.job.priority;
  if (a.createdMs !== b.createdMs) return a.createdMs < b.createdMs;
  return a.seq < b.seq;
}

export class JobQueue<T extends QueuedJob = QueuedJob> {
  readonly #entries: Entry<T>[] = [];
  #nextSeq = 0;

  get size(): number {
    return this.#entries.length;
  }

  enqueue(job: T): void {
    const entry: Entry<T> = { job, createdMs: Date.parse(job.createdAt), seq: this.#nextSeq++ };
    // First index whose entry the new one runs before: the lower bound of its place.
    let low = 0;
    let high = this.#entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (runsBefore(entry, this.#entries[mid]!)) high = mid;
      else low = mid + 1;
    }
    this.#entries.splice(low, 0, entry);
  }

  dequeue(): T | undefined {
    return this.#entries.shift()?.job;
  }

  peek(): T | undefined {
    return this.#entries[0]?.job;
  }

  has(id: string): boolean {
    return this.#entries.some((e) => e.job.id === id);
  }

  /** Removes and returns the job with this id, if it is waiting. */
  remove(id: string): T | undefined {
    const index = this.#entries.findIndex((e) => e.job.id === id);
    if (index < 0) return undefined;
    return this.#entries.splice(index, 1)[0]!.job;
  }

  /** Waiting jobs in the order they will start. */
  toArray(): T[] {
    return this.#entries.map((e) => e.job);
  }
}

/** How many waiting jobs may start now; maxConcurrent 0 means no cap. */
export function freeSlots(running: number, maxConcurrent: number, waiting: number): number {
  if (maxConcurrent === 0) return waiting;
  return Math.max(0, Math.min(waiting, maxConcurrent - running));
}

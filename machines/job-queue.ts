// The waiting line: highest priority first, then oldest first, then first submitted. A binary heap
// on that order, so taking the next job and adding one are O(log n) with a hundred thousand
// waiting (a sorted array would move the whole line on every change).
import { siftDown, siftUp } from './heap-order.js';

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
  readonly #heap: Entry<T>[] = [];
  #nextSeq = 0;

  get size(): number {
    return this.#heap.length;
  }

  enqueue(job: T): void {
    this.#heap.push({ job, createdMs: Date.parse(job.createdAt), seq: this.#nextSeq++ });
    this.#siftUp(this.#heap.length - 1);
  }

  dequeue(): T | undefined {
    return this.#removeAt(0);
  }

  /** Removes and returns the job with this id, if it is waiting. */
  remove(id: string): T | undefined {
    const index = this.#heap.findIndex((entry) => entry.job.id === id);
    return index < 0 ? undefined : this.#removeAt(index);
  }

  /**
   * Goes through the first `limit` waiting jobs in order, taking out those `choose` takes, and
   * stopping early when it says so; the rest keep their places. O(limit · log n).
   */
  takeInOrder(limit: number, choose: (job: T) => 'take' | 'keep' | 'stop'): T[] {
    const taken: T[] = [];
    const kept: Entry<T>[] = [];
    while (kept.length + taken.length < limit && this.#heap.length > 0) {
      const entry = this.#heap[0]!;
      const choice = choose(entry.job);
      if (choice === 'stop') break;
      this.#removeAt(0);
      if (choice === 'take') taken.push(entry.job);
      else kept.push(entry);
    }
    // Back with their original sequence numbers: their order among equals is unchanged.
    for (const entry of kept) {
      this.#heap.push(entry);
      this.#siftUp(this.#heap.length - 1);
    }
    return taken;
  }

  /** Waiting jobs in the order they will start. */
  toArray(): T[] {
    return [...this.#heap].sort((a, b) => (runsBefore(a, b) ? -1 : 1)).map((entry) => entry.job);
  }

  #removeAt(index: number): T | undefined {
    const heap = this.#heap;
    if (index >= heap.length) return undefined;
    const removed = heap[index]!;
    const last = heap.pop()!;
    if (index < heap.length) {
      heap[index] = last;
      this.#siftDown(index);
      this.#siftUp(index);
    }
    return removed.job;
  }

  #siftUp(index: number): void {
    siftUp(this.#heap, index, runsBefore);
  }

  #siftDown(index: number): void {
    siftDown(this.#heap, index, runsBefore);
  }
}

/** How many waiting jobs may start now; maxConcurrent 0 means no cap. */
export function freeSlots(running: number, maxConcurrent: number, waiting: number): number {
  if (maxConcurrent === 0) return waiting;
  return Math.max(0, Math.min(waiting, maxConcurrent - running));
}

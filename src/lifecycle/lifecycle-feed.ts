// Lifecycle events as the machines announce them, published only once the job's record is
// durable (a change is stored before it is told), in the order they were announced. Consumers
// (log, metrics, transition log, event stream) subscribe here instead of diffing records.
import type { Job } from '../../machines/job-record.js';
import type { LifecycleEvent } from '../../machines/lifecycle.js';

/** The event, and the job's record as the event left it (for views that show whole jobs). */
export type LifecycleListener = (event: LifecycleEvent, job: Job | undefined) => void;

export class LifecycleFeed {
  readonly #listeners = new Set<LifecycleListener>();
  /** Per job, the publication of its latest event: each waits for the one before. */
  readonly #tails = new Map<string, Promise<void>>();

  constructor(
    /** Resolves once every change recorded so far for the job is durable; false: it never will be (a farm host lost the job), so nothing is told. */
    private readonly whenDurable: (jobId: string) => Promise<boolean | void>,
    private readonly onListenerError: (error: unknown) => void,
  ) {}

  /**
   * Called from a machine's action. The record write of the same transition is requested in the
   * same synchronous step (an entry action may come after this one), so the wait starts a
   * microtask later, once that write is pending.
   */
  announce(event: LifecycleEvent, job: Job | undefined): void {
    const previous = this.#tails.get(event.jobId) ?? Promise.resolve();
    const published = previous
      .then(() => new Promise<void>((resolve) => queueMicrotask(resolve)))
      .then(() => this.whenDurable(event.jobId))
      .then((durable) => {
        if (durable !== false) this.#publish(event, job);
      });
    this.#tails.set(event.jobId, published);
    void published.then(() => {
      if (this.#tails.get(event.jobId) === published) this.#tails.delete(event.jobId);
    });
  }

  subscribe(listener: LifecycleListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves once every event announced so far has been published. */
  async whenPublished(): Promise<void> {
    await Promise.all([...this.#tails.values()]);
  }

  #publish(event: LifecycleEvent, job: Job | undefined): void {
    for (const listener of this.#listeners) {
      try {
        listener(event, job);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}

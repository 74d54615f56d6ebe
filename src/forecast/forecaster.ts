// The daemon's forecasts: a running job's prior (from finished jobs of its kind), and for the
// views, when each waiting job should start and finish. The history is learned from the job
// records the store keeps (each done job holds its kind, its media's length and its run's), so it
// survives restarts with nothing stored twice. A waiting job's media is probed once, in the
// background, a few at a time.
import type { Job } from '../../machines/job-record.js';
import { JobQueue } from '../../machines/job-queue.js';
import type { RunPrior } from '../runner/runner-actor.js';
import type { LiveBoard } from './live-board.js';
import { type JobForecast, forecastQueue } from './queue-forecast.js';
import { RunHistory } from './run-history.js';

export interface ForecasterDeps {
  nowMs: () => number;
  /** Seconds of media a job's run will encode, read from its inputs; null when they can't be read. */
  probeMediaSeconds: (job: Job) => Promise<number | null>;
}

// Probing is cheap but not free: a long queue is probed a few jobs at a time, front first.
const PROBES_AT_ONCE = 2;
const PROBED_AHEAD = 500;

export class Forecaster {
  readonly history = new RunHistory();
  readonly #media = new Map<string, number | null>();
  readonly #probing = new Set<string>();

  constructor(private readonly deps: ForecasterDeps) {}

  /** A finished job: learned from if it is done; its probe is no longer needed. */
  observe(job: Job): void {
    this.#media.delete(job.id);
    this.history.observe(job);
  }

  priorFor(job: Job, mediaSeconds: number | null): RunPrior {
    this.#media.delete(job.id);
    return {
      expectedRunSeconds: this.history.expectedRunSeconds(job.kind, mediaSeconds),
      firstPassShare: this.history.estimate(job.kind)?.firstPassShare ?? null,
    };
  }

  /** Start and finish of every queued and running job, given the cap and how the running ones stand. */
  forecast(jobs: readonly Job[], maxConcurrent: number, board: LiveBoard): Map<string, JobForecast> {
    const queue = new JobQueue<Job>();
    const running: { id: string; remainingSeconds: number | null }[] = [];
    for (const job of jobs) {
      if (job.status === 'queued') queue.enqueue(job);
      else if (job.status === 'encoding' || job.status === 'finalizing') running.push({ id: job.id, remainingSeconds: this.#remaining(board.current(job)) });
    }
    const waiting = queue.toArray();
    waiting.slice(0, PROBED_AHEAD).forEach((job) => this.#probeSoon(job));
    return forecastQueue(
      running,
      waiting.map((job) => ({ id: job.id, expectedRunSeconds: this.history.expectedRunSeconds(job.kind, this.#media.get(job.id) ?? job.expectedDurationSeconds) })),
      maxConcurrent,
      this.deps.nowMs(),
    );
  }

  #remaining(job: Job): number | null {
    if (job.status === 'finalizing') return 0;
    if (job.etaSeconds !== null) return job.etaSeconds;
    const expected = this.history.expectedRunSeconds(job.kind, job.mediaSeconds ?? job.expectedDurationSeconds);
    const runningFor = job.startedAt === null ? 0 : (this.deps.nowMs() - Date.parse(job.startedAt)) / 1000;
    return expected === null ? null : Math.max(0, expected - runningFor);
  }

  #probeSoon(job: Job): void {
    if (this.#media.has(job.id) || this.#probing.has(job.id) || this.#probing.size >= PROBES_AT_ONCE || job.external) return;
    this.#probing.add(job.id);
    void this.deps
      .probeMediaSeconds(job)
      .catch(() => null)
      .then((seconds) => {
        this.#probing.delete(job.id);
        this.#media.set(job.id, seconds);
      });
  }
}

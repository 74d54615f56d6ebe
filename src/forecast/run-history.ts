// What finished jobs teach about the next one of their kind: seconds of run per second of media
// (so a clip teaches about a film), the run's length where the media's is unknown, and the first
// pass's share of a run of several passes. A robust average (the median of the latest runs), so
// one run on a busy box or a cached rerun doesn't swing the estimate.
import type { Job } from '../../machines/job-record.js';
import type { JobSummary } from '../store/job-summary.js';

// Old runs say less about the box as it is now than new ones.
const RUNS_KEPT = 50;

interface Observation {
  runSeconds: number;
  secondsPerMediaSecond: number | null;
  firstPassShare: number | null;
}

export interface KindEstimate {
  kind: string;
  /** Finished runs this estimate rests on. */
  runs: number;
  secondsPerMediaSecond: number | null;
  runSeconds: number | null;
  firstPassShare: number | null;
}

/**
 * The done jobs a new daemon learns from, oldest first: the latest of each kind, as many as are
 * kept, so it reads those records whole and no others.
 */
export function runsToLearnFrom<T extends Pick<JobSummary, 'status' | 'kind' | 'endedMs'>>(jobs: readonly T[]): T[] {
  const newestFirst = jobs.filter((job) => job.status === 'done').sort((a, b) => b.endedMs - a.endedMs);
  const taken = new Map<string, number>();
  const chosen = newestFirst.filter((job) => {
    const count = taken.get(job.kind) ?? 0;
    taken.set(job.kind, count + 1);
    return count < RUNS_KEPT;
  });
  return chosen.reverse();
}

export class RunHistory {
  readonly #byKind = new Map<string, Observation[]>();
  // Asked at every start (and by every forecast), changed only when a run of the kind ends.
  readonly #estimates = new Map<string, KindEstimate>();

  /** Learns from a job that finished done; other jobs, and runs too short to say anything, teach nothing. */
  observe(job: Job): void {
    const observation = observationOf(job);
    if (observation === null) return;
    const runs = this.#byKind.get(job.kind) ?? [];
    runs.push(observation);
    if (runs.length > RUNS_KEPT) runs.shift();
    this.#byKind.set(job.kind, runs);
    this.#estimates.delete(job.kind);
  }

  estimate(kind: string): KindEstimate | null {
    const known = this.#estimates.get(kind);
    if (known !== undefined) return known;
    const runs = this.#byKind.get(kind);
    if (!runs || runs.length === 0) return null;
    const estimate = {
      kind,
      runs: runs.length,
      secondsPerMediaSecond: median(runs.map((run) => run.secondsPerMediaSecond)),
      runSeconds: median(runs.map((run) => run.runSeconds)),
      firstPassShare: median(runs.map((run) => run.firstPassShare)),
    };
    this.#estimates.set(kind, estimate);
    return estimate;
  }

  /** How long a run of this kind over this much media should take; null when nothing is known. */
  expectedRunSeconds(kind: string, mediaSeconds: number | null): number | null {
    const estimate = this.estimate(kind);
    if (!estimate) return null;
    if (mediaSeconds !== null && mediaSeconds > 0 && estimate.secondsPerMediaSecond !== null) return estimate.secondsPerMediaSecond * mediaSeconds;
    return estimate.runSeconds;
  }

  kinds(): KindEstimate[] {
    return [...this.#byKind.keys()].map((kind) => this.estimate(kind)!);
  }
}

function observationOf(job: Job): Observation | null {
  const runSeconds = job.runSeconds;
  if (job.status !== 'done' || job.external || runSeconds === null || !(runSeconds > 0) || !Number.isFinite(runSeconds)) return null;
  const media = job.mediaSeconds;
  const secondPass = job.passStartSeconds?.[0];
  return {
    runSeconds,
    secondsPerMediaSecond: media !== null && media > 0 ? runSeconds / media : null,
    firstPassShare: secondPass !== undefined && secondPass > 0 && secondPass < runSeconds ? secondPass / runSeconds : null,
  };
}

function median(values: (number | null)[]): number | null {
  const known = values.filter((value): value is number => value !== null).sort((a, b) => a - b);
  if (known.length === 0) return null;
  const middle = Math.floor(known.length / 2);
  return known.length % 2 === 1 ? known[middle]! : (known[middle - 1]! + known[middle]!) / 2;
}

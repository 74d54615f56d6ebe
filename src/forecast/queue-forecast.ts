// When each waiting job will start and finish: the running jobs free their slots as their ETAs
// say, and each waiting job, in the order the supervisor will start them, takes the first slot
// free and holds it for its expected run. Where a time can't be known (a running job with no ETA,
// a kind never seen), the jobs behind it can't be either: null, not a guess.

export interface RunningForecastInput {
  id: string;
  /** Seconds until it ends; null when unknown. */
  remainingSeconds: number | null;
}

export interface WaitingForecastInput {
  id: string;
  expectedRunSeconds: number | null;
}

export interface JobForecast {
  /** How long the job's run should take, from finished jobs of its kind; null when none ran yet. */
  expectedRunSeconds: number | null;
  /** When it should start (now for a running job); null when unknown. */
  startsAt: string | null;
  finishesAt: string | null;
}

export function forecastQueue(running: readonly RunningForecastInput[], waiting: readonly WaitingForecastInput[], slots: number, nowMs: number): Map<string, JobForecast> {
  const forecasts = new Map<string, JobForecast>();
  const at = (seconds: number | null) => (seconds === null ? null : new Date(nowMs + seconds * 1000).toISOString());
  // Seconds from now at which each slot is free; null: not known. A cap lowered below the running
  // count frees no slot until enough of them end.
  const free: (number | null)[] = running.map((job) => job.remainingSeconds);
  for (const job of running) forecasts.set(job.id, { expectedRunSeconds: null, startsAt: at(0), finishesAt: at(job.remainingSeconds) });
  const cap = Math.max(1, slots);
  free.sort(byTime);
  while (free.length > cap) free.shift();
  while (free.length < cap) free.unshift(0);
  for (const job of waiting) {
    // The earliest slot: the first in time order, unknown ones last.
    const start = free.shift()!;
    const finish = start !== null && job.expectedRunSeconds !== null ? start + job.expectedRunSeconds : null;
    forecasts.set(job.id, { expectedRunSeconds: job.expectedRunSeconds, startsAt: at(start), finishesAt: at(finish) });
    insertSorted(free, finish);
  }
  return forecasts;
}

function byTime(a: number | null, b: number | null): number {
  if (a === null) return b === null ? 0 : 1;
  if (b === null) return -1;
  return a - b;
}

function insertSorted(slots: (number | null)[], time: number | null): void {
  let index = slots.findIndex((slot) => byTime(time, slot) < 0);
  if (index < 0) index = slots.length;
  slots.splice(index, 0, time);
}

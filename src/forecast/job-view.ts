// A job as the views read it: its live progress over the stored record (the ETA counted down),
// and for a waiting or running job, when it should start and finish.
import type { Job } from '../../machines/job-record.js';
import type { Forecaster } from './forecaster.js';
import type { LiveBoard } from './live-board.js';
import type { JobForecast } from './queue-forecast.js';

export type JobView = Job & {
  forecast: JobForecast | null;
  /** A waiting job's reason for not starting yet (the resources it waits for, a full cap, a pause). */
  waitingFor: string | null;
};

export interface JobViews {
  /** The jobs as they are now, each with its forecast. */
  present(jobs: readonly Job[]): JobView[];
}

// A forecast is worked out over the whole line: a client polling one job ten times a second gets
// the same one for this long rather than a new pass over every job each time.
const FORECAST_FRESH_MS = 500;

export function createJobViews(parts: {
  forecaster: Forecaster;
  board: LiveBoard;
  /** The jobs waiting or running: the forecast is of them. */
  activeJobs: () => readonly Job[];
  maxConcurrent: () => number;
  nowMs: () => number;
  waitingFor: (jobId: string) => string | null;
}): JobViews {
  let latest: { atMs: number; forecasts: Map<string, JobForecast> } | null = null;
  const forecasts = () => {
    const now = parts.nowMs();
    if (latest === null || now - latest.atMs >= FORECAST_FRESH_MS) latest = { atMs: now, forecasts: parts.forecaster.forecast(parts.activeJobs(), parts.maxConcurrent(), parts.board) };
    return latest.forecasts;
  };
  return {
    present(jobs) {
      // Only when one of these jobs has a forecast.
      const needed = jobs.some((job) => job.status === 'queued' || job.status === 'encoding' || job.status === 'finalizing');
      const forecasted = needed ? forecasts() : null;
      return jobs.map((job) => ({ ...parts.board.current(job), forecast: forecasted?.get(job.id) ?? null, waitingFor: waitingFor(job, parts.waitingFor) }));
    },
  };
}

/** Why a job is not running yet: what the line says for a waiting one; an external job waiting for a replacement output says that. */
function waitingFor(job: Job, inLine: (jobId: string) => string | null): string | null {
  if (job.status === 'queued') return inLine(job.id);
  const last = job.history.at(-1);
  if (job.external && job.status === 'encoding' && last?.failureKind) return `waiting for a replacement of its output (the last one failed: ${last.reason ?? last.failureKind})`;
  return null;
}

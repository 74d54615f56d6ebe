// A job as the views read it: its live progress over the stored record (the ETA counted down),
// and for a waiting or running job, when it should start and finish.
import type { Job } from '../../machines/job-record.js';
import type { Forecaster } from './forecaster.js';
import type { LiveBoard } from './live-board.js';
import type { JobForecast } from './queue-forecast.js';

export type JobView = Job & { forecast: JobForecast | null };

export interface JobViews {
  /** The jobs as they are now, each with its forecast. */
  present(jobs: readonly Job[]): JobView[];
}

export function createJobViews(parts: { forecaster: Forecaster; board: LiveBoard; allJobs: () => readonly Job[]; maxConcurrent: () => number }): JobViews {
  return {
    present(jobs) {
      // A forecast is worked out over the whole line; only when one of these jobs has one.
      const needed = jobs.some((job) => job.status === 'queued' || job.status === 'encoding' || job.status === 'finalizing');
      const forecasts = needed ? parts.forecaster.forecast(parts.allJobs(), parts.maxConcurrent(), parts.board) : null;
      return jobs.map((job) => ({ ...parts.board.current(job), forecast: forecasts?.get(job.id) ?? null }));
    },
  };
}

// Jobs' live progress in a terminal: cli-progress bars when the output is a terminal, plain lines
// (one per change) when it isn't, so it logs well.
import { MultiBar, type SingleBar } from 'cli-progress';
import type { Job } from '../../machines/job-record.js';
import { type ShownJob, forTerminal, formatDuration, formatForecast, formatPercent } from './format.js';

export interface ProgressView {
  show(job: Job): void;
  stop(): void;
}

function detail(job: ShownJob, secondsSinceShown = 0): string {
  if (job.status === 'queued' && job.forecast) return `queued ${formatForecast(job)}`;
  // Between the encoder's reports the time left still runs down.
  const eta = job.etaSeconds === null ? null : Math.max(0, job.etaSeconds - secondsSinceShown);
  const frames = job.totalFrames ? ` ${job.frame ?? 0}/${job.totalFrames}` : job.frame !== null ? ` frame ${job.frame}` : '';
  const pass = job.passes ? ` pass ${job.pass ?? 1}/${job.passes}` : '';
  const unknown = job.progress === null && job.status === 'encoding' ? ' (total unknown)' : '';
  return `${job.status}${unknown}${pass}${frames} ETA ${formatDuration(eta)} ${job.fps ?? '-'} fps ${job.speed ?? '-'}x`;
}

export function plainLine(job: Job): string {
  return `${job.updatedAt} ${job.id} ${formatPercent(job.progress)} ${detail(job)} ${forTerminal(job.name)}${job.error ? ` (${forTerminal(job.error)})` : ''}`;
}

/** Plain lines: one per change of status or whole percent. */
export function createPlainView(write: (text: string) => void): ProgressView {
  const shown = new Map<string, string>();
  return {
    show(job) {
      // With an unknown total, a line per hundred frames instead of per percent.
      const key = `${job.status}:${job.progress === null ? `f${Math.floor((job.frame ?? 0) / 100)}` : Math.floor(job.progress)}`;
      if (shown.get(job.id) === key) return;
      shown.set(job.id, key);
      write(`${plainLine(job)}\n`);
    },
    stop() {},
  };
}

export function createBarView(stream: NodeJS.WriteStream): ProgressView {
  const bars = new MultiBar(
    { stream, clearOnComplete: false, hideCursor: true, format: ' {name} |{bar}| {percentage}% {detail}', barsize: 30, autopadding: true },
  );
  const byJob = new Map<string, { bar: SingleBar; job: ShownJob; shownAtMs: number }>();
  const render = (entry: { bar: SingleBar; job: ShownJob; shownAtMs: number }) =>
    entry.bar.update(Math.floor(entry.job.progress ?? 0), { name: forTerminal(entry.job.name).slice(0, 28).padEnd(28), detail: detail(entry.job, (Date.now() - entry.shownAtMs) / 1000) });
  // Once a second the running jobs' ETAs count down, whether or not the encoder reported.
  const ticker = setInterval(() => byJob.forEach((entry) => entry.job.status === 'encoding' && render(entry)), 1000);
  ticker.unref();
  return {
    show(job) {
      const known = byJob.get(job.id);
      // A streamed update carries no forecast: the one the list gave stays until the job starts.
      const shown = { ...job, forecast: (job as ShownJob).forecast ?? known?.job.forecast ?? null };
      const entry = { bar: known?.bar ?? bars.create(100, 0, { name: '', detail: '' }), job: shown, shownAtMs: Date.now() };
      byJob.set(job.id, entry);
      render(entry);
    },
    stop: () => {
      clearInterval(ticker);
      bars.stop();
    },
  };
}

// Jobs' live progress in a terminal: cli-progress bars when the output is a terminal, plain lines
// (one per change) when it isn't, so it logs well.
import { MultiBar, type SingleBar } from 'cli-progress';
import type { Job } from '../../machines/job-record.js';
import { formatDuration, formatPercent } from './format.js';

export interface ProgressView {
  show(job: Job): void;
  stop(): void;
}

function detail(job: Job): string {
  const frames = job.totalFrames ? ` ${job.frame ?? 0}/${job.totalFrames}` : job.frame !== null ? ` frame ${job.frame}` : '';
  const pass = job.passes ? ` pass ${job.pass ?? 1}/${job.passes}` : '';
  const unknown = job.progress === null && job.status === 'encoding' ? ' (total unknown)' : '';
  return `${job.status}${unknown}${pass}${frames} ETA ${formatDuration(job.etaSeconds)} ${job.fps ?? '-'} fps ${job.speed ?? '-'}x`;
}

export function plainLine(job: Job): string {
  return `${job.updatedAt} ${job.id} ${formatPercent(job.progress)} ${detail(job)} ${job.name}${job.error ? ` (${job.error})` : ''}`;
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
  const byJob = new Map<string, SingleBar>();
  return {
    show(job) {
      const payload = { name: job.name.slice(0, 28).padEnd(28), detail: detail(job) };
      const bar = byJob.get(job.id) ?? bars.create(100, 0, payload);
      byJob.set(job.id, bar);
      bar.update(Math.floor(job.progress ?? 0), payload);
    },
    stop: () => bars.stop(),
  };
}

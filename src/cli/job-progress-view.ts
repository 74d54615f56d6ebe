// Jobs' live progress in a terminal: cli-progress bars when the output is a terminal, plain lines
// (one per change) when it isn't, so it logs well.
import { MultiBar, type SingleBar } from 'cli-progress';
import type { Job } from '../../machines/job-record.js';
import { formatDuration } from './format.js';

export interface ProgressView {
  show(job: Job): void;
  stop(): void;
}

function detail(job: Job): string {
  const frames = job.totalFrames ? ` ${job.frame ?? 0}/${job.totalFrames}` : job.frame !== null ? ` frame ${job.frame}` : '';
  const pass = job.passes ? ` pass ${job.pass ?? 1}/${job.passes}` : '';
  return `${job.status}${pass}${frames} ETA ${formatDuration(job.etaSeconds)} ${job.fps ?? '-'} fps ${job.speed ?? '-'}x`;
}

export function plainLine(job: Job): string {
  return `${job.updatedAt} ${job.id} ${job.progress.toFixed(1)}% ${detail(job)} ${job.name}${job.error ? ` (${job.error})` : ''}`;
}

/** Plain lines: one per change of status or whole percent. */
export function createPlainView(write: (text: string) => void): ProgressView {
  const shown = new Map<string, string>();
  return {
    show(job) {
      const key = `${job.status}:${Math.floor(job.progress)}`;
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
      bar.update(Math.floor(job.progress), payload);
    },
    stop: () => bars.stop(),
  };
}

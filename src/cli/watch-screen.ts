// What `encsup watch` draws on a terminal of any size: a line of counts per status, then running
// jobs, then the next waiting ones, then jobs that finished in the last minutes (they fade out);
// as many as the rows hold, with a line saying how many more there are. Columns fit the width: the
// bar and the name give way first. Pure: jobs and a screen size in, lines out.
import type { Job, JobStatus } from '../../machines/job-record.js';
import { type ShownJob, forTerminal, formatDuration, formatForecast } from './format.js';

export interface Screen {
  columns: number;
  rows: number;
}

/** Finished jobs stay on screen this long, then fade out. */
export const RECENT_FINISHED_MS = 2 * 60 * 1000;

export function renderWatch(jobs: readonly ShownJob[], counts: Record<JobStatus, number>, screen: Screen, nowMs: number, etaAgeSeconds: (job: Job) => number = () => 0): string {
  const width = Math.max(40, screen.columns);
  const running = jobs.filter((job) => job.status === 'encoding' || job.status === 'finalizing');
  const waiting = jobs.filter((job) => job.status === 'queued');
  const recent = jobs.filter((job) => (job.status === 'done' || job.status === 'failed' || job.status === 'cancelled') && nowMs - Date.parse(job.finishedAt ?? job.updatedAt) < RECENT_FINISHED_MS);
  const shown = [...running, ...waiting, ...recent];
  const room = Math.max(1, screen.rows - 2);
  const visible = shown.length > room ? shown.slice(0, room - 1) : shown;
  const lines = [fit(countsLine(counts), width), ...visible.map((job) => jobLine(job, width, etaAgeSeconds(job)))];
  const hidden = shown.length - visible.length;
  const notShownWaiting = counts.queued - waiting.length;
  if (hidden > 0 || notShownWaiting > 0) lines.push(fit(`… ${hidden + Math.max(0, notShownWaiting)} more (encsup list --order view)`, width));
  return lines.join('\n');
}

function countsLine(counts: Record<JobStatus, number>): string {
  return `running ${counts.encoding + counts.finalizing} · waiting ${counts.queued} · done ${counts.done} · failed ${counts.failed} · cancelled ${counts.cancelled}`;
}

function jobLine(job: ShownJob, width: number, etaAge: number): string {
  const id = job.id.slice(0, 8);
  const status = job.status.padEnd(10);
  if (job.status === 'queued') return fit(`${id} ${status} ${job.forecast ? formatForecast(job) : ''}  ${forTerminal(job.name)}`, width);
  const eta = job.etaSeconds === null ? null : Math.max(0, job.etaSeconds - etaAge);
  const percent = job.progress === null ? '   ?%' : `${job.progress.toFixed(0).padStart(4)}%`;
  const facts = job.status === 'failed' ? ` ${forTerminal(job.error ?? '')}` : ` ETA ${formatDuration(eta).padEnd(6)} ${String(job.fps ?? '-').padStart(4)} fps${job.passes ? ` pass ${job.pass}/${job.passes}` : ''}`;
  // The bar takes what the fixed parts leave, 10 to 30 characters; on a narrow screen, none.
  const fixed = id.length + 1 + status.length + 1 + percent.length + facts.length + 2;
  const barWidth = Math.max(0, Math.min(30, width - fixed - 16));
  const bar = barWidth >= 10 ? `${drawBar(job.progress, barWidth)} ` : '';
  return fit(`${id} ${status} ${bar}${percent}${facts}  ${forTerminal(job.name)}`, width);
}

function drawBar(progress: number | null, width: number): string {
  if (progress === null) return `[${'?'.repeat(width - 2)}]`;
  const full = Math.round((Math.min(100, progress) / 100) * (width - 2));
  return `[${'#'.repeat(full)}${'.'.repeat(width - 2 - full)}]`;
}

/** One screen line: never wider than the terminal, so nothing wraps and pushes the rest off. */
function fit(line: string, width: number): string {
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}

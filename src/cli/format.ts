// How jobs look in a terminal: pure functions from records to text.
import type { Job } from '../../machines/job-record.js';

export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '-';
  const whole = Math.round(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s).padStart(2, '0')}s` : `${s}s`;
}

export function formatJobTable(jobs: Job[]): string {
  if (jobs.length === 0) return 'no jobs\n';
  const rows = [
    ['ID', 'STATUS', 'PROGRESS', 'ETA', 'ELAPSED', 'PRIO', 'NAME'],
    ...jobs.map((job) => [
      job.id,
      job.status,
      formatPercent(job.progress),
      formatDuration(job.etaSeconds),
      formatDuration(job.elapsedSeconds),
      String(job.priority),
      job.name,
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ')).join('\n') + '\n';
}

export function formatJob(job: Job): string {
  const lines: [string, string][] = [
    ['id', job.id],
    ['name', job.name],
    ['status', job.status],
    ['progress', formatPercent(job.progress)],
    ['frame', job.totalFrames ? `${job.frame ?? 0}/${job.totalFrames}` : String(job.frame ?? '-')],
    ['fps', String(job.fps ?? '-')],
    ['speed', job.speed === null ? '-' : `${job.speed}x`],
    ['eta', formatDuration(job.etaSeconds)],
    ['elapsed', formatDuration(job.elapsedSeconds)],
    ['priority', String(job.priority)],
    ['attempts', String(job.attempts)],
    ['command', job.command.join(' ')],
    ['cwd', job.cwd],
    ['output', job.output ?? '-'],
    ['created', job.createdAt],
    ['started', job.startedAt ?? '-'],
    ['finished', job.finishedAt ?? '-'],
  ];
  if (job.exitCode !== null) lines.push(['exit code', String(job.exitCode)]);
  if (job.signal !== null) lines.push(['signal', job.signal]);
  if (job.error !== null) lines.push(['error', job.error]);
  const text = lines.map(([key, value]) => `${key.padEnd(10)} ${value}`).join('\n');
  const tail = job.status === 'failed' && job.logTail.length > 0 ? `\n\nlast output:\n${job.logTail.slice(-10).join('\n')}` : '';
  return `${text}${tail}\n`;
}

/** A percent, or `?` while nothing can tell the total. */
export function formatPercent(progress: number | null): string {
  return progress === null ? '?%' : `${progress.toFixed(1)}%`;
}

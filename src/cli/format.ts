// How jobs look in a terminal: pure functions from records to text.
import type { Job } from '../../machines/job-record.js';
import type { JobForecast } from '../forecast/queue-forecast.js';

/** A job as the API gives it: a list or a single job carries its forecast; a streamed one may not. */
export type ShownJob = Job & { forecast?: JobForecast | null };

const NAMED_CONTROLS: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Text from a job (its name, command, paths, reason) as a terminal may show it: control characters
 * written as escapes (`\x1b`, `\n`), as `ls` shows odd file names. A name or a file in a watched
 * folder could otherwise move the cursor, retitle the window or rewrite what `encsup list` shows.
 */
export function forTerminal(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (char) => NAMED_CONTROLS[char] ?? `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '-';
  const whole = Math.round(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s).padStart(2, '0')}s` : `${s}s`;
}

export function formatJobTable(jobs: ShownJob[]): string {
  if (jobs.length === 0) return 'no jobs\n';
  const rows = [
    ['ID', 'STATUS', 'PROGRESS', 'ETA', 'FORECAST', 'ELAPSED', 'PRIO', 'REASON', 'NAME'],
    ...jobs.map((job) => [
      job.id,
      job.status,
      formatPercent(job.progress),
      formatDuration(job.etaSeconds),
      formatForecast(job),
      formatDuration(job.elapsedSeconds),
      String(job.priority),
      shortReason(job.error),
      forTerminal(job.name),
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ')).join('\n') + '\n';
}

/**
 * When a waiting job should start and end, and how long it should run (from finished jobs of its
 * kind); when a running one should end. `-` where nothing is known.
 */
export function formatForecast(job: ShownJob): string {
  const forecast = job.forecast;
  if (!forecast) return '-';
  const run = forecast.expectedRunSeconds === null ? null : `runs ~${formatDuration(forecast.expectedRunSeconds)}`;
  if (job.status === 'queued') {
    const starts = forecast.startsAt === null ? 'start unknown' : `starts ${clock(forecast.startsAt)}`;
    return [starts, forecast.finishesAt === null ? null : `ends ${clock(forecast.finishesAt)}`, run].filter(Boolean).join(', ');
  }
  return forecast.finishesAt === null ? '-' : `ends ${clock(forecast.finishesAt)}`;
}

/** Local wall-clock time, HH:MM:SS: what an operator compares with the clock on the wall. */
function clock(iso: string): string {
  return new Date(iso).toTimeString().slice(0, 8);
}

export function formatJob(job: ShownJob): string {
  const lines: [string, string][] = [
    ['id', job.id],
    ['name', forTerminal(job.name)],
    ['status', job.status],
    ['progress', formatPercent(job.progress)],
    ['frame', job.totalFrames ? `${job.frame ?? 0}/${job.totalFrames}` : String(job.frame ?? '-')],
    ['fps', String(job.fps ?? '-')],
    ['speed', job.speed === null ? '-' : `${job.speed}x`],
    ['eta', formatDuration(job.etaSeconds)],
    ['forecast', formatForecast(job)],
    ['basis', job.basis ?? '-'],
    ['elapsed', formatDuration(job.elapsedSeconds)],
    ['priority', String(job.priority)],
    ['attempts', String(job.attempts)],
    ['command', forTerminal(job.command.join(' '))],
    ['cwd', forTerminal(job.cwd)],
    ['output', forTerminal(job.output ?? '-')],
    ['created', job.createdAt],
    ['started', job.startedAt ?? '-'],
    ['finished', job.finishedAt ?? '-'],
  ];
  if (job.exitCode !== null) lines.push(['exit code', String(job.exitCode)]);
  if (job.signal !== null) lines.push(['signal', job.signal]);
  if (job.error !== null) lines.push(['error', forTerminal(job.error)]);
  const text = lines.map(([key, value]) => `${key.padEnd(10)} ${value}`).join('\n');
  const tail = job.status === 'failed' && job.logTail.length > 0 ? `\n\nlast output:\n${job.logTail.slice(-10).map(forTerminal).join('\n')}` : '';
  return `${text}${tail}\n`;
}

/** Why a job failed, in a table's width: its first 40 characters. */
function shortReason(error: string | null): string {
  if (error === null) return '-';
  const shown = forTerminal(error);
  return shown.length > 40 ? `${shown.slice(0, 39)}…` : shown;
}

/** A percent, or `?` while nothing can tell the total. */
export function formatPercent(progress: number | null): string {
  return progress === null ? '?%' : `${progress.toFixed(1)}%`;
}

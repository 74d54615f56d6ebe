// What every figure shares: its result shape (with the goal it is held to), CPU accounting,
// percentiles.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

export interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline: number;
  /** value / baseline */
  ratio: number;
  /** What the baseline is, in words, for the table. */
  against: string;
  /** The goal this figure is held to, in words, and whether this run met it; none for a figure that only informs. */
  goal: { text: string; met: boolean } | null;
}

export function figure(name: string, value: number, unit: string, baseline: number, against: string, goal: { text: string; met: boolean } | null = null): Figure {
  return { name, value: round(value), unit, baseline: round(baseline), ratio: round(value / baseline), against, goal };
}

/** A goal on the figure's own value: `≤ 250 ms`. */
export function atMost(limit: number, unit: string, value: number): { text: string; met: boolean } {
  return { text: `≤ ${limit} ${unit}`, met: value <= limit };
}

/** A goal on the figure's own value: `≥ 150 MB/s`. */
export function atLeast(limit: number, unit: string, value: number): { text: string; met: boolean } {
  return { text: `≥ ${limit} ${unit}`, met: value >= limit };
}

/** A goal on the ratio to the baseline: `≤ 1.03×`. */
export function ratioAtMost(limit: number, value: number, baseline: number): { text: string; met: boolean } {
  return { text: `≤ ${limit}× baseline`, met: value / baseline <= limit };
}

export function ratioAtLeast(limit: number, value: number, baseline: number): { text: string; met: boolean } {
  return { text: `≥ ${limit}× baseline`, met: value / baseline >= limit };
}

export function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const TICKS_PER_SECOND = 100;

/** CPU seconds of a process and of its reaped children (its encoders, or xargs's), from /proc. */
export function processCpu(pid: number): { self: number; children: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  // Fields 14-17 of /proc/PID/stat (utime stime cutime cstime) are 11-14 after the name.
  return { self: (fields[11]! + fields[12]!) / TICKS_PER_SECOND, children: (fields[13]! + fields[14]!) / TICKS_PER_SECOND };
}

/**
 * CPU seconds of every thread of a process so far, from the scheduler's own count (nanoseconds,
 * /proc/PID/task/TID/schedstat): for an idle process, whose few milliseconds the 10 ms ticks of
 * /proc/PID/stat round to nothing. Threads that have ended are not counted.
 */
export function processCpuPrecise(pid: number): number {
  let nanoseconds = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      nanoseconds += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return nanoseconds / 1e9;
}

/**
 * Collects what earlier work left on the heap (with --expose-gc, as `npm run bench` runs), so that
 * a timed section is not charged for a collection of another's garbage (a 50 MB log's making).
 */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

export function elapsed(startMs: number): number {
  return (performance.now() - startMs) / 1000;
}

/** Seconds a baseline command takes from start to exit, `input` on its stdin; rejects with its stderr's end when it fails. */
export function secondsToRun(file: string, args: string[], input: string): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'ignore', 'pipe'], cwd: new URL('..', import.meta.url).pathname });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child.stdin.end(input);
    child.on('exit', (code) => (code === 0 ? resolve(elapsed(start)) : reject(new Error(`${file} exited ${code}: ${stderr}`))));
  });
}

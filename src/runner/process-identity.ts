// Telling a process from a later one that reuses its pid: its start time in clock ticks since boot,
// field 22 of /proc/PID/stat (Linux). Recorded when an encoder starts, compared after a crash.
import { readFileSync } from 'node:fs';

export function processStartTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
    const afterName = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(afterName[19]);
    return Number.isFinite(ticks) ? ticks : null;
  } catch {
    return null;
  }
}

/** True when `pid` is still the very process that was recorded (same start time). */
export function isSameProcess(pid: number, startTicks: number | null): boolean {
  if (startTicks === null) return false;
  return processStartTicks(pid) === startTicks;
}

// When a run tells its job machine that the encoder printed something new (ACTIVITY), which
// restarts the machine's stall clock. Told at most once per interval, a twentieth of the stall
// timeout: each telling is a machine transition and a timer moved, and a clock of minutes needs no
// news every second. A change inside an interval is told at its end, never dropped, so a stall is
// declared between the timeout and a twentieth past it after the last change, never before.
// The machine's clock starts as the run does: a run shorter than one interval tells nothing.
import { latestEvery } from '../progress/pipeline.js';
import { type Observable, filter } from '../progress/rx.js';

const SHARE_OF_STALL_TIMEOUT = 1 / 20;
// Below this, telling would cost more than the precision is worth (short stall timeouts are tests').
const MIN_INTERVAL_MS = 100;

/** The interval between tellings for a stall timeout in seconds; null: no stall clock, never told. */
export function activityIntervalMs(stallTimeoutSec: number): number | null {
  if (!(stallTimeoutSec > 0)) return null;
  return Math.max(MIN_INTERVAL_MS, stallTimeoutSec * 1000 * SHARE_OF_STALL_TIMEOUT);
}

/**
 * The moments to tell the machine, from a run's batches of records: a batch with a line unlike the
 * one before it is new output (the same status line again, a frozen encoder, is not). Nothing is
 * told once the run has ended.
 */
export function activityTellings(batches: Observable<readonly string[]>, stallTimeoutSec: number, startMs: number, nowMs: () => number): Observable<readonly string[]> | null {
  const intervalMs = activityIntervalMs(stallTimeoutSec);
  if (intervalMs === null) return null;
  let lastLine = '';
  const newOutput = (batch: readonly string[]) => {
    let changed = false;
    for (const line of batch) {
      changed ||= line !== lastLine;
      lastLine = line;
    }
    return changed;
  };
  return batches.pipe(filter(newOutput), latestEvery(intervalMs, nowMs, { sinceMs: startMs, passHeldAtEnd: false }));
}

// When a run tells its job machine that the encoder printed something new (ACTIVITY), which
// restarts the machine's stall clock. Told at most once per interval, a twentieth of the stall
// timeout: each telling is a machine transition and a timer moved, and a clock of minutes needs no
// news every second. A change inside an interval is told at its end, never dropped, so a stall is
// declared between the timeout and a twentieth past it after the last change, never before.
// The machine's clock starts as the run does: a run shorter than one interval tells nothing.

export interface ActivityReport {
  /** Something new was printed now. */
  changed(nowMs: number): void;
  /** The run ended: nothing more is told. */
  stop(): void;
}

const SHARE_OF_STALL_TIMEOUT = 1 / 20;
// Below this, telling would cost more than the precision is worth (short stall timeouts are tests').
const MIN_INTERVAL_MS = 100;

/** The interval between tellings for a stall timeout in seconds; null: no stall clock, never told. */
export function activityIntervalMs(stallTimeoutSec: number): number | null {
  if (!(stallTimeoutSec > 0)) return null;
  return Math.max(MIN_INTERVAL_MS, stallTimeoutSec * 1000 * SHARE_OF_STALL_TIMEOUT);
}

export function activityReport(stallTimeoutSec: number, startMs: number, tell: () => void): ActivityReport {
  const intervalMs = activityIntervalMs(stallTimeoutSec);
  if (intervalMs === null) return { changed: () => undefined, stop: () => undefined };
  let toldAtMs = startMs;
  let pending: NodeJS.Timeout | null = null;
  const tellNow = (nowMs: number) => {
    toldAtMs = nowMs;
    tell();
  };
  return {
    changed(nowMs) {
      if (pending !== null) return;
      const dueInMs = toldAtMs + intervalMs - nowMs;
      if (dueInMs <= 0) return tellNow(nowMs);
      pending = setTimeout(() => {
        pending = null;
        tellNow(toldAtMs + intervalMs);
      }, dueInMs);
    },
    stop() {
      if (pending !== null) clearTimeout(pending);
      pending = null;
    },
  };
}

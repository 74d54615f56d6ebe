// Remaining-time estimate from the rate of progress over a sliding window of recent samples: the
// slow start of an encoder (probing, lookahead) drops out of the window once it is past, and a
// lasting change of speed takes over within one window. The window grows with the run (a fifth of
// it, from 5 s to 5 min), so a long encode's estimate is steady rather than jumpy.

export interface EtaOptions {
  /** No estimate before this many seconds of the run. */
  minSeconds: number;
  /** No estimate before this much progress, in percent. */
  minPercent: number;
  minWindowSeconds: number;
  maxWindowSeconds: number;
}

export const DEFAULT_ETA_OPTIONS: EtaOptions = { minSeconds: 1, minPercent: 0.5, minWindowSeconds: 5, maxWindowSeconds: 300 };

// A rate over less than this is noise (two lines of one burst of output).
const MIN_SPAN_SECONDS = 0.5;

interface Point {
  seconds: number;
  percent: number;
}

export interface EtaState {
  /** Oldest first; the first point is the anchor at or just before the window's start. */
  points: readonly Point[];
}

export const INITIAL_ETA: EtaState = { points: [] };

// Samples closer together than this add nothing to a rate over many seconds: the newest point
// replaces the last one while that one is still this close to the one before it. (Comparing with
// the last point instead kept a source that prints faster than this at one point forever, so it
// never had an ETA.)
const MIN_SPACING_SECONDS = 0.25;

export function nextEta(
  state: EtaState,
  runSeconds: number,
  percent: number,
  options: EtaOptions = DEFAULT_ETA_OPTIONS,
): { state: EtaState; etaSeconds: number | null } {
  const beforeLast = state.points.at(-2);
  const tooClose = beforeLast !== undefined && runSeconds - beforeLast.seconds < MIN_SPACING_SECONDS;
  const points = [...(tooClose ? state.points.slice(0, -1) : state.points), { seconds: runSeconds, percent }];
  const windowSeconds = Math.min(options.maxWindowSeconds, Math.max(options.minWindowSeconds, runSeconds / 5));
  // Keep one point older than the window as the anchor, so the window is always fully covered.
  let firstKept = 0;
  while (firstKept + 1 < points.length && points[firstKept + 1]!.seconds <= runSeconds - windowSeconds) firstKept++;
  const next: EtaState = { points: points.slice(firstKept) };
  if (percent >= 100) return { state: next, etaSeconds: 0 };
  if (runSeconds < options.minSeconds || percent < options.minPercent || next.points.length < 2) {
    return { state: next, etaSeconds: null };
  }
  const anchor = next.points[0]!;
  if (runSeconds - anchor.seconds < MIN_SPAN_SECONDS) return { state: next, etaSeconds: null };
  const rate = (percent - anchor.percent) / (runSeconds - anchor.seconds);
  if (!(rate > 0)) return { state: next, etaSeconds: null };
  return { state: next, etaSeconds: Math.max(0, Math.round((100 - percent) / rate)) };
}

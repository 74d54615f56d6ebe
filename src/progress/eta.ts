// Remaining-time estimate from the rate of progress. The rate is smoothed with a time-based
// exponential moving average, so one fast or slow sample moves it little and a lasting change of
// speed wins within about a half-life. No estimate until there is evidence: encoders start slowly.

export interface EtaOptions {
  /** No estimate before this many seconds of the run. */
  minSeconds: number;
  /** No estimate before this much progress, in percent. */
  minPercent: number;
  /** After this many seconds, a change of speed has half its weight in the rate. */
  halfLifeSeconds: number;
}

export const DEFAULT_ETA_OPTIONS: EtaOptions = { minSeconds: 3, minPercent: 1, halfLifeSeconds: 20 };

export interface EtaState {
  lastSeconds: number;
  lastPercent: number;
  /** Percent per second, smoothed; null until two samples are apart in time. */
  rate: number | null;
}

export const INITIAL_ETA: EtaState = { lastSeconds: 0, lastPercent: 0, rate: null };

export function nextEta(
  state: EtaState,
  runSeconds: number,
  percent: number,
  options: EtaOptions = DEFAULT_ETA_OPTIONS,
): { state: EtaState; etaSeconds: number | null } {
  const dt = runSeconds - state.lastSeconds;
  let next = state;
  if (dt > 0 && percent >= state.lastPercent) {
    const instant = (percent - state.lastPercent) / dt;
    const weight = 1 - Math.exp((-dt * Math.LN2) / options.halfLifeSeconds);
    const rate = state.rate === null ? instant : state.rate + weight * (instant - state.rate);
    next = { lastSeconds: runSeconds, lastPercent: percent, rate };
  }
  if (percent >= 100) return { state: next, etaSeconds: 0 };
  if (runSeconds < options.minSeconds || percent < options.minPercent || !next.rate || next.rate <= 0) {
    return { state: next, etaSeconds: null };
  }
  return { state: next, etaSeconds: Math.max(0, Math.round((100 - percent) / next.rate)) };
}

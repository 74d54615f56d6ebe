// Folds parsed samples into the job's progress: totals from the job, the headers or a probe of the
// input; a percent that never goes backwards within one run and never passes 100; and the outer /
// inner rule for render scripts with nested counters.
import type { ProgressFields } from '../../machines/job-record.js';
import type { ProgressFormat, ProgressSample } from './sample.js';

export interface ProgressDetail {
  step: number | null;
  totalSteps: number | null;
  timeSeconds: number | null;
  /** The encoder's own remaining-time estimate, where it prints one. */
  encoderEtaSeconds: number | null;
  /** Seconds of media in the input, where known. */
  durationSeconds: number | null;
  format: ProgressFormat | null;
}

export interface ProgressState {
  fields: ProgressFields;
  /** `detail.durationSeconds` is the input's length, from the first `Duration:` header or a probe. */
  detail: ProgressDetail;
  frameRate: number | null;
  /** Frames to encode as the job states them; wins over anything derived. */
  declaredTotalFrames: number | null;
  /** The last outer frame counter (Deforum's animation frame), which inner bars refine. */
  outer: { done: number; total: number } | null;
}

export interface KnownTotals {
  totalFrames: number | null;
  durationSeconds?: number | null;
  frameRate?: number | null;
}

export function initialProgress(known: KnownTotals): ProgressState {
  return {
    fields: { progress: 0, frame: null, totalFrames: known.totalFrames, fps: null, bitrate: null, speed: null, etaSeconds: null },
    detail: { step: null, totalSteps: null, timeSeconds: null, encoderEtaSeconds: null, durationSeconds: known.durationSeconds ?? null, format: null },
    frameRate: known.frameRate ?? null,
    declaredTotalFrames: known.totalFrames,
    outer: null,
  };
}

export function applySample(state: ProgressState, sample: ProgressSample): ProgressState {
  // Only the first input's header counts: later Duration lines belong to other inputs.
  const durationSeconds = state.detail.durationSeconds ?? sample.durationSeconds ?? null;
  const frameRate = state.frameRate ?? sample.frameRate ?? null;
  const totalFrames =
    state.declaredTotalFrames ??
    sample.totalFrames ??
    state.fields.totalFrames ??
    (durationSeconds !== null && frameRate !== null ? Math.round(durationSeconds * frameRate) : null);
  const previous = state.fields;
  const frame = sample.frame ?? previous.frame;
  const outer =
    sample.level === 'outer' && sample.format === 'steps' && sample.frame != null && sample.totalFrames
      ? { done: sample.frame, total: sample.totalFrames }
      : state.outer;
  const measured = percentOf(sample, frame, totalFrames, durationSeconds, state.outer);
  return {
    frameRate,
    declaredTotalFrames: state.declaredTotalFrames,
    outer,
    fields: {
      progress: measured === null ? previous.progress : Math.max(previous.progress, clampPercent(measured)),
      frame,
      totalFrames,
      fps: sample.fps ?? previous.fps,
      bitrate: sample.bitrate ?? previous.bitrate,
      speed: sample.speed ?? previous.speed,
      etaSeconds: previous.etaSeconds,
    },
    detail: {
      step: sample.step !== undefined ? sample.step : state.detail.step,
      totalSteps: sample.totalSteps !== undefined ? sample.totalSteps : state.detail.totalSteps,
      timeSeconds: sample.timeSeconds !== undefined ? sample.timeSeconds : state.detail.timeSeconds,
      encoderEtaSeconds: sample.encoderEtaSeconds !== undefined ? sample.encoderEtaSeconds : state.detail.encoderEtaSeconds,
      durationSeconds,
      format: sample.header ? state.detail.format : sample.format,
    },
  };
}

function percentOf(
  sample: ProgressSample,
  frame: number | null,
  totalFrames: number | null,
  durationSeconds: number | null,
  outer: ProgressState['outer'],
): number | null {
  if (sample.percent != null) {
    // Within one outer unit, an inner bar only says how far into that unit the work is.
    if (sample.level === 'inner' && outer) return ((outer.done + sample.percent / 100) / outer.total) * 100;
    return sample.percent;
  }
  if (sample.frame != null && totalFrames) return (frame! / totalFrames) * 100;
  if (sample.timeSeconds != null && durationSeconds) return (sample.timeSeconds / durationSeconds) * 100;
  return null;
}

function clampPercent(value: number): number {
  return Math.min(100, Math.max(0, Math.round(value * 100) / 100));
}

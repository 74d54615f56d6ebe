// Folds parsed samples into the job's progress: totals from the job or the headers, a percent
// that never goes backwards within one run and never passes 100.
import type { ProgressFields } from '../../machines/job-record.js';
import type { ProgressSample } from './sample.js';

export interface ProgressState {
  fields: ProgressFields;
  /** Seconds of media in the input, from the first `Duration:` header. */
  durationSeconds: number | null;
  frameRate: number | null;
  /** Frames to encode as the job states them; wins over anything derived. */
  declaredTotalFrames: number | null;
}

export function initialProgress(declaredTotalFrames: number | null, durationSeconds: number | null = null): ProgressState {
  return {
    fields: { progress: 0, frame: null, totalFrames: declaredTotalFrames, fps: null, bitrate: null, speed: null, etaSeconds: null },
    durationSeconds,
    frameRate: null,
    declaredTotalFrames,
  };
}

export function applySample(state: ProgressState, sample: ProgressSample): ProgressState {
  // Only the first input's header counts: later Duration lines belong to other inputs.
  const durationSeconds = state.durationSeconds ?? sample.durationSeconds ?? null;
  const frameRate = state.frameRate ?? sample.frameRate ?? null;
  const totalFrames =
    state.declaredTotalFrames ??
    sample.totalFrames ??
    state.fields.totalFrames ??
    (durationSeconds !== null && frameRate !== null ? Math.round(durationSeconds * frameRate) : null);
  const previous = state.fields;
  const frame = sample.frame ?? previous.frame;
  const measured = percentOf(sample, frame, totalFrames, durationSeconds);
  return {
    durationSeconds,
    frameRate,
    declaredTotalFrames: state.declaredTotalFrames,
    fields: {
      progress: measured === null ? previous.progress : Math.max(previous.progress, clampPercent(measured)),
      frame,
      totalFrames,
      fps: sample.fps ?? previous.fps,
      bitrate: sample.bitrate ?? previous.bitrate,
      speed: sample.speed ?? previous.speed,
      etaSeconds: previous.etaSeconds,
    },
  };
}

function percentOf(
  sample: ProgressSample,
  frame: number | null,
  totalFrames: number | null,
  durationSeconds: number | null,
): number | null {
  if (sample.percent !== undefined && sample.percent !== null) return sample.percent;
  if (sample.frame !== undefined && sample.frame !== null && totalFrames) return (frame! / totalFrames) * 100;
  if (sample.timeSeconds !== undefined && sample.timeSeconds !== null && durationSeconds) {
    return (sample.timeSeconds / durationSeconds) * 100;
  }
  return null;
}

function clampPercent(value: number): number {
  return Math.min(100, Math.max(0, Math.round(value * 100) / 100));
}

// Folds parsed samples into the job's progress: totals from the job, the headers or a probe of the
// inputs, shaped by the command's plan (trims, setpts, concat: what is encoded, not what is read);
// passes weighted into one 0-100 (a counter that restarts is the next pass); a percent that never
// goes backwards within one run and never passes 100; and the outer / inner rule for render
// scripts with nested counters.
import type { ProgressBasis, ProgressFields } from '../../machines/job-record.js';
import type { EncodePlan } from './encode-plan.js';
import { type Counters, NO_COUNTERS, jobFraction, observeCounter } from './nested-counters.js';
import type { ProgressFormat, ProgressSample } from './sample.js';

export interface ProgressDetail {
  step: number | null;
  totalSteps: number | null;
  timeSeconds: number | null;
  /** The encoder's own remaining-time estimate, where it prints one. */
  encoderEtaSeconds: number | null;
  /** Seconds of media the output will hold, where known (the input's, shaped by the plan). */
  durationSeconds: number | null;
  format: ProgressFormat | null;
}

interface PassState {
  /** 1-based. */
  index: number;
  /** The highest frame, time and own percent seen in this pass, to notice a restart. */
  frame: number;
  time: number;
  percent: number;
  /** Work was reported in this pass: a header after that is the next run's. */
  worked: boolean;
  /** Input lengths read from this run's headers, in input order. */
  headerInputs: (number | null)[];
}

export interface ProgressState {
  fields: ProgressFields;
  detail: ProgressDetail;
  frameRate: number | null;
  plan: EncodePlan | null;
  /** Input lengths from a probe before the run; headers fill in what a probe did not give. */
  probedInputs: (number | null)[];
  pass: PassState;
  /** Frames to encode as the job states them; wins over anything derived. */
  declaredTotalFrames: number | null;
  /** The last outer frame counter (Deforum's animation frame), which inner bars refine. */
  outer: { done: number; total: number } | null;
  /** Named counters (tqdm bars) seen so far, to tell a nested inner bar from the job's own. */
  counters: Counters;
}

export interface KnownTotals {
  totalFrames: number | null;
  /** The first input's length (one input), or use `inputDurations` for several. */
  durationSeconds?: number | null;
  inputDurations?: (number | null)[];
  frameRate?: number | null;
  /** What the command will encode; without one, the output is as long as the first input. */
  plan?: EncodePlan | null;
}

const FRESH_PASS: PassState = { index: 1, frame: 0, time: 0, percent: 0, worked: false, headerInputs: [] };

export function initialProgress(known: KnownTotals): ProgressState {
  const plan = known.plan ?? null;
  const probedInputs = known.inputDurations ?? (known.durationSeconds != null ? [known.durationSeconds] : []);
  const passes = plan && plan.passes > 1 ? plan.passes : null;
  return {
    fields: { progress: null, basis: null, pass: passes ? 1 : null, passes, frame: null, totalFrames: known.totalFrames, fps: null, bitrate: null, speed: null, etaSeconds: null },
    detail: { step: null, totalSteps: null, timeSeconds: null, encoderEtaSeconds: null, durationSeconds: outputLength(plan, probedInputs), format: null },
    frameRate: known.frameRate ?? null,
    plan,
    probedInputs,
    pass: FRESH_PASS,
    declaredTotalFrames: known.totalFrames,
    outer: null,
    counters: NO_COUNTERS,
  };
}

/**
 * The input probe's lengths and frame rate, come in after the run began (it runs alongside the
 * encoder): they win over the headers' from now on, as they would have from the start.
 */
export function withProbedInputs(state: ProgressState, probed: Omit<KnownTotals, 'totalFrames'>): ProgressState {
  const probedInputs = probed.inputDurations ?? (probed.durationSeconds != null ? [probed.durationSeconds] : []);
  if (probedInputs.length === 0 && probed.frameRate == null) return state;
  const inputs = knownInputs(probedInputs, state.pass.headerInputs);
  return {
    ...state,
    probedInputs,
    frameRate: probed.frameRate ?? state.frameRate,
    detail: { ...state.detail, durationSeconds: outputLength(state.plan, inputs) ?? state.detail.durationSeconds },
  };
}

/** A probe's lengths win; each run's `Duration:` headers give them in input order otherwise. */
function knownInputs(probed: readonly (number | null)[], fromHeaders: readonly (number | null)[]): readonly (number | null)[] {
  const inputs = fromHeaders.map((length, index) => probed[index] ?? length);
  return probed.length > inputs.length ? probed : inputs;
}

function outputLength(plan: EncodePlan | null, inputs: readonly (number | null)[]): number | null {
  if (inputs.length === 0) return null;
  return plan ? plan.outputDuration(inputs) : (inputs[0] ?? null);
}

/** The run's pass after this sample: a header after work, or a counter that restarts, is the next. */
function nextPass(state: ProgressState, sample: ProgressSample): PassState {
  const pass = state.pass;
  const passes = state.plan?.passes ?? 1;
  const isHeader = sample.header === true || sample.format === 'ffmpeg-header';
  // An input's `Duration:` header opens each encoder run; other header lines (output streams) can
  // come after the first stats line.
  const restarted =
    (isHeader && sample.durationSeconds !== undefined && pass.worked) ||
    (sample.frame != null && pass.frame >= 10 && sample.frame < pass.frame / 2) ||
    (sample.timeSeconds != null && pass.time >= 2 && sample.timeSeconds < pass.time / 2) ||
    (sample.percent != null && pass.percent >= 50 && sample.percent < 10);
  const current = restarted && pass.index < passes ? { ...FRESH_PASS, index: pass.index + 1 } : pass;
  if (isHeader) {
    const headerInputs = sample.durationSeconds !== undefined ? [...current.headerInputs, sample.durationSeconds] : current.headerInputs;
    return { ...current, headerInputs };
  }
  return {
    ...current,
    worked: true,
    frame: Math.max(current.frame, sample.frame ?? 0),
    time: Math.max(current.time, sample.timeSeconds ?? 0),
    percent: Math.max(current.percent, sample.percent ?? 0),
  };
}

export function applySample(state: ProgressState, sample: ProgressSample): ProgressState {
  const pass = nextPass(state, sample);
  // The output's length changes only when a header names an input's length: not worked out again
  // for every status line.
  const durationSeconds =
    pass.headerInputs === state.pass.headerInputs ? state.detail.durationSeconds : (outputLength(state.plan, knownInputs(state.probedInputs, pass.headerInputs)) ?? state.detail.durationSeconds);
  const frameRate = state.frameRate ?? sample.frameRate ?? null;
  const plan = state.plan;
  // Frames are counted at the output's rate (-r, fps=); a select keeps frames no command can count.
  const outputRate = plan?.outputFrameRate ?? frameRate;
  const derivedFrames = durationSeconds !== null && outputRate !== null && !plan?.framesUnknown ? Math.round(durationSeconds * outputRate) : null;
  const cap = plan?.maxFrames ?? null;
  const totalFrames = state.declaredTotalFrames ?? sample.totalFrames ?? (cap !== null && derivedFrames !== null ? Math.min(cap, derivedFrames) : (cap ?? derivedFrames ?? state.fields.totalFrames));
  // A frame cap ends the output early: its length is then the cap's, for the time basis too.
  const outputSeconds = cap !== null && outputRate !== null && durationSeconds !== null ? Math.min(durationSeconds, cap / outputRate) : durationSeconds;
  const previous = state.fields;
  const frame = sample.frame ?? previous.frame;
  const outer =
    sample.level === 'outer' && sample.format === 'steps' && sample.frame != null && sample.totalFrames
      ? { done: sample.frame, total: sample.totalFrames }
      : state.outer;
  // Bars told apart by name, with no outer counter of another kind: nested bars decide together.
  const named = sample.counter !== undefined && sample.step != null && sample.totalSteps && !state.outer;
  const counters = named ? observeCounter(state.counters, sample.counter!, sample.step!, sample.totalSteps!) : state.counters;
  const nestedFraction = named ? jobFraction(counters) : null;
  const inPass: Measured | null = nestedFraction !== null ? { percent: nestedFraction * 100, basis: 'steps' } : percentOf(sample, frame, totalFrames, outputSeconds, state.outer, plan?.timeBasis === true);
  const measured = inPass === null ? null : overallPercent(plan, pass.index, inPass.percent);
  return {
    frameRate,
    plan: state.plan,
    probedInputs: state.probedInputs,
    pass,
    declaredTotalFrames: state.declaredTotalFrames,
    outer,
    counters,
    fields: {
      // Unknown (null) until something gives a basis; from then on, never backwards.
      progress: measured === null ? previous.progress : Math.max(previous.progress ?? 0, clampPercent(measured)),
      basis: inPass?.basis ?? previous.basis,
      pass: previous.passes === null ? null : pass.index,
      passes: previous.passes,
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

/** A pass's own percent as a share of the whole job: the passes before it, plus its weight's part. */
function overallPercent(plan: EncodePlan | null, pass: number, percent: number): number {
  if (!plan || plan.passes <= 1) return percent;
  const before = plan.passWeights.slice(0, pass - 1).reduce((total, weight) => total + weight, 0);
  return (before + (plan.passWeights[pass - 1] ?? 0) * (Math.min(100, percent) / 100)) * 100;
}

interface Measured {
  percent: number;
  basis: ProgressBasis;
}

function percentOf(
  sample: ProgressSample,
  frame: number | null,
  totalFrames: number | null,
  durationSeconds: number | null,
  outer: ProgressState['outer'],
  timeBasis: boolean,
): Measured | null {
  if (sample.percent != null) {
    // Within one outer unit, an inner bar only says how far into that unit the work is.
    if (sample.level === 'inner' && outer) return { percent: ((outer.done + sample.percent / 100) / outer.total) * 100, basis: 'steps' };
    return { percent: sample.percent, basis: sample.step != null || sample.format === 'steps' ? 'steps' : 'percent' };
  }
  // Where the command changes timing, frames counted against a derived total mislead: output time
  // against the output's length does not.
  const byTime = sample.timeSeconds != null && durationSeconds ? { percent: (sample.timeSeconds / durationSeconds) * 100, basis: 'time' as const } : null;
  if (timeBasis && byTime) return byTime;
  if (sample.frame != null && totalFrames) return { percent: (frame! / totalFrames) * 100, basis: sample.format === 'steps' ? 'steps' : 'frames' };
  return byTime;
}

function clampPercent(value: number): number {
  return Math.min(100, Math.max(0, Math.round(value * 100) / 100));
}

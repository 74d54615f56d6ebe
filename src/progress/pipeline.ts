// The progress pipeline: batches of records → parser → progress state (+ETA) → throttle. Pure RxJS operators;
// the clock comes in as a parameter so tests can drive it.
import { Observable, type OperatorFunction } from './rx.js';
import type { ProgressFields } from '../../machines/job-record.js';
import { type RecordBatch, redrawsSameLine } from './lines.js';
import { INITIAL_ETA, nextEta, type EtaState } from './eta.js';
import { type KnownTotals, type ProgressDetail, applySample, initialProgress, withProbedInputs } from './progress-state.js';
import { type LineParser, type ProgressSample, mergedSamples } from './sample.js';
import { type ThrottleOptions, type Written, shouldWrite } from './throttle.js';

export interface ProgressUpdate {
  fields: ProgressFields;
  detail: ProgressDetail;
  /** Seconds since the run started. */
  runSeconds: number;
  /** Seconds into the run at which each pass after the first began; null for one pass. */
  passStartSeconds: number[] | null;
}

export interface ReadProgressOptions {
  parse: LineParser;
  known: KnownTotals;
  nowMs: () => number;
  startMs: number;
  /** How long runs of this kind have taken (learned from finished jobs); null when nothing is known. */
  expectedRunSeconds?: number | null;
  /**
   * Reads the inputs' lengths (and the prior for them): asked once, alongside the encoder, when
   * work is reported with no percent (no header gave a length). Never rejects.
   */
  probe?: () => Promise<ProbedInputs>;
}

export interface ProbedInputs {
  totals: Omit<KnownTotals, 'totalFrames'> | null;
  expectedRunSeconds: number | null;
}

/**
 * Batches of records (one per read, as `splitRecordBatches` gives them) → progress updates: one
 * per batch that reports work, with the state after its last record (and one more where a pass
 * ends inside it). A status line the next one of its read replaces is not parsed: one the parser
 * knows to be replaced (`replacedBy`) or stale (`staleIn`), or one drawn over by the same line's
 * next state.
 */
export function readProgress(options: ReadProgressOptions): OperatorFunction<RecordBatch, ProgressUpdate> {
  const { parse } = options;
  const { replacedBy, staleIn } = parse;
  return (batches) =>
    new Observable<ProgressUpdate>((subscriber) => {
      let progress = initialProgress(options.known);
      let eta: EtaState = INITIAL_ETA;
      let passStartSeconds: number[] | null = null;
      let prior = options.expectedRunSeconds ?? null;
      let lastWork: ProgressSample | null = null;
      let probing: Promise<void> | null = null;
      let open = true;
      // The probe's lengths, taken in; the last work read again with them, so a percent shows now.
      const askProbe = (probe: () => Promise<ProbedInputs>) =>
        probe().then((probed) => {
          if (!open) return;
          if (probed.totals) progress = withProbedInputs(progress, probed.totals);
          prior = probed.expectedRunSeconds ?? prior;
          if (probed.totals && lastWork) {
            const runSeconds = runSecondsNow();
            absorb(lastWork, runSeconds);
            report(runSeconds);
          }
        });
      const runSecondsNow = () => (options.nowMs() - options.startMs) / 1000;
      // Work taken into the state since the last update.
      let unreported = false;
      // A sample taken into the state (a header only sets totals, it reports no work). Work
      // not yet reported when a pass ends is reported first: the pass's last word is its own update.
      const absorb = (sample: ProgressSample, runSeconds: number) => {
        const next = applySample(progress, sample);
        if (next.pass.index > progress.pass.index) {
          if (unreported) report(runSeconds);
          passStartSeconds = [...(passStartSeconds ?? []), runSeconds];
        }
        progress = next;
        if (sample.header === true) return;
        lastWork = sample;
        unreported = true;
      };
      // One update for what the state holds now: the ETA is worked out once per read, not once per
      // record of it (its records arrived together: a rate between them says nothing).
      const report = (runSeconds: number) => {
        const percent = progress.fields.progress;
        // No percent, no rate of it: an unknown total has only the prior's ETA, if any.
        const measured = percent === null ? { state: eta, etaSeconds: null } : nextEta(eta, runSeconds, percent);
        // Before the window holds a rate, the average since the run began: a little pessimistic (it
        // counts the encoder's start), but there from the first percent on.
        const sinceStart = percent !== null && percent >= 1 && runSeconds > 0 ? Math.round((runSeconds * (100 - percent)) / percent) : null;
        const etaSeconds = blendEta(measured.etaSeconds ?? sinceStart, prior, runSeconds, percent);
        progress = { ...progress, fields: { ...progress.fields, etaSeconds } };
        eta = measured.state;
        unreported = false;
        subscriber.next({ fields: progress.fields, detail: progress.detail, runSeconds, passStartSeconds });
        if (percent === null && probing === null && options.probe) probing = askProbe(options.probe);
      };
      const subscription = batches.subscribe({
        next(batch) {
          const runSeconds = runSecondsNow();
          const last = batch.length - 1;
          const redrawn = batch.redrawn ?? NONE_REDRAWN;
          let nextRedrawn = 0;
          const stale = staleIn?.(batch) ?? null;
          // Samples that follow each other and say different things are taken in as one.
          let held: ProgressSample | null = null;
          for (let index = 0; index <= last; index++) {
            const record = batch[index]!;
            if (stale !== null && stale[index] === 1) continue;
            if (index < last) {
              if (replacedBy?.(record, batch[index + 1]!)) continue;
              while (nextRedrawn < redrawn.length && redrawn[nextRedrawn]! < index) nextRedrawn++;
              // A status line drawn over by the same line's next state, in the same read.
              if (redrawn[nextRedrawn] === index && redrawsSameLine(record, batch[index + 1]!)) continue;
            }
            const sample = parse(record);
            if (sample === null) continue;
            const merged: ProgressSample | null = held === null ? null : mergedSamples(held, sample);
            if (merged !== null) {
              held = merged;
              continue;
            }
            if (held !== null) absorb(held, runSeconds);
            held = sample;
          }
          if (held !== null) absorb(held, runSeconds);
          if (unreported) report(runSeconds);
        },
        error: (error: unknown) => subscriber.error(error),
        // A probe under way is waited for: its lengths may give the run's last update its percent.
        complete: () => void (probing ?? Promise.resolve()).then(() => subscriber.complete()),
      });
      return () => {
        open = false;
        subscription.unsubscribe();
      };
    });
}

const NONE_REDRAWN: readonly number[] = [];

// The measured rate is trusted fully from this far in; before it, the prior weighs in too.
const PRIOR_FADES_BY_PERCENT = 10;

/**
 * The ETA from the measured rate, the prior (how long this kind of run takes), or both: the prior
 * alone before anything is measured (what remains of the expected run, as far as the percent
 * says), the measured one alone from 10 % on, a mix of the two in between.
 */
export function blendEta(measured: number | null, expectedRunSeconds: number | null, runSeconds: number, percent: number | null): number | null {
  if (percent !== null && percent >= 100) return 0;
  if (expectedRunSeconds === null) return measured;
  const fromPrior = percent !== null && percent > 0 ? Math.max(expectedRunSeconds * (1 - percent / 100), 0) : Math.max(expectedRunSeconds - runSeconds, 0);
  if (measured === null) return Math.round(fromPrior);
  const weight = Math.min(1, (percent ?? 0) / PRIOR_FADES_BY_PERCENT);
  return Math.round(weight * measured + (1 - weight) * fromPrior);
}

/** Passes the updates worth a store write, and on completion the last one if it was held back. */
export function throttleProgress(options: ThrottleOptions, nowMs: () => number): OperatorFunction<ProgressUpdate, ProgressUpdate> {
  return (updates) =>
    new Observable<ProgressUpdate>((subscriber) => {
      let last: Written | null = null;
      let held: ProgressUpdate | null = null;
      const subscription = updates.subscribe({
        next(update) {
          const now = nowMs();
          if (shouldWrite(last, update.fields, now, options)) {
            last = { fields: update.fields, atMs: now };
            held = null;
            subscriber.next(update);
          } else {
            held = update;
          }
        },
        error: (err) => subscriber.error(err),
        complete() {
          if (held) subscriber.next(held);
          subscriber.complete();
        },
      });
      return () => subscription.unsubscribe();
    });
}

export interface LatestEveryOptions {
  /** When the first interval began: a value inside it waits for its end. Default: none, the first passes at once. */
  sinceMs?: number;
  /** Whether a value held back when the source completes still passes. Default: it does. */
  passHeldAtEnd?: boolean;
}

/**
 * At most one value per interval: the first of a quiet spell at once, the last of a busy interval
 * at its end. Unlike RxJS's throttleTime it sets a timer only when it holds a value back: an
 * encoder reporting twice a second costs no timer at all.
 */
export function latestEvery<T>(intervalMs: number, nowMs: () => number, options: LatestEveryOptions = {}): OperatorFunction<T, T> {
  const passHeldAtEnd = options.passHeldAtEnd ?? true;
  return (values) =>
    new Observable<T>((subscriber) => {
      let passedAtMs = options.sinceMs ?? Number.NEGATIVE_INFINITY;
      let held: { value: T } | null = null;
      let timer: NodeJS.Timeout | null = null;
      const pass = (value: T) => {
        passedAtMs = nowMs();
        subscriber.next(value);
      };
      const passHeld = () => {
        timer = null;
        const value = held!.value;
        held = null;
        pass(value);
      };
      const untilIntervalEnds = () => passedAtMs + intervalMs - nowMs();
      const arm = (waitMs: number) => {
        timer = setTimeout(intervalEnded, waitMs);
      };
      // Node's timers count whole milliseconds from a loop time read before the callbacks ran, so
      // one can fire a millisecond early by the injected clock: wait out the rest rather than pass
      // a value before its interval has ended. A clock set back (more left than a whole interval)
      // is not waited out.
      const intervalEnded = () => {
        const leftMs = untilIntervalEnds();
        if (leftMs > 0 && leftMs <= intervalMs) arm(leftMs);
        else passHeld();
      };
      const subscription = values.subscribe({
        next(value) {
          if (timer === null && nowMs() - passedAtMs >= intervalMs) return pass(value);
          held = { value };
          if (timer === null) arm(Math.max(0, untilIntervalEnds()));
        },
        error: (error) => subscriber.error(error),
        complete() {
          if (timer !== null) clearTimeout(timer);
          if (held !== null && passHeldAtEnd) passHeld();
          subscriber.complete();
        },
      });
      return () => {
        if (timer !== null) clearTimeout(timer);
        subscription.unsubscribe();
      };
    });
}

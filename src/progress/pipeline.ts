// The progress pipeline: lines → parser → progress state (+ETA) → throttle. Pure RxJS operators;
// the clock comes in as a parameter so tests can drive it.
import { Observable, type OperatorFunction, filter, map, scan } from 'rxjs';
import type { ProgressFields } from '../../machines/job-record.js';
import { INITIAL_ETA, nextEta, type EtaState } from './eta.js';
import { type KnownTotals, type ProgressDetail, type ProgressState, applySample, initialProgress } from './progress-state.js';
import type { LineParser, ProgressSample } from './sample.js';
import { type ThrottleOptions, type Written, shouldWrite } from './throttle.js';

export interface ProgressUpdate {
  fields: ProgressFields;
  detail: ProgressDetail;
  /** Seconds since the run started. */
  runSeconds: number;
}

export interface ReadProgressOptions {
  parse: LineParser;
  known: KnownTotals;
  nowMs: () => number;
  startMs: number;
}

export function readProgress(options: ReadProgressOptions): OperatorFunction<string, ProgressUpdate> {
  const start: { progress: ProgressState; eta: EtaState; runSeconds: number } = {
    progress: initialProgress(options.known),
    eta: INITIAL_ETA,
    runSeconds: 0,
  };
  return (lines) =>
    lines.pipe(
      map((line) => options.parse(line)),
      filter((sample): sample is ProgressSample => sample !== null),
      scan((acc, sample) => {
        const runSeconds = (options.nowMs() - options.startMs) / 1000;
        const progress = applySample(acc.progress, sample);
        // No percent, no rate of it: an unknown total has no ETA.
        const eta = progress.fields.progress === null ? { state: acc.eta, etaSeconds: null } : nextEta(acc.eta, runSeconds, progress.fields.progress);
        return {
          progress: { ...progress, fields: { ...progress.fields, etaSeconds: eta.etaSeconds } },
          eta: eta.state,
          runSeconds,
          // Header lines set totals; an update is due only once the encoder reports work.
          reportsWork: sample.header !== true,
        };
      }, { ...start, reportsWork: false }),
      filter((acc) => acc.reportsWork),
      map((acc) => ({ fields: acc.progress.fields, detail: acc.progress.detail, runSeconds: acc.runSeconds })),
    );
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

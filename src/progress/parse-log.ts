// `encsup parse`: a raw terminal log (\r, ANSI codes and all) through the same pipeline a job's
// output takes, one JSON object per progress update. A log has no clock, so the ETA shown is the
// encoder's own where it prints one.
import { type Observable, distinctUntilChanged, from, map } from './rx.js';
import type { ParserName, ProgressFields } from '../../machines/job-record.js';
import type { EncodePlan } from './encode-plan.js';
import { splitRecordsApart } from './lines.js';
import { createParser } from './parsers/index.js';
import { readProgress } from './pipeline.js';

export interface ParseLogOptions {
  parser: ParserName;
  pattern?: string | null;
  totalFrames?: number | null;
  durationSeconds?: number | null;
  /** The job's command, read for passes and trims; without one, one pass of the whole input. */
  plan?: EncodePlan | null;
}

/** The job's progress fields, `progress` named `percent`, with what the log itself says. */
export type ParsedUpdate = Omit<ProgressFields, 'progress' | 'etaSeconds'> & {
  /** null while nothing in the log (or the options) gives a total. */
  percent: number | null;
  timeSeconds: number | null;
  /** The encoder's own estimate: a log has no clock. */
  etaSeconds: number | null;
  step: number | null;
  totalSteps: number | null;
  format: string | null;
};

export function parseLog(chunks: AsyncIterable<Buffer | string> | Iterable<string>, options: ParseLogOptions): Observable<ParsedUpdate> {
  return from(chunks).pipe(
    map((chunk) => chunk.toString()),
    splitRecordsApart(),
    readProgress({
      parse: createParser({ parser: options.parser, pattern: options.pattern ?? null }),
      known: { totalFrames: options.totalFrames ?? null, durationSeconds: options.durationSeconds ?? null, plan: options.plan ?? null },
      nowMs: () => 0,
      startMs: 0,
    }),
    map(({ fields, detail }) => ({
      percent: fields.progress,
      basis: fields.basis,
      pass: fields.pass,
      passes: fields.passes,
      frame: fields.frame,
      totalFrames: fields.totalFrames,
      fps: fields.fps,
      bitrate: fields.bitrate,
      speed: fields.speed,
      timeSeconds: detail.timeSeconds,
      etaSeconds: detail.encoderEtaSeconds,
      step: detail.step,
      totalSteps: detail.totalSteps,
      format: detail.format,
    })),
    distinctUntilChanged((a, b) => JSON.stringify(a) === JSON.stringify(b)),
  );
}

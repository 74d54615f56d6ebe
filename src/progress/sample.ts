// What a parser reads from one line. Every field is optional: encoders print different things.
import type { ParserName } from '../../machines/job-record.js';

export type ProgressFormat = Exclude<ParserName, 'auto'> | 'ffmpeg-header' | 'x26x';

export interface ProgressSample {
  format: ProgressFormat;
  frame?: number | null;
  totalFrames?: number | null;
  fps?: number | null;
  /** kbit/s */
  bitrate?: number | null;
  speed?: number | null;
  /** Position in the output, in seconds of media. */
  timeSeconds?: number | null;
  /** Length of the input, in seconds of media, from a header. */
  durationSeconds?: number | null;
  /** Frames per second of the input, from a header. */
  frameRate?: number | null;
  /** 0-100 of the whole job, where the encoder prints its own percentage. */
  percent?: number | null;
  /** The encoder's own remaining-time estimate, in seconds. */
  encoderEtaSeconds?: number | null;
  /** Steps of a render script's counter or bar (tqdm n/total, Step a/b). */
  step?: number | null;
  totalSteps?: number | null;
  /**
   * outer: the job's own counter (Deforum's animation frame, an overall bar); inner: a bar within
   * one unit of it (sampler steps of one frame), which only refines the outer counter.
   */
  level?: 'outer' | 'inner';
  /** Which counter this is, where a line can show one of several (a tqdm bar's description). */
  counter?: string;
  /** A header line that only states totals; no work is reported by it. */
  header?: boolean;
}

/**
 * Reads one line; stateful parsers (multi-line blocks) are made fresh per run by a factory.
 * `replacedBy` is a cheap test that the next record of the same read says all this one says
 * (a cumulative status line of one format, its counter not gone back), so it need not be parsed.
 * `staleIn` marks the records of a read that later ones of it say all of (a block of lines
 * followed by a newer block: ffmpeg's -progress), or gives null where none are.
 */
export type LineParser = ((line: string) => ProgressSample | null) & {
  replacedBy?: (current: string, next: string) => boolean;
  staleIn?: (batch: readonly string[]) => Uint8Array | null;
};

/**
 * Two samples of one format read as one, where they say different things (ffmpeg's -progress
 * block: frame, fps, time and speed each on a line of its own): the fields of both, or null where
 * a field of `next` holds a value other than the one `first` gave (the next block, another bar).
 */
export function mergedSamples(first: ProgressSample, next: ProgressSample): ProgressSample | null {
  if (first.format !== next.format || first.header === true || next.header === true) return null;
  const given = first as unknown as Record<string, unknown>;
  const added = next as unknown as Record<string, unknown>;
  let merged: Record<string, unknown> | null = null;
  for (const key in added) {
    const value = added[key];
    if (value === undefined || value === given[key]) continue;
    if (given[key] !== undefined) return null;
    merged ??= { ...given };
    merged[key] = value;
  }
  return merged === null ? first : (merged as unknown as ProgressSample);
}

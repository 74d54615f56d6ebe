// The parsers a job can name, and `auto`: every line goes to each encoder's parser in turn, first
// match wins, except that the format last recognised is asked first (an encoder prints one format
// for thousands of lines; the others are asked only when it does not match, so a run that changes
// format still reads). The loose generic readers (plain percentages, unnamed counters) are heard
// only until an encoder's own format has been recognised, so a tool's incidental "76.2%" or "3/4"
// can't move an ffmpeg job. Before its regular expressions, each parser asks a byte check (a
// substring every line of its format holds): a record that no format could read, most of what
// encoders print around their status lines, is turned away by a dozen substring searches.
import type { ParserName } from '../../../machines/job-record.js';
import type { LineParser, ProgressSample } from '../sample.js';
import { mayBeFfmpegProgressLine, parseFfmpegProgress, staleProgressLines } from './ffmpeg-progress.js';
import { mayBeFfmpegHeaderLine, parseFfmpegHeader, parseFfmpegStats, statsLineReplacedBy } from './ffmpeg.js';
import { createHandbrakeParser } from './handbrake.js';
import { mayBeAomencLine, parseAomenc } from './aomenc.js';
import { mayBeAv1anLine, parseAv1an } from './av1an.js';
import { mayBeBlenderLine, parseBlender } from './blender.js';
import { mayBeRav1eLine, parseRav1e } from './rav1e.js';
import { mayBeCounterLine, parseCounter } from './counters.js';
import { mayBeGenericCounterLine, parseGenericCounter } from './generic-counter.js';
import { createPatternParser } from './pattern.js';
import { mayBePlainPercentLine, parsePlainPercent } from './percent.js';
import { mayBeSvtAv1Line, parseSvtAv1 } from './svtav1.js';
import { mayBeTqdmLine, parseTqdm } from './tqdm.js';
import { createX26xParser } from './x264-x265.js';

export interface ParserChoice {
  parser: ParserName;
  /** The job's own regular expression, for parser `pattern` (and tried first under `auto`). */
  pattern?: string | null;
}

/**
 * The parsers that keep no state, each with its byte check: a line the check turns away is one
 * the parser would not read (a test holds each pair to that over the corpus). ffmpeg's stats line
 * is scanned, not matched, and checks itself; HandBrake's and x264's parsers keep state across
 * lines and check inside.
 */
export const CHECKED_PARSERS = {
  ffmpegProgress: [mayBeFfmpegProgressLine, parseFfmpegProgress],
  ffmpegHeader: [mayBeFfmpegHeaderLine, parseFfmpegHeader],
  svtav1: [mayBeSvtAv1Line, parseSvtAv1],
  rav1e: [mayBeRav1eLine, parseRav1e],
  aomenc: [mayBeAomencLine, parseAomenc],
  av1an: [mayBeAv1anLine, parseAv1an],
  blender: [mayBeBlenderLine, parseBlender],
  tqdm: [mayBeTqdmLine, parseTqdm],
  counter: [mayBeCounterLine, parseCounter],
  genericCounter: [mayBeGenericCounterLine, parseGenericCounter],
  plainPercent: [mayBePlainPercentLine, parsePlainPercent],
} as const satisfies Record<string, readonly [(line: string) => boolean, LineParser]>;

type CheckedName = keyof typeof CHECKED_PARSERS;

/** Each of them asking its check first. */
const checked = Object.fromEntries(
  Object.entries(CHECKED_PARSERS).map(([name, [mayBe, parse]]) => [name, (line: string) => (mayBe(line) ? parse(line) : null)]),
) as Record<CheckedName, LineParser>;

/** A fresh parser for one run (some formats span lines, so parsers keep a little state). */
export function createParser(choice: ParserChoice): LineParser {
  const custom = choice.pattern ? createPatternParser(choice.pattern) : null;
  switch (choice.parser) {
    case 'auto':
      // A job's own pattern may read what a skipped stats line holds; without one, skip them.
      return custom ? createAutoParser(custom) : withSkips(createAutoParser(null));
    case 'pattern':
      if (!custom) throw new Error('parser "pattern" needs a pattern');
      return custom;
    case 'ffmpeg':
      return Object.assign(firstOf([parseFfmpegStats, checked.ffmpegHeader]), { replacedBy: statsLineReplacedBy });
    case 'ffmpeg-progress':
      return Object.assign(firstOf([checked.ffmpegProgress, checked.ffmpegHeader]), { staleIn: staleProgressLines });
    case 'handbrake':
      return createHandbrakeParser();
    case 'x264':
    case 'x265':
      return createX26xParser();
    case 'svtav1':
      return checked.svtav1;
    case 'rav1e':
      return checked.rav1e;
    case 'aomenc':
      return checked.aomenc;
    case 'av1an':
      return checked.av1an;
    case 'blender':
      return checked.blender;
    case 'tqdm':
      return checked.tqdm;
    case 'steps':
      return firstOf([checked.counter, checked.genericCounter]);
    case 'percent':
      return checked.plainPercent;
  }
}

function firstOf(parsers: LineParser[]): LineParser {
  return (line) => {
    for (const parse of parsers) {
      const sample = parse(line);
      if (sample) return sample;
    }
    return null;
  };
}

/**
 * The auto parser, skipping what a later record of the same read says newer: ffmpeg's stats
 * lines always (a cheap test of the next record), -progress blocks once the run has printed one
 * (finding them asks every record of a read).
 */
function withSkips(parse: LineParser): LineParser {
  let printsProgressBlocks = false;
  const parser: LineParser = (line) => {
    const sample = parse(line);
    if (sample?.format === 'ffmpeg-progress') printsProgressBlocks = true;
    return sample;
  };
  return Object.assign(parser, {
    replacedBy: statsLineReplacedBy,
    staleIn: (batch: readonly string[]) => (printsProgressBlocks ? staleProgressLines(batch) : null),
  });
}

function createAutoParser(custom: LineParser | null): LineParser {
  const specific = pinnedFirst([
    parseFfmpegStats,
    checked.ffmpegProgress,
    checked.ffmpegHeader,
    createHandbrakeParser(),
    createX26xParser(),
    checked.svtav1,
    checked.rav1e,
    checked.aomenc,
    checked.av1an,
    checked.blender,
    checked.tqdm,
    checked.counter,
  ]);
  let recognised = false;
  return (line) => {
    // The job's own pattern is always asked first.
    const sample: ProgressSample | null = custom?.(line) ?? specific(line);
    if (sample) {
      // A header (ffmpeg's `Duration:`) names the encoder as surely as its status line does.
      recognised = true;
      return sample;
    }
    return recognised ? null : (checked.plainPercent(line) ?? checked.genericCounter(line));
  };
}

/** First match wins, asking first the parser that matched last. */
function pinnedFirst(parsers: LineParser[]): LineParser {
  let pinned = -1;
  return (line) => {
    if (pinned >= 0) {
      const sample = parsers[pinned]!(line);
      if (sample) return sample;
    }
    for (let index = 0; index < parsers.length; index++) {
      if (index === pinned) continue;
      const sample = parsers[index]!(line);
      if (sample) {
        pinned = index;
        return sample;
      }
    }
    return null;
  };
}

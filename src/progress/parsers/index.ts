// The parsers a job can name, and `auto`: every line goes to each encoder's parser in turn, first
// match wins, except that the format last recognised is asked first (an encoder prints one format
// for thousands of lines; the others are asked only when it does not match, so a run that changes
// format still reads). The loose generic readers (plain percentages, unnamed counters) are heard
// only until an encoder's own format has been recognised, so a tool's incidental "76.2%" or "3/4"
// can't move an ffmpeg job.
import type { ParserName } from '../../../machines/job-record.js';
import type { LineParser, ProgressSample } from '../sample.js';
import { parseFfmpegProgress } from './ffmpeg-progress.js';
import { parseFfmpegHeader, parseFfmpegStats, statsLineReplacedBy } from './ffmpeg.js';
import { createHandbrakeParser } from './handbrake.js';
import { parseAomenc } from './aomenc.js';
import { parseAv1an } from './av1an.js';
import { parseBlender } from './blender.js';
import { parseRav1e } from './rav1e.js';
import { parseCounter } from './counters.js';
import { parseGenericCounter } from './generic-counter.js';
import { createPatternParser } from './pattern.js';
import { parsePlainPercent } from './percent.js';
import { parseSvtAv1 } from './svtav1.js';
import { parseTqdm } from './tqdm.js';
import { createX26xParser } from './x264-x265.js';

export interface ParserChoice {
  parser: ParserName;
  /** The job's own regular expression, for parser `pattern` (and tried first under `auto`). */
  pattern?: string | null;
}

/** A fresh parser for one run (some formats span lines, so parsers keep a little state). */
export function createParser(choice: ParserChoice): LineParser {
  const custom = choice.pattern ? createPatternParser(choice.pattern) : null;
  switch (choice.parser) {
    case 'auto':
      // A job's own pattern may read what a skipped stats line holds; without one, skip them.
      return custom ? createAutoParser(custom) : Object.assign(createAutoParser(null), { replacedBy: statsLineReplacedBy });
    case 'pattern':
      if (!custom) throw new Error('parser "pattern" needs a pattern');
      return custom;
    case 'ffmpeg':
      return Object.assign(firstOf([parseFfmpegStats, parseFfmpegHeader]), { replacedBy: statsLineReplacedBy });
    case 'ffmpeg-progress':
      return firstOf([parseFfmpegProgress, parseFfmpegHeader]);
    case 'handbrake':
      return createHandbrakeParser();
    case 'x264':
    case 'x265':
      return createX26xParser();
    case 'svtav1':
      return parseSvtAv1;
    case 'rav1e':
      return parseRav1e;
    case 'aomenc':
      return parseAomenc;
    case 'av1an':
      return parseAv1an;
    case 'blender':
      return parseBlender;
    case 'tqdm':
      return parseTqdm;
    case 'steps':
      return firstOf([parseCounter, parseGenericCounter]);
    case 'percent':
      return parsePlainPercent;
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

function createAutoParser(custom: LineParser | null): LineParser {
  const specific = pinnedFirst([
    parseFfmpegStats,
    parseFfmpegProgress,
    parseFfmpegHeader,
    createHandbrakeParser(),
    createX26xParser(),
    parseSvtAv1,
    parseRav1e,
    parseAomenc,
    parseAv1an,
    parseBlender,
    parseTqdm,
    parseCounter,
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
    return recognised ? null : (parsePlainPercent(line) ?? parseGenericCounter(line));
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

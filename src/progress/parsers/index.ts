// The parsers a job can name, and `auto`: every line goes to each encoder's parser in turn, first
// match wins. The loose generic readers (plain percentages, unnamed counters) are heard only until
// an encoder's own format has been recognised, so a tool's incidental "76.2%" or "3/4" can't move
// an ffmpeg job.
import type { ParserName } from '../../../machines/job-record.js';
import type { LineParser, ProgressSample } from '../sample.js';
import { parseFfmpegProgress } from './ffmpeg-progress.js';
import { parseFfmpegHeader, parseFfmpegStats } from './ffmpeg.js';
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
      return createAutoParser(custom);
    case 'pattern':
      if (!custom) throw new Error('parser "pattern" needs a pattern');
      return custom;
    case 'ffmpeg':
      return firstOf([parseFfmpegStats, parseFfmpegHeader]);
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
  const specific = firstOf([
    ...(custom ? [custom] : []),
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
    const sample: ProgressSample | null = specific(line);
    if (sample) {
      // A header (ffmpeg's `Duration:`) names the encoder as surely as its status line does.
      recognised = true;
      return sample;
    }
    return recognised ? null : (parsePlainPercent(line) ?? parseGenericCounter(line));
  };
}

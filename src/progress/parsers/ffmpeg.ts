// ffmpeg's stderr: the `frame= … speed=` stats line, and the `Duration:` / `Stream … fps` header
// lines that give the totals. Field layout from fftools/ffmpeg.c print_report (corpus README).
import type { ProgressSample } from '../sample.js';
import { parseClock, parseNumber } from '../units.js';

/** The values of one report a progress sample needs, and which size and time fields it has. */
interface StatsFields {
  frame?: string;
  fps?: string;
  time?: string;
  bitrate?: string;
  speed?: string;
  hasSize: boolean;
}

/**
 * The `key=value` fields of one report, first of each kind kept (several outputs print one `q=`
 * each; the first output's count). Read by a scan from `=` to `=` rather than a regular
 * expression: a stats line arrives several times a second per encode and the scan is what it
 * costs. Same rules as `(?<![A-Za-z_+-])(key)=\s*(\S*)`: a key glued to a longer word is none
 * (`sentme=`, an overprinted terminal, is not `time=`; `inputFps=0`, an Android log, is not
 * `fps=`), keys are matched without case (logs get transformed), a value runs to the next space and hides
 * any `=` inside it.
 */
function readFields(report: string): StatsFields {
  const fields: StatsFields = { hasSize: false };
  let from = 0;
  for (let equals = report.indexOf('=', from); equals >= 0; equals = report.indexOf('=', from)) {
    let start = equals;
    while (start > from && isLetter(report.charCodeAt(start - 1))) start--;
    const length = equals - start;
    const before = start > 0 ? report.charCodeAt(start - 1) : 0;
    const key = length > 0 && length <= LONGEST_KEY && before !== UNDERSCORE && before !== PLUS && before !== MINUS ? keyOf(report.slice(start, equals)) : null;
    if (key === null) {
      from = equals + 1;
      continue;
    }
    let valueStart = equals + 1;
    while (valueStart < report.length && isSpace(report.charCodeAt(valueStart))) valueStart++;
    let valueEnd = valueStart;
    while (valueEnd < report.length && !isSpace(report.charCodeAt(valueEnd))) valueEnd++;
    from = valueEnd;
    if (key === 'size') fields.hasSize = true;
    else if (key !== 'other' && fields[key] === undefined) fields[key] = report.slice(valueStart, valueEnd);
  }
  return fields;
}

const LONGEST_KEY = 'bitrate'.length;
type StatsKey = 'frame' | 'fps' | 'time' | 'bitrate' | 'speed' | 'size' | 'other';

/** A stats key in any case (logs get transformed); `other` for the ones no sample needs. */
function keyOf(word: string): StatsKey | null {
  const key = word.toLowerCase();
  switch (key) {
    case 'frame':
    case 'fps':
    case 'time':
    case 'bitrate':
    case 'speed':
      return key;
    case 'size':
    case 'lsize':
      return 'size';
    case 'q':
    case 'lq':
    case 'dup':
    case 'drop':
    case 'elapsed':
      return 'other';
    default:
      return null;
  }
}

const UNDERSCORE = 0x5f;
const PLUS = 0x2b;
const MINUS = 0x2d;

function isLetter(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

/** What `\s` matches. */
function isSpace(code: number): boolean {
  if (code === 0x20 || (code >= 0x09 && code <= 0x0d)) return true;
  if (code < 0xa0) return false;
  return code === 0xa0 || code === 0xfeff || (code >= 0x2000 && code <= 0x200a) || code === 0x1680 || code === 0x2028 || code === 0x2029 || code === 0x202f || code === 0x205f || code === 0x3000;
}

export function parseFfmpegStats(line: string): ProgressSample | null {
  // Every stats line has `key=value` fields: a line without `=` is not one (the cheap test first).
  if (line.indexOf('=') < 0) return null;
  // A paste that turned CRs into spaces holds many reports on one line: the last one is current.
  const lastReport = line.toLowerCase().lastIndexOf('frame=');
  const fields = readFields(lastReport > 0 ? line.slice(lastReport) : line);
  const isVideo = fields.frame !== undefined && fields.fps !== undefined;
  const isAudioOnly = fields.hasSize && fields.time !== undefined;
  if (!isVideo && !isAudioOnly) return null;
  return {
    format: 'ffmpeg',
    frame: parseNumber(fields.frame),
    fps: parseNumber(fields.fps),
    bitrate: nonNegative(parseNumber(fields.bitrate)),
    speed: parseNumber(fields.speed),
    timeSeconds: parseClock(fields.time),
  };
}

/**
 * Whether `next` is a stats line as `current` is, its frame count not below it: all `current`
 * says is then in `next` (ffmpeg's fields are cumulative). A count that goes back may be the next
 * pass, so that line is read in full. Two passes of indexOf and a digit scan, no allocation.
 */
export function statsLineReplacedBy(current: string, next: string): boolean {
  const frame = statsFrame(current);
  return frame >= 0 && next.includes(' fps=') && statsFrame(next) >= frame;
}

/** The frame count of a line that starts `frame=`, as ffmpeg prints it; -1 for any other line. */
function statsFrame(line: string): number {
  let at = 0;
  while (line.charCodeAt(at) === 0x20) at++;
  if (!line.startsWith('frame=', at)) return -1;
  at += 'frame='.length;
  while (line.charCodeAt(at) === 0x20) at++;
  let frame = -1;
  for (let code = line.charCodeAt(at); code >= 0x30 && code <= 0x39; code = line.charCodeAt(++at)) frame = (frame < 0 ? 0 : frame * 10) + (code - 0x30);
  return frame;
}

const DURATION = /^\s*Duration:\s*(N\/A|[\d:.]+)/;
const VIDEO_STREAM = /^\s*Stream #\d+:\d+.*?: Video: /;
// The lookbehind keeps this linear: a start inside a run of digits fails at once instead of
// rescanning the run (a megabyte of digits would otherwise take minutes).
const FPS = /(?<![\d.])(\d+(?:\.\d+)?) fps/;

/** The header lines read here name a duration or a video stream. */
export function mayBeFfmpegHeaderLine(line: string): boolean {
  return line.includes('Duration:') || line.includes(': Video: ');
}

export function parseFfmpegHeader(line: string): ProgressSample | null {
  const duration = DURATION.exec(line);
  if (duration) return { format: 'ffmpeg-header', header: true, durationSeconds: parseClock(duration[1]) };
  const fps = VIDEO_STREAM.test(line) ? FPS.exec(line) : null;
  if (fps) return { format: 'ffmpeg-header', header: true, frameRate: parseNumber(fps[1]) };
  return null;
}

/** ffmpeg prints `bitrate=-0.0` alongside its negative start sentinel. */
function nonNegative(value: number | null): number | null {
  return value !== null && value < 0 ? null : value === 0 ? 0 : value;
}

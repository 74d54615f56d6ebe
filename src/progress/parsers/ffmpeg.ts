// ffmpeg's stderr: the `frame= … speed=` stats line, and the `Duration:` / `Stream … fps` header
// lines that give the totals. Field layout from fftools/ffmpeg.c print_report (corpus README).
import type { ProgressSample } from '../sample.js';
import { parseClock, parseNumber } from '../units.js';

// A key must not be glued to a longer word: `sentme=` (an overprinted terminal) is not `time=`, and
// `inputFps=0` (an Android log) is not `fps=`. Keys are matched without case: logs get transformed.
const FIELD = /(?<![A-Za-z_+-])(frame|fps|Lq|q|Lsize|size|time|bitrate|speed|dup|drop|elapsed)=\s*(\S*)/gi;

export function parseFfmpegStats(line: string): ProgressSample | null {
  // A paste that turned CRs into spaces holds many reports on one line: the last one is current.
  const lastReport = line.toLowerCase().lastIndexOf('frame=');
  const report = lastReport > 0 ? line.slice(lastReport) : line;
  const fields = new Map<string, string>();
  for (const [, key, value] of report.matchAll(FIELD)) {
    // Several outputs print one q= each; the first output's fields are the ones that count.
    const name = key === 'Lq' || key === 'Lsize' ? key : key!.toLowerCase();
    if (!fields.has(name)) fields.set(name, value!);
  }
  const isVideo = fields.has('frame') && fields.has('fps');
  const isAudioOnly = (fields.has('size') || fields.has('Lsize')) && fields.has('time');
  if (!isVideo && !isAudioOnly) return null;
  return {
    format: 'ffmpeg',
    frame: parseNumber(fields.get('frame')),
    fps: parseNumber(fields.get('fps')),
    bitrate: nonNegative(parseNumber(fields.get('bitrate'))),
    speed: parseNumber(fields.get('speed')),
    timeSeconds: parseClock(fields.get('time')),
  };
}

const DURATION = /^\s*Duration:\s*(N\/A|[\d:.]+)/;
const VIDEO_STREAM = /^\s*Stream #\d+:\d+.*?: Video: /;
// The lookbehind keeps this linear: a start inside a run of digits fails at once instead of
// rescanning the run (a megabyte of digits would otherwise take minutes).
const FPS = /(?<![\d.])(\d+(?:\.\d+)?) fps/;

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

// ffmpeg's `-progress pipe:N` output: one key=value per line, each block closed by
// `progress=continue|end`. out_time_ms is in microseconds despite its name (ffmpeg trac 7345).
import type { ProgressSample } from '../sample.js';
import { parseClock, parseNumber } from '../units.js';

// The whole line must be one key=value, its key one of these: text glued before a key (yt-dlp's
// `[download] …bitrate=`) is not a -progress line. Looked up, not matched: a block is a dozen lines.
const KEYS = new Set(['frame', 'fps', 'bitrate', 'total_size', 'out_time_us', 'out_time_ms', 'out_time', 'speed', 'progress', 'dup_frames', 'drop_frames']);
const STREAM_QUALITY = /^stream_\d+_\d+_q$/;

/** Every -progress line is a key=value. */
export function mayBeFfmpegProgressLine(line: string): boolean {
  return line.includes('=');
}

export function parseFfmpegProgress(line: string): ProgressSample | null {
  const equals = line.indexOf('=');
  if (equals <= 0) return null;
  const key = line.slice(0, equals);
  if (!KEYS.has(key) && !STREAM_QUALITY.test(key)) return null;
  // Trimmed here rather than with `\s*(.*?)\s*$`, which rescans trailing spaces quadratically.
  const value = line.slice(equals + 1).trim();
  switch (key) {
    case 'frame':
      return { format: FORMAT, frame: parseNumber(value) };
    case 'fps':
      return { format: FORMAT, fps: parseNumber(value) };
    case 'bitrate':
      return { format: FORMAT, bitrate: parseNumber(value) };
    case 'speed':
      return { format: FORMAT, speed: parseNumber(value) };
    case 'out_time_us':
    case 'out_time_ms': {
      const micros = parseNumber(value);
      // Before the first frame some builds print INT64_MIN+1 here: unknown, not a time.
      return { format: FORMAT, timeSeconds: micros === null || micros < 0 ? null : micros / 1e6 };
    }
    case 'out_time':
      return { format: FORMAT, timeSeconds: parseClock(value) };
    default:
      // progress=, sizes, counts of dropped frames: a line of the format with nothing to read.
      return LINE_OF_THE_FORMAT;
  }
}

const FORMAT = 'ffmpeg-progress';
const LINE_OF_THE_FORMAT: ProgressSample = Object.freeze({ format: FORMAT });

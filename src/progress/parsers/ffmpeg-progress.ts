// ffmpeg's `-progress pipe:N` output: one key=value per line, each block closed by
// `progress=continue|end`. out_time_ms is in microseconds despite its name (ffmpeg trac 7345).
import type { ProgressSample } from '../sample.js';
import { parseClock, parseNumber } from '../units.js';

// The whole line must be one key=value: text glued before a key (yt-dlp's `[download] …bitrate=`)
// is not a -progress line.
const KEY_VALUE = /^(frame|fps|bitrate|total_size|out_time_us|out_time_ms|out_time|speed|progress|dup_frames|drop_frames|stream_\d+_\d+_q)=(.*)$/;

/** Every -progress line is a key=value. */
export function mayBeFfmpegProgressLine(line: string): boolean {
  return line.includes('=');
}

export function parseFfmpegProgress(line: string): ProgressSample | null {
  const match = KEY_VALUE.exec(line);
  if (!match) return null;
  // Trimmed here rather than with `\s*(.*?)\s*$`, which rescans trailing spaces quadratically.
  const [, key, raw] = match as unknown as [string, string, string];
  const value = raw.trim();
  const sample: ProgressSample = { format: 'ffmpeg-progress' };
  switch (key) {
    case 'frame':
      return { ...sample, frame: parseNumber(value) };
    case 'fps':
      return { ...sample, fps: parseNumber(value) };
    case 'bitrate':
      return { ...sample, bitrate: parseNumber(value) };
    case 'speed':
      return { ...sample, speed: parseNumber(value) };
    case 'out_time_us':
    case 'out_time_ms': {
      const micros = parseNumber(value);
      // Before the first frame some builds print INT64_MIN+1 here: unknown, not a time.
      return { ...sample, timeSeconds: micros === null || micros < 0 ? null : micros / 1e6 };
    }
    case 'out_time':
      return { ...sample, timeSeconds: parseClock(value) };
    case 'progress':
      return sample;
    default:
      return sample;
  }
}

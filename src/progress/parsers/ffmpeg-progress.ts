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

/**
 * The -progress lines of a read that a newer block of the same read makes stale: those of every
 * block that ends `progress=continue` and is followed by another block's end. A block says
 * nothing its successor does not say newer (its counts only grow within a run), and a read of
 * piped -progress holds hundreds of them. A block that ends `progress=end` closes its run (a
 * pass) and is read; so is the unfinished block at a read's end, and any line of another shape
 * between them. Null when nothing is stale.
 */
export function staleProgressLines(batch: readonly string[]): Uint8Array | null {
  let stale: Uint8Array | null = null;
  let laterBlockEnds = false;
  let inStaleBlock = false;
  // Backwards: a block is known stale from its end line, which comes after its other lines.
  for (let index = batch.length - 1; index >= 0; index--) {
    const record = batch[index]!;
    if (record.charCodeAt(0) === BLOCK_END_FIRST && record.startsWith(BLOCK_END)) {
      inStaleBlock = laterBlockEnds && record === CONTINUES;
      laterBlockEnds = true;
    } else if (!inStaleBlock || !hasKeyLineShape(record)) {
      continue;
    }
    if (inStaleBlock) (stale ??= new Uint8Array(batch.length))[index] = 1;
  }
  return stale;
}

/**
 * A line of a -progress block's shape: a lowercase key, `=`, a short value. ffmpeg's stats line
 * (which starts `frame=` too) is longer, its header lines start with spaces and its warnings with
 * `[`: those are read. Shape, not key, because this asks every line of a read's stale blocks
 * (looking the key up cost as much as splitting the read into lines).
 */
function hasKeyLineShape(line: string): boolean {
  const first = line.charCodeAt(0);
  return first >= 0x61 && first <= 0x7a && line.length <= MAX_KEY_LINE_CHARS && line.includes('=');
}

// The longest key (out_time_us) and a value of 20 digits and a unit would be 40.
const MAX_KEY_LINE_CHARS = 40;

const BLOCK_END = 'progress=';
const BLOCK_END_FIRST = BLOCK_END.charCodeAt(0);
const CONTINUES = 'progress=continue';
const FORMAT = 'ffmpeg-progress';
const LINE_OF_THE_FORMAT: ProgressSample = Object.freeze({ format: FORMAT });

// The other encoders and renderers whose output the corpus holds: rav1e, aomenc/vpxenc, Av1an and
// Blender. Each is one pattern; what each number means is in the comments of the corpus README.
import type { ProgressSample } from '../sample.js';
import { parseEta, parseNumber } from '../units.js';

// rav1e: `encoded 60/120 frames, 0.248 fps, 1075.22 Kb/s, est. size: 0.26 MB, est. time: 242 s`.
// Two reports can share a line (a terminal redraw): the last is current.
const RAV1E = /encoded (\d+)(?:\/(\d+))? frames, (\d+(?:\.\d+)?) fps, (\d+(?:\.\d+)?) Kb\/s(?:, est\. size: [\d.]+ \w+)?(?:, est\. time: ([\dhms ]+?))?(?:,|\s|$)/g;

export function parseRav1e(line: string): ProgressSample | null {
  const match = [...line.matchAll(RAV1E)].at(-1);
  if (!match) return null;
  const [, frame, total, fps, kbps, eta] = match;
  return {
    format: 'rav1e',
    frame: Number(frame),
    totalFrames: total === undefined ? null : Number(total),
    fps: parseNumber(fps),
    bitrate: parseNumber(kbps),
    encoderEtaSeconds: parseEta(eta),
  };
}

// aomenc/vpxenc: `Pass 2/2 frame   84/83     81091B  132314 us 634.85 fps [ETA  unknown]`; the
// second frame number is frames written, the one that counts.
const AOMENC = /^\s*Pass (\d+)\/(\d+) frame\s+(\d+)\/(\d+)\s+\d+B\s+\d+ (?:us|ms) (\d+(?:\.\d+)?) fps/;

export function parseAomenc(line: string): ProgressSample | null {
  const match = AOMENC.exec(line);
  if (!match) return null;
  return { format: 'aomenc', frame: Number(match[4]), fps: parseNumber(match[5]) };
}

// Av1an: `00:10:25 ▐███▌ 45% 486/1080 (17.83 fps, eta 33s, …)`; text glued after the closing
// parenthesis (`Queue 14 Workers 3`) is its own status, not part of the bar.
const AV1AN = /(\d{1,3})%\s+(\d+)\/(\d+)\s+\((\d+(?:\.\d+)?) fps, eta (unknown|[\dhms ]+)/;

export function parseAv1an(line: string): ProgressSample | null {
  const match = AV1AN.exec(line);
  if (!match) return null;
  const [, , frame, total, fps, eta] = match;
  return {
    format: 'av1an',
    frame: Number(frame),
    totalFrames: Number(total),
    fps: parseNumber(fps),
    encoderEtaSeconds: eta === 'unknown' ? null : parseEta(eta),
  };
}

// Blender: `Fra:2 … | Time:00:03.01 | Remaining:00:13.01 | … | Sample 768/4096`, EEVEE's
// `Rendering 17 / 64 samples`, and Cycles with tiles, where `Sample a/b` is per tile and the tile
// count is the frame's progress. BVH object counters (`Cylinder 15/15`) and `Building BVH 0%`
// are scene preparation, not render progress.
const BLENDER_FRAME = /^\s*Fra:\s*(\d+) Mem:/;
const TILES = /Tile (\d+)\/(\d+)/;
const SAMPLES = /\|\s*(?:Sample (\d+)\/(\d+)|Rendering (\d+) \/ (\d+) samples)\s*$/;

export function parseBlender(line: string): ProgressSample | null {
  const frame = BLENDER_FRAME.exec(line);
  if (!frame) return null;
  const tiles = TILES.exec(line);
  const samples = SAMPLES.exec(line);
  const [done, of] = tiles ? [tiles[1], tiles[2]] : samples ? [samples[1] ?? samples[3], samples[2] ?? samples[4]] : [undefined, undefined];
  return {
    format: 'blender',
    frame: Number(frame[1]),
    step: done === undefined ? null : Number(done),
    totalSteps: of === undefined ? null : Number(of),
    encoderEtaSeconds: parseEta(/Remaining:([\d:.]+)/.exec(line)?.[1]),
    level: 'inner',
  };
}

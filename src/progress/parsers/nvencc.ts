// NVEncC: `[100.0%] 5714 frames: 80.92 fps, 19695 kb/s, remain 0:00:00, GPU 19%, VE 100%`. Its
// percent sticks at 100 while frames still advance, so only the frames are believed.
import type { ProgressSample } from '../sample.js';
import { parseNumber } from '../units.js';

const NVENC = /^\s*\[\s*\d+(?:\.\d+)?%\]\s+(\d+) frames: (\d+(?:\.\d+)?) fps, (\d+(?:\.\d+)?) kb\/s/;

export function parseNvencc(line: string): ProgressSample | null {
  const match = NVENC.exec(line);
  if (!match) return null;
  return { format: 'x26x', frame: Number(match[1]), fps: parseNumber(match[2]), bitrate: parseNumber(match[3]) };
}

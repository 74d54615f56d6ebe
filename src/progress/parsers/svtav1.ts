// SvtAv1EncApp: `Encoding:  145/241 Frames @ 8.54 fps | 975.70 kb/s | … | Time: 0:00:17 [-0:00:11]`
// (fps or fpm; the `-` before the remaining time marks it as remaining, it is not negative), the
// unknown-total form, the old `Encoding frame    0 1.08 kbps 2.00 fps`, and the counter that older
// apps rewrite in place with backspaces (`Encoding      2000`).
import type { ProgressSample } from '../sample.js';
import { parseEta, parseNumber } from '../units.js';

const MODERN = /Encoding:\s+(\d+)(?:\/(\d+))? Frames @ (\d+(?:\.\d+)?) (fps|fpm) \| (\d+(?:\.\d+)?) kb\/s/;
const REMAINING = /Time: [\d:]+ \[-?([\d:]+)\]/;
const OLD = /^\s*Encoding frame\s+(\d+) (\d+(?:\.\d+)?) kbps (\d+(?:\.\d+)?) fps/;
const COUNTER = /^\s*Encoding\s+(\d+)\s*$/;
const AVERAGE_SPEED = /^\s*Average System Encoding Speed:\s+(\d+(?:\.\d+)?)/;

/** Each of its forms, the average speed too, says `Encoding`. */
export function mayBeSvtAv1Line(line: string): boolean {
  return line.includes('Encoding');
}

export function parseSvtAv1(line: string): ProgressSample | null {
  let match = MODERN.exec(line);
  if (match) {
    const [, frame, total, rate, unit, kbps] = match;
    const fps = Number(rate) / (unit === 'fpm' ? 60 : 1);
    return {
      format: 'svtav1',
      frame: Number(frame),
      totalFrames: total === undefined ? null : Number(total),
      fps,
      bitrate: parseNumber(kbps),
      encoderEtaSeconds: total === undefined ? null : parseEta(REMAINING.exec(line)?.[1]),
    };
  }
  if ((match = OLD.exec(line))) return { format: 'svtav1', frame: Number(match[1]), bitrate: parseNumber(match[2]), fps: parseNumber(match[3]) };
  if ((match = COUNTER.exec(line))) return { format: 'svtav1', frame: Number(match[1]) };
  if ((match = AVERAGE_SPEED.exec(line))) return { format: 'svtav1', fps: parseNumber(match[1]) };
  return null;
}

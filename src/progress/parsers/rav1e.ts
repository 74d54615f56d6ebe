// rav1e's status line (what each number means is in the corpus README).
import type { ProgressSample } from '../sample.js';
import { parseEta, parseNumber } from '../units.js';

// rav1e: `encoded 60/120 frames, 0.248 fps, 1075.22 Kb/s, est. size: 0.26 MB, est. time: 242 s`.
// Two reports can share a line (a terminal redraw): the last is current.
const RAV1E = /encoded (\d+)(?:\/(\d+))? frames, (\d+(?:\.\d+)?) fps, (\d+(?:\.\d+)?) Kb\/s(?:, est\. size: [\d.]+ \w+)?(?:, est\. time: ([\dhms ]+?))?(?:,|\s|$)/g;

export function mayBeRav1eLine(line: string): boolean {
  return line.includes('encoded ');
}

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

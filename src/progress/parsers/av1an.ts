// Av1an's progress bar.
import type { ProgressSample } from '../sample.js';
import { parseEta, parseNumber } from '../units.js';

// Av1an: `00:10:25 ▐███▌ 45% 486/1080 (17.83 fps, eta 33s, …)`; text glued after the closing
// parenthesis (`Queue 14 Workers 3`) is its own status, not part of the bar.
const AV1AN = /(\d{1,3})%\s+(\d+)\/(\d+)\s+\((\d+(?:\.\d+)?) fps, eta (unknown|[\dhms ]+)/;

export function mayBeAv1anLine(line: string): boolean {
  return line.includes(' fps, eta ');
}

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

// aomenc and vpxenc's status line.
import type { ProgressSample } from '../sample.js';
import { parseNumber } from '../units.js';

// aomenc/vpxenc: `Pass 2/2 frame   84/83     81091B  132314 us 634.85 fps [ETA  unknown]`; the
// second frame number is frames written, the one that counts.
const AOMENC = /^\s*Pass (\d+)\/(\d+) frame\s+(\d+)\/(\d+)\s+\d+B\s+\d+ (?:us|ms) (\d+(?:\.\d+)?) fps/;

export function mayBeAomencLine(line: string): boolean {
  return line.includes('Pass ');
}

export function parseAomenc(line: string): ProgressSample | null {
  const match = AOMENC.exec(line);
  if (!match) return null;
  return { format: 'aomenc', frame: Number(match[4]), fps: parseNumber(match[5]) };
}

// Counters with no encoder's name on them: `Processing 12/120`, `item 12 of 120`, `[12/120]`,
// `(12/120)`. A counter needs a word before it or brackets around it: a bare `1/1` (ffmpeg's
// `SAR=1/1`), a frame rate `30000/1001` or a date `2026/11/26` is none. Loose all the same, so
// believed only until an encoder's own format has been seen (as plain percentages are).
import type { ProgressSample } from '../sample.js';

// Lookbehinds keep each start from rescanning a run of letters or digits: linear on any line.
const LABELLED = /(?<![\w./])[A-Za-z]+:?\s+(\d+)\s*(?:\/|\bof\b)\s*(\d+)(?![\w./])/;
const BRACKETED = /(?<![\w.])[[(]\s*(\d+)\s*\/\s*(\d+)\s*[\])]/;

/** Both forms hold a slash or the word `of` between their numbers. */
export function mayBeGenericCounterLine(line: string): boolean {
  return line.includes('/') || line.includes('of');
}

export function parseGenericCounter(line: string): ProgressSample | null {
  const match = LABELLED.exec(line) ?? BRACKETED.exec(line);
  if (!match) return null;
  const done = Number(match[1]);
  const total = Number(match[2]);
  if (total === 0 || done > total) return null;
  return { format: 'steps', step: done, totalSteps: total, percent: (done / total) * 100, level: 'outer' };
}

// Plain percentages: a line that is a percentage and nothing else (`45%`, `Progress: 45.5 %`) or a
// fraction (`progress: 0.45`). Deliberately strict: `Weighted P-Frames: Y:1.7%` is not progress.
import type { ProgressSample } from '../sample.js';

// Read in steps rather than with one regular expression: a label and the spaces around it can be
// split many ways, and trying them all is quadratic on a long line of spaces.
const NUMBER_AT_END = /(?<![\d.])(\d{1,3}(?:\.\d+)?)$/;
const LABEL = /^[A-Za-z][\w .-]*$/;
const FRACTION = /^\s*progress\s*[:=]\s*(0(?:\.\d+)?|1(?:\.0+)?|\.\d+)\s*$/i;

const PROGRESS_WORD = /progress/i;

/** A percentage ends in `%`; a fraction is labelled progress. */
export function mayBePlainPercentLine(line: string): boolean {
  return line.includes('%') || PROGRESS_WORD.test(line);
}

export function parsePlainPercent(line: string): ProgressSample | null {
  const trimmed = line.trim();
  if (trimmed.endsWith('%')) {
    const body = trimmed.slice(0, -1).trimEnd();
    const number = NUMBER_AT_END.exec(body);
    if (!number) return null;
    const label = body.slice(0, number.index).trimEnd().replace(/[:=]$/, '');
    const percent = Number(number[1]);
    return (label === '' || LABEL.test(label)) && percent <= 100 ? { format: 'percent', percent } : null;
  }
  const fraction = FRACTION.exec(line);
  if (fraction) return { format: 'percent', percent: Number(fraction[1]) * 100 };
  return null;
}

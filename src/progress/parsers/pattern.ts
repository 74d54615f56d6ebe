// A job's own pattern: a regular expression with named groups `current` and `total`, or
// `percent` (the original system's "custom patterns" for Python scripts).
import type { LineParser } from '../sample.js';
import { parseNumber } from '../units.js';

export class PatternError extends Error {}

/** Compiles the pattern, or throws PatternError saying what is wrong with it. */
export function compilePattern(source: string): RegExp {
  let regex: RegExp;
  try {
    regex = new RegExp(source);
  } catch (error) {
    throw new PatternError(`not a valid regular expression: ${(error as Error).message}`);
  }
  const groups = new RegExp(`${source}|`).exec('')?.groups ?? {};
  const names = Object.keys(groups);
  if (!names.includes('percent') && !(names.includes('current') && names.includes('total'))) {
    throw new PatternError('needs a named group (?<percent>…), or both (?<current>…) and (?<total>…)');
  }
  return regex;
}

export function createPatternParser(source: string): LineParser {
  const regex = compilePattern(source);
  return (line) => {
    const groups = regex.exec(line)?.groups;
    if (!groups) return null;
    const current = parseNumber(groups['current']);
    const total = parseNumber(groups['total']);
    const percent = parseNumber(groups['percent']) ?? (current !== null && total ? (current / total) * 100 : null);
    if (percent === null) return null;
    return { format: 'pattern', percent, step: current, totalSteps: total, level: 'outer' };
  };
}

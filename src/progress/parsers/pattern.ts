// A job's own pattern: a regular expression with named groups `current` and `total`, or
// `percent` (the original system's "custom patterns" for Python scripts). It runs on RE2 (re2js):
// matching time is linear in the line's length whatever the pattern, so a pattern such as
// `^(a+)+$` cannot freeze the daemon. RE2 has no lookaround and no backreferences; such a pattern
// is refused at submit with RE2's own words.
import { RE2JS } from 're2js';
import type { LineParser } from '../sample.js';
import { parseNumber } from '../units.js';

/** Compiles the pattern, or throws an Error saying what is wrong with it. */
export function compilePattern(source: string): RE2JS {
  let regex: RE2JS;
  try {
    regex = RE2JS.compile(source);
  } catch (error) {
    throw new Error(`not a pattern the linear-time engine (RE2) accepts: ${(error as Error).message}`);
  }
  const names = Object.keys(regex.namedGroups());
  if (!names.includes('percent') && !(names.includes('current') && names.includes('total'))) {
    throw new Error('needs a named group (?<percent>…), or both (?<current>…) and (?<total>…)');
  }
  return regex;
}

export function createPatternParser(source: string): LineParser {
  const regex = compilePattern(source);
  const names = new Set(Object.keys(regex.namedGroups()));
  const group = (matcher: ReturnType<RE2JS['matcher']>, name: string) => (names.has(name) ? (matcher.group(name) ?? undefined) : undefined);
  return (line) => {
    const matcher = regex.matcher(line);
    if (!matcher.find()) return null;
    const current = parseNumber(group(matcher, 'current'));
    const total = parseNumber(group(matcher, 'total'));
    const percent = parseNumber(group(matcher, 'percent')) ?? (current !== null && total ? (current / total) * 100 : null);
    if (percent === null) return null;
    return { format: 'pattern', percent, step: current, totalSteps: total, level: 'outer' };
  };
}

// tqdm bars, as Python render scripts print them: `desc: 45%|████▌ | 45/100 [00:10<00:12,
// 4.50it/s]`, bar-less (`45% 45/100 […]`), SI-scaled counts (`33.1M/35.4M`), rates in s/it below
// 1 it/s, and the unknown-total form `Loading: 12it [00:03, 3.9it/s]`. A line can hold two bars
// (a finished one and a new one): the last is current.
import type { ProgressSample } from '../sample.js';
import { parseNumber } from '../units.js';

const SI: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
const COUNT = String.raw`(\d+(?:\.\d+)?)([kMGT]?)`;
// Each starts with a lookbehind so that a start inside a run of digits fails at once: linear time
// on any line, however long.
const BAR = new RegExp(String.raw`(?<![\d.])${COUNT}\/${COUNT} \[([\d:]+)<([\d:?]+),\s*([\d.?]+)\s*([^\]\s,]*)`, 'g');
const NO_TOTAL = /(?<!\d)(\d+)it \[([\d:]+), ([\d.?]+)it\/s\]/;
// Where a bar's percentage begins; the lookbehind keeps the search linear.
const PERCENT_START = /(?<![\d.])\d+(?:\.\d+)?%/;
// Overall bars of render scripts: A1111's "Total progress", Deforum's "Deforum progress".
const OVERALL = /(total|deforum) progress/i;

/**
 * A bar opens its times with ` [` and parts them with `<` (elapsed<remaining); the unknown-total
 * form has `it [`. Log lines such as x264's `x264 [info]: …` have neither pair.
 */
export function mayBeTqdmLine(line: string): boolean {
  return line.includes('it [') || (line.includes(' [') && line.includes('<'));
}

export function parseTqdm(line: string): ProgressSample | null {
  const bars = [...line.matchAll(BAR)];
  const bar = bars.at(-1);
  if (bar) {
    const [, n, nUnit, total, totalUnit, , remaining, rate, rateUnit] = bar;
    const step = Number(n) * SI[nUnit!]!;
    const totalSteps = Number(total) * SI[totalUnit!]!;
    const before = line.slice(0, bar.index);
    // Deforum glues its overall step bar right after the animation frame counter.
    const overall = OVERALL.test(before) || /Animation frame:\s*\d+\/\d+/.test(before);
    // The bar's own description (before its percentage) tells nested bars apart.
    const percentAt = before.search(PERCENT_START);
    const counter = `${(percentAt >= 0 ? before.slice(0, percentAt) : before).trim().slice(0, 80)}/${totalSteps}`;
    return {
      format: 'tqdm',
      counter,
      step,
      totalSteps,
      percent: totalSteps > 0 ? (step / totalSteps) * 100 : null,
      encoderEtaSeconds: remaining === '?' ? null : parseClockLoose(remaining!),
      fps: rateOf(rate!, rateUnit!),
      level: overall ? 'outer' : 'inner',
    };
  }
  const open = NO_TOTAL.exec(line);
  if (open) return { format: 'tqdm', step: Number(open[1]), totalSteps: null, fps: parseNumber(open[3]), level: OVERALL.test(line) ? 'outer' : 'inner' };
  return null;
}

/** tqdm's clocks run past 24 hours without rolling into days: `28:42:16`. */
function parseClockLoose(text: string): number | null {
  if (!/^\d+(:\d+){1,2}$/.test(text)) return null;
  return text.split(':').reduce((total, part) => total * 60 + Number(part), 0);
}

/** Items per second; tqdm prints `s/it` (inverted) once it is slower than one per second. A
 * custom unit such as `s/s` (seconds of media per second) is a rate as it stands. */
function rateOf(value: string, unit: string): number | null {
  const number = parseNumber(value);
  if (number === null || number === 0) return null;
  return unit === 's/it' ? 1 / number : number;
}

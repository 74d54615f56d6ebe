// Plain percentages: a line that is a percentage and nothing else (`45%`, `Progress: 45.5 %`) or a
// fraction (`progress: 0.45`). Deliberately strict: `Weighted P-Frames: Y:1.7%` is not progress.
import type { ProgressSample } from '../sample.js';

const PERCENT = /^\s*(?:[A-Za-z][\w .-]*[:=]?\s*)?(\d{1,3}(?:\.\d+)?)\s*%\s*$/;
const FRACTION = /^\s*progress\s*[:=]\s*(0(?:\.\d+)?|1(?:\.0+)?|\.\d+)\s*$/i;

export function parsePlainPercent(line: string): ProgressSample | null {
  const percent = PERCENT.exec(line);
  if (percent && Number(percent[1]) <= 100) return { format: 'percent', percent: Number(percent[1]) };
  const fraction = FRACTION.exec(line);
  if (fraction) return { format: 'percent', percent: Number(fraction[1]) * 100 };
  return null;
}

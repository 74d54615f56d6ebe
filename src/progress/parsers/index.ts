// The parsers a job can name, and `auto`, which tries each on every line.
import type { LineParser } from '../sample.js';
import { parseFfmpegHeader, parseFfmpegStats } from './ffmpeg.js';

const AUTO_ORDER: LineParser[] = [parseFfmpegStats, parseFfmpegHeader];

export const autoParser: LineParser = (line) => {
  for (const parse of AUTO_ORDER) {
    const sample = parse(line);
    if (sample) return sample;
  }
  return null;
};

// Reads the corpus's sample files: `# source:`, optional `# note:`, raw lines, `# expect:`.
import { corpusFile } from './corpus.js';

export interface CorpusSample {
  file: string;
  /** 1-based position of the sample in its file. */
  index: number;
  source: string;
  lines: string[];
  expect: string;
}

export function readSamples(file: string): CorpusSample[] {
  const samples: CorpusSample[] = [];
  let current: CorpusSample | null = null;
  for (const line of corpusFile(file).split('\n')) {
    if (line.startsWith('# source:')) {
      current = { file, index: samples.length + 1, source: line.slice(9).trim(), lines: [], expect: '' };
      samples.push(current);
    } else if (!current || line.startsWith('# note:') || line === '') {
      continue;
    } else if (line.startsWith('# expect:')) {
      current.expect = line.slice(9).trim();
      current = null;
    } else if (!line.startsWith('#')) {
      current.lines.push(line);
    }
  }
  return samples;
}

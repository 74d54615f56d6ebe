// The shared corpus of real encoder output, beside the repository (../shared/corpus).
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CORPUS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/corpus');

export function corpusFile(name: string): string {
  return readFileSync(join(CORPUS_DIR, name), 'latin1');
}

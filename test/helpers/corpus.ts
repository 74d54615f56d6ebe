// The corpus of real encoder output: a byte-exact copy of the workplace's shared/corpus in
// test/fixtures/corpus (so a fresh clone tests on its own), plus our own captures in test/fixtures.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures');
export const CORPUS_DIR = join(FIXTURES_DIR, 'corpus');

export function corpusFile(name: string): string {
  return readFileSync(join(CORPUS_DIR, name), 'utf8');
}

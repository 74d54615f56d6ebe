// Temporary folders that tests clean up after themselves.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempDir {
  path: string;
  remove: () => void;
}

export function tempDir(prefix = 'encsup-test-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Runs `body` with a fresh temporary folder, removed afterwards whatever the body did. */
export async function withTempDir<T>(body: (dir: TempDir) => Promise<T>): Promise<T> {
  const dir = tempDir();
  try {
    return await body(dir);
  } finally {
    dir.remove();
  }
}

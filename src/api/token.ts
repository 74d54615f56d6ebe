// The API token: ENCSUP_TOKEN / --token when given, otherwise one generated at the first start and
// kept in <data-dir>/token (mode 0600), as Jupyter keeps its token, so the same user's CLI finds it
// with no setup. Comparison is constant-time whatever the lengths.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PRIVATE_FILE } from '../data-folder.js';

export const TOKEN_FILE = 'token';
export const MIN_TOKEN_LENGTH = 16;

export function tokenPath(dataDir: string): string {
  return join(dataDir, TOKEN_FILE);
}

/** The configured token, or the data folder's own (created now if it has none). */
export function loadOrCreateToken(dataDir: string, configured: string): Promise<string> {
  return loadOrCreateSecret(tokenPath(dataDir), configured);
}

/** A secret: the configured one, or the one kept in this file (0600), created now if there is none. */
export async function loadOrCreateSecret(path: string, configured: string): Promise<string> {
  if (configured !== '') return configured;
  const existing = readToken(path);
  if (existing !== null) return existing;
  // 256 random bits; base64url so it can sit in an address unescaped.
  const secret = randomBytes(32).toString('base64url');
  try {
    await writeFile(path, `${secret}\n`, { mode: PRIVATE_FILE, flag: 'wx' });
    return secret;
  } catch (error) {
    // Another process created it between our read and write: theirs is the secret.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readToken(path) ?? secret;
    throw error;
  }
}

/** The token in a file, or null when there is none (or it is too short to be one). */
function readToken(path: string): string | null {
  try {
    const text = readFileSync(path, 'utf8').trim();
    return text.length >= MIN_TOKEN_LENGTH ? text : null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** For the CLI: the token in a data folder, or null when there is none or it can't be read. */
export function readTokenFileSync(dataDir: string): string | null {
  try {
    return readToken(tokenPath(dataDir));
  } catch {
    return null;
  }
}

/** Hashing first makes the comparison take the same time whatever length was presented. */
export function tokenMatches(presented: string | null, expected: string): boolean {
  if (presented === null) return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

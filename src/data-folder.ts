// The data folder holds every job's environment (API keys, passwords), the token and the logs:
// it is made private to the daemon's user (0700, files 0600) before anything is written to it.
import { chmod, mkdir, open, stat } from 'node:fs/promises';
import type { Logger } from './logger.js';

export const PRIVATE_FOLDER = 0o700;
export const PRIVATE_FILE = 0o600;

/**
 * Creates the folder 0700, or narrows an existing one that this user owns. A folder owned by
 * someone else, or shared on purpose (the sticky bit of /tmp), is left alone with a warning.
 */
export async function preparePrivateFolder(path: string, log: Logger): Promise<void> {
  await mkdir(path, { recursive: true, mode: PRIVATE_FOLDER });
  const info = await stat(path);
  if ((info.mode & 0o077) === 0) return;
  const ownedByUs = typeof process.getuid === 'function' && info.uid === process.getuid();
  if (ownedByUs && (info.mode & 0o1000) === 0) {
    await chmod(path, PRIVATE_FOLDER);
    log.warn({ folder: path, was: (info.mode & 0o777).toString(8) }, 'the data folder was readable by other users; it is now 0700');
  } else {
    log.warn({ folder: path, mode: (info.mode & 0o7777).toString(8) }, 'the data folder can be read by other users, and encsup may not narrow it: job environments are exposed');
  }
}

/**
 * fsync of a file (or a folder, for the names in it): what was written to it so far is on disk.
 * Any descriptor of the file will do on Linux, so a read-only one is opened.
 */
export async function syncToDisk(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

// One owner per data folder: an exclusive OS file lock (flock(2) on <data-dir>/daemon.lock) held
// for the daemon's whole life, taken before the store is opened or any process is touched. Node
// has no flock of its own, so util-linux's `flock` holds it on the daemon's behalf: it takes the
// lock, says so, and holds it until its standard input closes, which the kernel does when the
// daemon exits however it exits (kill -9 included). So a dead owner's lock is free again at once,
// and nothing stale is ever taken over by guesswork. The owner's pid, host and start time are
// written in the lock file, for the message a second daemon gives.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { PRIVATE_FILE } from './data-folder.js';

export interface FolderOwner {
  pid: number;
  host: string;
  startedAt: string;
}

export interface FolderLock {
  path: string;
  owner: FolderOwner;
  /** Lets the lock go (after the store is closed and every encoder has ended). */
  release(): Promise<void>;
}

export class FolderLockedError extends Error {
  constructor(
    readonly folder: string,
    readonly owner: FolderOwner | null,
  ) {
    super(
      owner
        ? `another encsup daemon owns ${folder}: pid ${owner.pid} on ${owner.host}, running since ${owner.startedAt}. Stop it first (or use another --data-dir)`
        : `another encsup daemon owns ${folder} (it has not written its pid yet). Stop it first (or use another --data-dir)`,
    );
    this.name = 'FolderLockedError';
  }
}

const HELD_ELSEWHERE = 75;

export async function lockDataFolder(folder: string, nowIso: () => string): Promise<FolderLock> {
  const path = join(folder, 'daemon.lock');
  // Its own process group, so a Ctrl-C to the daemon's terminal does not free the lock while the
  // daemon is still ending its encoders.
  const holder = spawn('flock', ['--exclusive', '--nonblock', '--conflict-exit-code', String(HELD_ELSEWHERE), path, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const outcome = await new Promise<'locked' | { code: number | null; error?: Error; stderr: string }>((resolve) => {
    let stderr = '';
    holder.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    holder.stdout!.once('data', () => resolve('locked'));
    holder.once('error', (error) => resolve({ code: null, error, stderr }));
    holder.once('exit', (code) => resolve({ code, stderr }));
  });
  if (outcome !== 'locked') {
    if (outcome.code === HELD_ELSEWHERE) throw new FolderLockedError(folder, await ownerOnceWritten(path));
    const why = outcome.error && (outcome.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'the flock command (util-linux) is not installed' : outcome.error?.message ?? outcome.stderr.trim();
    throw new Error(`could not lock the data folder ${folder}: ${why}`);
  }
  const owner: FolderOwner = { pid: process.pid, host: hostname(), startedAt: nowIso() };
  await writeFile(path, `${JSON.stringify(owner)}\n`);
  await chmod(path, PRIVATE_FILE);
  // The daemon's own event loop need not wait on the holder: its exit frees the lock anyway.
  unrefHolder(holder);
  return { path, owner, release: () => release(holder) };
}

/** The owner's note: it writes it just after taking the lock, so a daemon started at the same moment waits a little for it. */
async function ownerOnceWritten(path: string): Promise<FolderOwner | null> {
  for (let tries = 0; tries < 40; tries++) {
    const owner = await readOwner(path);
    // A note left by an owner that died is the last one's: the new owner is about to write its own.
    if (owner && (owner.host !== hostname() || processAlive(owner.pid))) return owner;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return null;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readOwner(path: string): Promise<FolderOwner | null> {
  try {
    const owner = JSON.parse(await readFile(path, 'utf8')) as Partial<FolderOwner>;
    return typeof owner.pid === 'number' && typeof owner.host === 'string' && typeof owner.startedAt === 'string' ? (owner as FolderOwner) : null;
  } catch {
    return null;
  }
}

function unrefHolder(holder: ChildProcess): void {
  holder.unref();
  for (const stream of [holder.stdin, holder.stdout, holder.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
}

async function release(holder: ChildProcess): Promise<void> {
  if (holder.exitCode !== null || holder.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => holder.once('exit', () => resolve()));
  // Held again while it lets go, so the wait itself keeps the process alive.
  holder.ref();
  holder.stdin!.end();
  await exited;
}

// One owner per data folder: an exclusive OS file lock (flock(2) on <data-dir>/daemon.lock) held
// for the daemon's whole life, taken before the store is opened or any process is touched. Node
// has no flock of its own, so util-linux's `flock` holds it on the daemon's behalf: it takes the
// lock, says so, and holds it until its standard input closes, which the kernel does when the
// daemon exits however it exits (kill -9 included). So a dead owner's lock is free again within
// milliseconds (a start that finds it still held, with no live owner named, asks again), and
// nothing stale is ever taken over by guesswork. The owner's pid, host and start time are written
// in the lock file, for the message a second daemon gives.
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
// How long a start keeps asking for a lock that no live daemon owns (see below), in tries 25 ms apart.
const LOCK_TRIES = 80;
const LOCK_RETRY_MS = 25;

export async function lockDataFolder(folder: string, nowIso: () => string): Promise<FolderLock> {
  const path = join(folder, 'daemon.lock');
  for (let tries = 1; ; tries++) {
    const holder = await takeLock(path, folder);
    if (holder !== null) {
      const owner: FolderOwner = { pid: process.pid, host: hostname(), startedAt: nowIso() };
      await writeFile(path, `${JSON.stringify(owner)}\n`);
      await chmod(path, PRIVATE_FILE);
      // The daemon's own event loop need not wait on the holder: its exit frees the lock anyway.
      unrefHolder(holder);
      return { path, owner, release: () => release(holder) };
    }
    const owner = await readOwner(path);
    if (owner && (owner.host !== hostname() || processAlive(owner.pid))) throw new FolderLockedError(folder, owner);
    // Held, and no live owner named: a daemon starting this moment (it writes its note just after
    // the lock), or one that has just died, whose holder lets go once it sees its input close (a
    // restart right after a crash asks within those milliseconds). Asked again until one of them
    // shows.
    if (tries >= LOCK_TRIES) throw new FolderLockedError(folder, null);
    await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
  }
}

/** The lock's holder once it has the lock; null while another holds it. */
async function takeLock(path: string, folder: string): Promise<ChildProcess | null> {
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
  if (outcome === 'locked') return holder;
  if (outcome.code === HELD_ELSEWHERE) return null;
  const why = outcome.error && (outcome.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'the flock command (util-linux) is not installed' : outcome.error?.message ?? outcome.stderr.trim();
  throw new Error(`could not lock the data folder ${folder}: ${why}`);
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

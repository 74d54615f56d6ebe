// Where a program is, as execvp finds it: a name with a slash is a path (from the job's folder),
// any other is looked for in each folder of PATH in turn. Asked at a submission (is it there?),
// for a start's terminal choice and by the start itself: three lookups of a dozen `stat` calls
// each on a long PATH, for every job of a burst of short ones running the same few programs.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

// A program found this recently is taken as still there. One removed meanwhile fails its start as
// it would have a moment later; one not found is looked for again at every ask (just installed).
const FOUND_FRESH_MS = 1000;
// Lookups remembered at once, at most: a daemon's jobs run a handful of programs.
const MAX_REMEMBERED = 256;

const found = new Map<string, { path: string; atMs: number }>();

/** Where the program would be found, or null. */
export function findProgram(program: string, cwd: string, searchPath: string, nowMs = performance.now()): string | null {
  const key = `${program}\0${cwd}\0${searchPath}`;
  const known = found.get(key);
  if (known !== undefined && nowMs - known.atMs < FOUND_FRESH_MS) return known.path;
  const path = lookUp(program, cwd, searchPath);
  if (path === null) found.delete(key);
  else {
    if (found.size >= MAX_REMEMBERED) found.clear();
    found.set(key, { path, atMs: nowMs });
  }
  return path;
}

function lookUp(program: string, cwd: string, searchPath: string): string | null {
  if (program.includes('/')) {
    const full = resolve(cwd, program);
    return isExecutable(full) ? full : null;
  }
  for (const folder of searchPath.split(delimiter).filter(Boolean)) {
    const candidate = join(folder, program);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

function isExecutable(path: string): boolean {
  // A name that is not there is told without an exception (each costs a stack trace).
  try {
    if (!statSync(path, { throwIfNoEntry: false })?.isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

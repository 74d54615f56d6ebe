// Where a program is, as execvp finds it: a name with a slash is a path (from the job's folder),
// any other is looked for in each folder of PATH in turn. Asked at a submission (is it there?),
// for a start's terminal choice and by the start itself: three lookups of a dozen `stat` calls
// each on a long PATH, for every job of a burst of short ones running the same few programs.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { RecentAnswers } from './recent-answers.js';

// A program found this recently is taken as still there. One removed meanwhile fails its start as
// it would have a moment later; one not found is looked for again at every ask (just installed).
// At most 256 kept: a daemon's jobs run a handful of programs.
const found = new RecentAnswers<string>(1000, 256);

/** Where the program would be found, or null. */
export function findProgram(program: string, cwd: string, searchPath: string, nowMs = performance.now()): string | null {
  const key = `${program}\0${cwd}\0${searchPath}`;
  const known = found.get(key, nowMs);
  if (known !== undefined) return known;
  const path = lookUp(program, cwd, searchPath);
  if (path === null) found.delete(key);
  else found.set(key, path, nowMs);
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

// What a program file is, from its first bytes: a compiled executable (ELF), a script (`#!`), or
// neither/not found. Asked at every run's start, for the terminal choice (terminal-choice.ts), and
// remembered as briefly as the lookup that found the file (find-program.ts): a burst of short jobs
// runs the same few programs, and each ask is an open, a read and a close.
import { closeSync, openSync, readSync } from 'node:fs';
import { findProgram } from './find-program.js';
import { RecentAnswers } from './recent-answers.js';
import type { ProgramKind } from './terminal-choice.js';

const ELF = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

const kinds = new RecentAnswers<ProgramKind>(1000, 256);

export function programKind(program: string, cwd: string, searchPath: string, nowMs = performance.now()): ProgramKind {
  const path = findProgram(program, cwd, searchPath, nowMs);
  if (path === null) return 'unknown';
  const known = kinds.get(path, nowMs);
  if (known !== undefined) return known;
  const kind = readKind(path);
  kinds.set(path, kind, nowMs);
  return kind;
}

function readKind(path: string): ProgramKind {
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(4);
    const read = readSync(fd, head, 0, 4, 0);
    if (read === 4 && head.equals(ELF)) return 'binary';
    return read >= 2 && head[0] === 0x23 && head[1] === 0x21 ? 'script' : 'unknown';
  } catch {
    return 'unknown';
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

// What a program file is, from its first bytes: a compiled executable (ELF), a script (`#!`), or
// neither/not found. Read once per run start, for the terminal choice (terminal-choice.ts).
import { closeSync, openSync, readSync } from 'node:fs';
import { findProgram } from './find-program.js';
import type { ProgramKind } from './terminal-choice.js';

const ELF = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

export function programKind(program: string, cwd: string, searchPath: string): ProgramKind {
  const path = findProgram(program, cwd, searchPath);
  if (path === null) return 'unknown';
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

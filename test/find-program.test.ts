// Finding a program as execvp does, on real folders: the first PATH folder that has it wins, a
// file that is not executable is none, and a program found, and what kind of file it is, are
// remembered only briefly.
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findProgram } from '../src/runner/find-program.js';
import { programKind } from '../src/runner/program-kind.js';
import { tempDir } from './helpers/temp.js';

function program(path: string, mode = 0o755): void {
  writeFileSync(path, '#!/bin/sh\nexit 0\n');
  chmodSync(path, mode);
}

test('the first folder on PATH that holds an executable file of the name wins; a path with a slash is taken from the folder', () => {
  const dir = tempDir();
  try {
    const [first, second, plain] = ['first', 'second', 'plain'].map((name) => join(dir.path, name));
    for (const folder of [first!, second!, plain!]) mkdirSync(folder);
    program(join(plain!, 'render'), 0o644);
    program(join(second!, 'render'));
    program(join(first!, 'other'));
    const searchPath = [plain, first, second].join(':');
    assert.is(findProgram('render', '/', searchPath), join(second!, 'render'), 'a file that is not executable is passed over');
    assert.is(findProgram('./second/render', dir.path, ''), join(second!, 'render'));
    assert.is(findProgram('missing', '/', searchPath), null);
    // Installed a moment after it was missed: found at once (a miss is never remembered).
    program(join(first!, 'missing'));
    assert.is(findProgram('missing', '/', searchPath), join(first!, 'missing'));
  } finally {
    dir.remove();
  }
});

test('a program found is remembered for a second: removed, it is looked for again after that', () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, 'tool');
    program(path);
    const at = 1_000_000;
    assert.is(findProgram('tool', '/', dir.path, at), path);
    rmSync(path);
    assert.is(findProgram('tool', '/', dir.path, at + 500), path, 'within the second: remembered');
    assert.is(findProgram('tool', '/', dir.path, at + 1000), null, 'past it: looked for again');
    // Another PATH is another question.
    program(path);
    assert.is(findProgram('tool', '/', `/nonexistent:${dir.path}`, at + 1000), path);
  } finally {
    dir.remove();
  }
});

test("a program's kind is read from its first bytes and remembered for a second: replaced, it is read again after that", () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, 'render');
    program(path);
    const at = 2_000_000;
    assert.is(programKind('render', '/', dir.path, at), 'script');
    writeFileSync(path, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]));
    assert.is(programKind('render', '/', dir.path, at + 500), 'script', 'within the second: remembered');
    assert.is(programKind('render', '/', dir.path, at + 1000), 'binary', 'past it: read again');
    writeFileSync(path, 'no shebang\n');
    assert.is(programKind('render', '/', dir.path, at + 2000), 'unknown');
    assert.is(programKind('missing', '/', dir.path, at + 2000), 'unknown');
  } finally {
    dir.remove();
  }
});

test.run();

// Jobs on plain pipes for real: real processes, their two streams, their exit, their group; and
// which jobs `auto` runs on pipes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { firstValueFrom, toArray } from 'rxjs';
import { startEncoder } from '../src/runner/encoder-run.js';
import { type Launch, launchWithChildProcess, launchWithPosixSpawnIfBuilt, launchedBy } from '../src/runner/launch.js';
import { pipesSpawner } from '../src/runner/pipes.js';
import { programKind } from '../src/runner/program-kind.js';
import { programOf, usesTerminal } from '../src/runner/terminal-choice.js';
import { aJob } from './helpers/jobs.js';
import { tempDir } from './helpers/temp.js';
import { groupAlive, until } from './helpers/wait.js';

const PATH = process.env['PATH'] ?? '/usr/bin:/bin';

// Each launcher held to the same contract: posix_spawn (where the addon was built, as npm ci builds
// it here) and child_process.spawn.
const launchers: [string, Launch][] = [['child_process', launchWithChildProcess]];
if (launchWithPosixSpawnIfBuilt) launchers.push(['posix_spawn', launchWithPosixSpawnIfBuilt]);

test('npm ci built the posix_spawn launcher, and jobs on pipes start through it', () => {
  assert.is(launchedBy, 'posix_spawn');
});

test('posix_spawn: stdout and stderr share one pipe, so lines written in turn to each arrive in the order written', async () => {
  const options = { spawn: pipesSpawner(launchWithPosixSpawnIfBuilt!), graceMs: 1000, baseEnv: { PATH }, tag: 'test/pipes/order' };
  const script = 'i=0; while [ $i -lt 300 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done';
  const run = startEncoder(aJob('p0', { command: [script], shell: true, terminal: 'pipes' }), options);
  const chunks = firstValueFrom(run.chunks.pipe(toArray()));
  assert.equal(await run.exited, { exitCode: 0, signal: null });
  const expected = Array.from({ length: 300 }, (_, i) => `out ${i}\nerr ${i}\n`).join('');
  assert.is((await chunks).join(''), expected);
});

for (const [name, launch] of launchers) {
  const options = { spawn: pipesSpawner(launch), graceMs: 1000, baseEnv: { PATH }, tag: 'test/pipes/1' };

  test(`${name}: a job on pipes gets both its streams, whole characters across reads, and its exit code`, async () => {
    const script = "printf 'to stdout\\n'; printf 'to stderr\\n' >&2; printf '\\342\\226'; sleep 0.1; printf '\\210 done\\n'; exit 3";
    const run = startEncoder(aJob('p1', { command: [script], shell: true, terminal: 'pipes' }), options);
    const chunks = firstValueFrom(run.chunks.pipe(toArray()));
    assert.equal(await run.exited, { exitCode: 3, signal: null });
    const text = (await chunks).join('');
    assert.match(text, 'to stdout');
    assert.match(text, 'to stderr');
    assert.match(text, '█ done', 'a character split between two writes arrives whole');
  });

  test(`${name}: a job on pipes is a process group of its own, ended as one`, async () => {
    const run = startEncoder(aJob('p2', { command: ["trap '' TERM; echo ready; sleep 60 & sleep 60"], shell: true, terminal: 'pipes' }), options);
    let printed = '';
    run.chunks.subscribe((chunk) => (printed += chunk));
    await until(() => printed.includes('ready'), 'the shell to start');
    assert.ok(groupAlive(run.pid));
    await run.terminate('cancel');
    assert.is((await run.exited).signal, 'SIGKILL');
    assert.is(groupAlive(run.pid), false);
  });

  test(`${name}: a job on pipes whose leader exits while a background child holds the pipes still ends`, async () => {
    const run = startEncoder(aJob('p3', { command: ['(sleep 30 &) ; echo left-one-behind'], shell: true, terminal: 'pipes' }), options);
    const chunks = firstValueFrom(run.chunks.pipe(toArray()));
    assert.equal(await run.settled, { exitCode: 0, signal: null });
    assert.match((await chunks).join(''), 'left-one-behind');
  });

  test(`${name}: a program that cannot be started is an error at the start, naming it`, () => {
    assert.throws(() => startEncoder(aJob('p4', { command: ['/no/such/tool'], terminal: 'pipes' }), options), /cannot run \/no\/such\/tool/);
    assert.throws(() => startEncoder(aJob('p4b', { command: ['no-such-tool-on-path'], terminal: 'pipes' }), options), /cannot run no-such-tool-on-path/);
    assert.throws(() => startEncoder(aJob('p4c', { command: ['true'], terminal: 'pipes', cwd: '/no/such/folder' }), options), /cannot run true: its folder \/no\/such\/folder does not exist/);
  });

  test(`${name}: a script with no #! line runs through /bin/sh, as execvp runs it, with its arguments`, async () => {
    const dir = tempDir();
    try {
      writeFileSync(join(dir.path, 'render.sh'), 'echo "rendered $1 without a shebang"\n', { mode: 0o755 });
      const run = startEncoder(aJob('p6', { command: ['./render.sh', 'frame-7'], cwd: dir.path, terminal: 'pipes' }), options);
      const chunks = firstValueFrom(run.chunks.pipe(toArray()));
      assert.equal(await run.exited, { exitCode: 0, signal: null });
      assert.match((await chunks).join(''), 'rendered frame-7 without a shebang');
    } finally {
      dir.remove();
    }
  });

  test(`${name}: the job's folder, environment and PATH; stdin empty; every signal at its default; no descriptor of the daemon's`, async () => {
    const dir = tempDir().path;
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'only-here'), '#!/bin/sh\necho found-on-the-jobs-path\n', { mode: 0o755 });
    // The daemon ignores SIGPIPE (Node does): a child must not inherit that, nor any blocked signal.
    const check = 'pwd; echo "var=$JOB_VAR"; only-here; cat; grep -E "^(SigIgn|SigBlk)" /proc/self/status; ls /proc/self/fd | tr "\\n" " "';
    const run = startEncoder(aJob('p5', { command: [check], shell: true, terminal: 'pipes', cwd: dir, env: { JOB_VAR: 'from the job', PATH: `${bin}:${PATH}` } }), options);
    const chunks = firstValueFrom(run.chunks.pipe(toArray()));
    assert.equal(await run.exited, { exitCode: 0, signal: null });
    const text = (await chunks).join('');
    assert.match(text, `${dir}\n`);
    assert.match(text, 'var=from the job');
    assert.match(text, 'found-on-the-jobs-path');
    // Signals 32 and 33 are glibc's own (threads), which posix_spawn leaves as they are.
    const glibcOwn = (1n << 31n) | (1n << 32n);
    const signalSet = (field: string) => BigInt(`0x${new RegExp(`${field}:\\s+([0-9a-f]+)`).exec(text)![1]}`) & ~glibcOwn;
    assert.is(signalSet('SigIgn'), 0n, 'no signal ignored');
    assert.is(signalSet('SigBlk'), 0n, 'no signal blocked');
    // Of the daemon's descriptors only those it made close-on-exec stay behind with child_process
    // (node-pty's terminals are not): posix_spawn closes all but 0, 1 and 2. ls itself holds one
    // more, its listing of /proc/self/fd.
    if (name === 'posix_spawn') assert.is(text.trim().split('\n').at(-1)!.trim().split(' ').length, 4, `descriptors: ${text.trim().split('\n').at(-1)}`);
  });

  test(`${name}: a program killed by a signal reports the signal's name`, async () => {
    const run = startEncoder(aJob('p6', { command: ['kill -USR1 $$'], shell: true, terminal: 'pipes' }), options);
    assert.equal(await run.exited, { exitCode: null, signal: 'SIGUSR1' });
  });
}

test('auto: a terminal for encoders, interpreters, shells and scripts; pipes for other compiled programs', () => {
  const kinds = (program: string) => programKind(program, '/', PATH);
  const terminal = (command: string[], shell = false) => usesTerminal({ terminal: 'auto', command, shell }, kinds);
  assert.ok(terminal(['ffmpeg', '-i', 'a.mp4', 'b.mp4']));
  assert.ok(terminal(['/opt/ffmpeg-7/bin/ffmpeg', '-i', 'a']));
  assert.ok(terminal(['nice', '-n', '10', 'x265', '--input', 'a.y4m']), 'past a wrapper and its options');
  assert.ok(terminal(['python3', 'render.py']));
  assert.ok(terminal(['./render.sh']), 'a script runs whatever it holds');
  assert.ok(terminal(['sh', '-c', 'true']));
  assert.ok(terminal(['cd /tmp && ffmpeg -i a b'], true));
  assert.ok(terminal(['for f in *.mov; do ./convert.sh "$f"; done'], true));
  assert.not.ok(terminal(['true']), 'a compiled program no list names');
  assert.not.ok(terminal(['env', 'LC_ALL=C', 'true']));
  assert.not.ok(terminal(['cp a.mp4 b.mp4 && mv b.mp4 c.mp4'], true));
  assert.ok(terminal(['/no/such/program']), 'what cannot be looked at keeps the terminal');
  assert.ok(usesTerminal({ terminal: 'pty', command: ['true'], shell: false }, kinds));
  assert.not.ok(usesTerminal({ terminal: 'pipes', command: ['ffmpeg'], shell: false }, kinds));
  assert.is(programOf(['timeout', '30', 'nice', 'gifski', 'a.png']), 'gifski');
  assert.is(kinds('true'), 'binary');
});

test.run();

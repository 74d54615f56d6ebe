// Jobs on plain pipes for real: real processes, their two streams, their exit, their group; and
// which jobs `auto` runs on pipes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { firstValueFrom, toArray } from 'rxjs';
import { startEncoder } from '../src/runner/encoder-run.js';
import { spawnPipes } from '../src/runner/pipes.js';
import { programKind } from '../src/runner/program-kind.js';
import { programOf, usesTerminal } from '../src/runner/terminal-choice.js';
import { aJob } from './helpers/jobs.js';
import { groupAlive, until } from './helpers/wait.js';

const PATH = process.env['PATH'] ?? '/usr/bin:/bin';
const options = { spawn: spawnPipes, graceMs: 1000, baseEnv: { PATH }, tag: 'test/pipes/1' };

test('a job on pipes gets both its streams, whole characters across reads, and its exit code', async () => {
  const script = "printf 'to stdout\\n'; printf 'to stderr\\n' >&2; printf '\\342\\226'; sleep 0.1; printf '\\210 done\\n'; exit 3";
  const run = startEncoder(aJob('p1', { command: [script], shell: true, terminal: 'pipes' }), options);
  const chunks = firstValueFrom(run.chunks.pipe(toArray()));
  assert.equal(await run.exited, { exitCode: 3, signal: null });
  const text = (await chunks).join('');
  assert.match(text, 'to stdout');
  assert.match(text, 'to stderr');
  assert.match(text, '█ done', 'a character split between two writes arrives whole');
});

test('a job on pipes is a process group of its own, ended as one', async () => {
  const run = startEncoder(aJob('p2', { command: ["trap '' TERM; echo ready; sleep 60 & sleep 60"], shell: true, terminal: 'pipes' }), options);
  let printed = '';
  run.chunks.subscribe((chunk) => (printed += chunk));
  await until(() => printed.includes('ready'), 'the shell to start');
  assert.ok(groupAlive(run.pid));
  await run.terminate('cancel');
  assert.is((await run.exited).signal, 'SIGKILL');
  assert.is(groupAlive(run.pid), false);
});

test('a job on pipes whose leader exits while a background child holds the pipes still ends', async () => {
  const run = startEncoder(aJob('p3', { command: ['(sleep 30 &) ; echo left-one-behind'], shell: true, terminal: 'pipes' }), options);
  const chunks = firstValueFrom(run.chunks.pipe(toArray()));
  assert.equal(await run.settled, { exitCode: 0, signal: null });
  assert.match((await chunks).join(''), 'left-one-behind');
});

test('a program that cannot be started is an error at the start, naming it', () => {
  assert.throws(() => startEncoder(aJob('p4', { command: ['/no/such/tool'], terminal: 'pipes' }), options), /cannot run \/no\/such\/tool/);
});

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

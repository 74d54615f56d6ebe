// The pty runner for real: encoders under a real terminal, real process groups, real signals.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { firstValueFrom, toArray } from 'rxjs';
import { gatherReads, startEncoder } from '../src/runner/encoder-run.js';
import { nativeProcesses } from '../src/runner/native.js';
import { READ_GAP_MS, waitsBeforeNextRead } from '../src/runner/paced-reads.js';
import { spawnPty } from '../src/runner/pty.js';
import { aJob } from './helpers/jobs.js';
import { encodeCommand } from './helpers/media.js';
import { tempDir } from './helpers/temp.js';
import { until, groupAlive } from './helpers/wait.js';

const options = { spawn: spawnPty, graceMs: 1000, baseEnv: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, tag: 'test/runner/1' };

test('ffmpeg under a pty prints its live stats with carriage returns, and exits 0', async () => {
  const dir = tempDir();
  try {
    const run = startEncoder(aJob('r1', { command: encodeCommand(join(dir.path, 'o.mp4'), { seconds: 1 }), cwd: dir.path }), options);
    const chunks = firstValueFrom(run.chunks.pipe(toArray()));
    const exit = await run.exited;
    assert.equal(exit, { exitCode: 0, signal: null });
    const text = (await chunks).join('');
    assert.match(text, /frame=\s*24 fps=/);
    assert.match(text, /\r/);
  } finally {
    dir.remove();
  }
});

test('the job environment reaches the encoder, and a shell job runs through /bin/sh', async () => {
  const run = startEncoder(aJob('r2', { command: ['echo', '$ENCSUP_TEST_VALUE', '&&', 'exit', '4'], shell: true, env: { ENCSUP_TEST_VALUE: 'from-the-job' } }), options);
  const chunks = firstValueFrom(run.chunks.pipe(toArray()));
  assert.equal(await run.exited, { exitCode: 4, signal: null });
  assert.match((await chunks).join(''), 'from-the-job');
});

test("a job under a terminal holds no other job's terminal", async () => {
  const first = startEncoder(aJob('r2a', { command: ['echo holding; sleep 30'], shell: true }), options);
  let printed = '';
  first.chunks.subscribe((chunk) => (printed += chunk));
  await until(() => printed.includes('holding'), 'the first job to start');
  const second = startEncoder(aJob('r2b', { command: ['ls -l /proc/self/fd'], shell: true }), options);
  const chunks = firstValueFrom(second.chunks.pipe(toArray()));
  assert.equal(await second.exited, { exitCode: 0, signal: null });
  await first.terminate('cancel');
  // A terminal's master is /dev/ptmx; the job's own side is a /dev/pts/N.
  assert.not.match((await chunks).join(''), '/dev/ptmx');
});

test('terminate ends the whole process group, KILLing what ignores TERM after the grace period', async () => {
  // A shell that ignores TERM and starts a child that ignores it too.
  const run = startEncoder(aJob('r3', { command: ["trap '' TERM; sh -c \"trap '' TERM; echo both-traps-set; sleep 60\" & sleep 60"], shell: true }), options);
  let printed = '';
  run.chunks.subscribe((chunk) => (printed += chunk));
  await until(() => printed.includes('both-traps-set'), 'both shells to ignore TERM');
  assert.ok(groupAlive(run.pid));
  const started = Date.now();
  await run.terminate('cancel');
  const exit = await run.exited;
  assert.is(exit.signal, 'SIGKILL');
  assert.ok(Date.now() - started >= 900, 'waited the grace period before KILL');
  assert.is(groupAlive(run.pid), false);
  assert.is(run.terminationReason, 'cancel');
});

test('all a program prints is delivered before its exit is told, a burst just before it exits too', async () => {
  // Linux drops what a terminal still holds when the program's side closes; a burst at the end
  // lost its last kilobytes in about a third of these runs before the daemon held that side.
  for (let run = 0; run < 30; run++) {
    const encoder = startEncoder(aJob(`r5-${run}`, { command: ['seq 1 3000; printf END-OF-OUTPUT'], shell: true }), options);
    const chunks = firstValueFrom(encoder.chunks.pipe(toArray()));
    assert.equal(await encoder.exited, { exitCode: 0, signal: null });
    const text = (await chunks).join('');
    assert.ok(text.endsWith('END-OF-OUTPUT'), `run ${run} ends with: ${JSON.stringify(text.slice(-40))}`);
    assert.is(text.split('\r\n').length, 3001, `run ${run}: every line`);
    assert.not.match(text, 'encsup-end', 'the end mark is never output');
  }
});

test('a program printing in many small writes is passed on in a few pieces, in order and whole, all before its exit', async () => {
  // 100 writes a millisecond or more apart: one read each, were each passed on by itself.
  const script = 'import sys, time\nfor i in range(100):\n    sys.stdout.write(f"step {i}\\r")\n    sys.stdout.flush()\n    time.sleep(0.002)\nsys.stdout.write("END")\n';
  const encoder = startEncoder(aJob('r-gather', { command: ['python3', '-c', script] }), options);
  const chunks = firstValueFrom(encoder.chunks.pipe(toArray()));
  assert.equal(await encoder.exited, { exitCode: 0, signal: null });
  const pieces = await chunks;
  assert.is(pieces.join(''), `${Array.from({ length: 100 }, (_, i) => `step ${i}\r`).join('')}END`);
  assert.ok(pieces.length <= 25, `${pieces.length} pieces for 100 writes over at least 200 ms`);
});

test('a terminal written to in many small pieces is read a few times, not once a write, and wholly', async () => {
  // 200 writes 2 ms or more apart: each its own read, were the terminal read as it comes.
  const script = 'import sys, time\nfor i in range(200):\n    sys.stdout.write(f"step {i}\\r")\n    sys.stdout.flush()\n    time.sleep(0.002)\nsys.stdout.write("END")\n';
  const started = performance.now();
  const child = spawnPty('python3', ['-c', script], { cwd: process.cwd(), env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } });
  const reads: string[] = [];
  child.onData((text) => reads.push(text));
  const exit = await new Promise((resolve) => child.onExit(resolve));
  const elapsedMs = performance.now() - started;
  assert.equal(exit, { exitCode: 0, signal: null });
  assert.is(reads.join(''), `${Array.from({ length: 200 }, (_, i) => `step ${i}\r`).join('')}END`);
  // A second small read within READ_GAP_MS stops the reading until the gap is over; the exit's last reads come as they come.
  const most = 2 * Math.ceil(elapsedMs / READ_GAP_MS) + 4;
  assert.ok(reads.length <= most, `${reads.length} reads in ${Math.round(elapsedMs)} ms, at most ${most}`);
});

test('reading waits only after a small read that came soon after the one before', () => {
  assert.ok(waitsBeforeNextRead(5, 100));
  assert.not.ok(waitsBeforeNextRead(READ_GAP_MS, 100), 'a read after a quiet spell: reading goes on');
  assert.not.ok(waitsBeforeNextRead(5, 4095), 'a terminal handing over all it can: the writer must not be held up');
});

test('gathered reads: a read after a quiet spell passes at once; those soon after it are held until the time is up, passed at once past 64 KB held, and on demand', async () => {
  const passed: string[] = [];
  let clock = 1000;
  const gathered = gatherReads((text) => passed.push(text), 30, () => clock);
  gathered.add('a');
  assert.equal(passed, ['a'], 'after a quiet spell: at once');
  clock += 10;
  gathered.add('b');
  gathered.add('c');
  assert.equal(passed, ['a'], 'held while the time since the last piece runs');
  clock += 20;
  await until(() => passed.length === 2, 'the gathered reads to pass', 2000);
  assert.equal(passed, ['a', 'bc']);
  clock += 5;
  gathered.add('d');
  gathered.add('x'.repeat(64 * 1024));
  assert.equal(passed, ['a', 'bc', `d${'x'.repeat(64 * 1024)}`], 'a burst passes at once');
  clock += 1;
  gathered.add('e');
  gathered.pass();
  assert.equal(passed.at(-1), 'e');
  gathered.pass();
  assert.is(passed.length, 4, 'nothing held, nothing passed');
  clock += 30;
  gathered.add('f');
  assert.equal(passed.at(-1), 'f', 'a quiet spell again: at once');
});

test('a background process that keeps the terminal open does not hold back the exit', async () => {
  const encoder = startEncoder(aJob('r6', { command: ['(sleep 30; echo late) & echo early'], shell: true }), options);
  const chunks = firstValueFrom(encoder.chunks.pipe(toArray()));
  assert.equal(await encoder.exited, { exitCode: 0, signal: null });
  assert.match((await chunks).join(''), 'early');
  assert.ok(groupAlive(encoder.pid), 'told while the background process still holds the terminal');
  await encoder.settled;
  assert.is(groupAlive(encoder.pid), false, 'and it is ended with the run');
});

test('a program that does not exist is refused at its start, naming it (node-pty: it ends with exit code 1 and says so)', async () => {
  if (nativeProcesses) {
    assert.throws(() => startEncoder(aJob('r4', { command: ['/no/such/encoder', '-x'] }), options), /cannot run \/no\/such\/encoder: not found/);
    return;
  }
  const run = startEncoder(aJob('r4', { command: ['/no/such/encoder', '-x'] }), options);
  const chunks = firstValueFrom(run.chunks.pipe(toArray()));
  assert.equal(await run.exited, { exitCode: 1, signal: null });
  assert.match((await chunks).join(''), 'No such file or directory');
});

test('a script with no #! line runs in the terminal through /bin/sh, as execvp runs it', async () => {
  const dir = tempDir();
  try {
    writeFileSync(join(dir.path, 'render.sh'), 'echo "rendered $1 without a shebang"\n', { mode: 0o755 });
    const run = startEncoder(aJob('r6', { command: ['./render.sh', 'frame-7'], cwd: dir.path }), options);
    const chunks = firstValueFrom(run.chunks.pipe(toArray()));
    assert.equal(await run.exited, { exitCode: 0, signal: null });
    assert.match((await chunks).join(''), 'rendered frame-7 without a shebang');
  } finally {
    dir.remove();
  }
});

test('the terminal is the encoder\'s controlling terminal, 160 columns by 40 rows, and it inherits no other descriptor', async () => {
  const script = "stty size; (: < /dev/tty) && echo has-a-controlling-terminal; echo fds; ls /proc/$$/fd | tr '\\n' ' '";
  const run = startEncoder(aJob('r5', { command: ['/bin/sh', '-c', script] }), options);
  const chunks = firstValueFrom(run.chunks.pipe(toArray()));
  assert.equal(await run.exited, { exitCode: 0, signal: null });
  const text = (await chunks).join('');
  assert.match(text, '40 160');
  assert.match(text, 'has-a-controlling-terminal');
  // The shell's own three; ls's listing of its parent's folder shows no descriptor of the daemon's.
  assert.match(text, /fds\r?\n0 1 2 $/, JSON.stringify(text));
});

test.run();

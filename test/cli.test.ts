// The encsup command: in-process against a real daemon, and the real executable for `daemon`.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli } from '../src/cli/main.js';
import { daemonUrlFromLog } from './helpers/daemon-process.js';
import { cli, cliUntilStopped } from './helpers/cli.js';
import { startTestDaemon, withTestDaemon, waitForStatus } from './helpers/daemon.js';
import { encodeCommand } from './helpers/media.js';
import { tempDir } from './helpers/temp.js';
import { groupAlive, until } from './helpers/wait.js';

test('submit, list, show and logs work against a running daemon', async () => {
  await withTestDaemon({}, async ({ url, api, dir }) => {
    const output = join(dir.path, 'cli.mp4');
    const submitted = await cli(['--url', url, '--data-dir', dir.path, 'submit', '--name', 'from the cli', '--priority', 'high', '--total-frames', '24', '--output', output, '--', ...encodeCommand(output, { seconds: 1 })]);
    assert.is(submitted.code, 0, submitted.stderr);
    const id = submitted.stdout.trim();
    assert.match(id, /^[0-9a-f]{12}$/);
    await waitForStatus(api, id, ['done']);
    const listed = await cli(['list'], { ENCSUP_URL: url, ENCSUP_DATA_DIR: dir.path });
    assert.match(listed.stdout, new RegExp(`${id}\\s+done\\s+100.0%`));
    const shown = await cli(['--url', url, '--data-dir', dir.path, 'show', id, '--json']);
    const job = JSON.parse(shown.stdout) as { priority: number; name: string; output: string };
    assert.equal([job.priority, job.name, job.output], [10, 'from the cli', output]);
    assert.match((await cli(['--url', url, '--data-dir', dir.path, 'show', id])).stdout, /status\s+done/);
    const wholeLog = (await cli(['--url', url, '--data-dir', dir.path, 'logs', id])).stdout;
    assert.match(wholeLog, /frame=\s*24/);
    const logJson = JSON.parse((await cli(['--url', url, '--data-dir', dir.path, 'logs', id.slice(0, 6), '--json', '--tail', '3'])).stdout) as { jobId: string; text: string };
    assert.is(logJson.jobId, id, 'the whole id, from a prefix');
    assert.is(logJson.text, `${wholeLog.trimEnd().split('\n').slice(-3).join('\n')}\n`, 'its last three lines');
    const config = await cli(['--url', url, '--data-dir', dir.path, 'settings', '--max-concurrent', '5']);
    assert.is(JSON.parse(config.stdout).maxConcurrent, 5);
    const oldName = await cli(['--url', url, '--data-dir', dir.path, 'config']);
    assert.is(JSON.parse(oldName.stdout).maxConcurrent, 5, '`encsup config` is the same command');
  });
});

test('names, commands and reasons reach the terminal with their control characters escaped', async () => {
  await withTestDaemon({}, async ({ url, api, dir }) => {
    // A title-setting sequence, a screen clear and a line that pretends to be another job.
    const name = 'render\u001b]2;owned\u0007\u001b[2J\nfeedbeef0000  done  100.0%';
    const submitted = await api.submit({ name, command: ['sh', '-c', 'printf "bad\\033[31m red\\n"; exit 4', 'x\u001b[1m'], maxAttempts: 1 });
    await waitForStatus(api, submitted.id, ['failed']);
    for (const args of [['list'], ['show', submitted.id]]) {
      const { stdout } = await cli(['--url', url, '--data-dir', dir.path, ...args]);
      assert.not.match(stdout, /[\u0000-\u0008\u000b-\u001f\u007f]/, `${args[0]}: no control character but line ends`);
      assert.match(stdout, 'render\\x1b]2;owned\\x07\\x1b[2J\\nfeedbeef0000', `${args[0]}: the name, escaped`);
    }
    const shown = (await cli(['--url', url, '--data-dir', dir.path, 'show', submitted.id])).stdout;
    assert.match(shown, 'last output:\nbad red', 'the last output, its colour codes already dropped as it was read');
    assert.is(JSON.parse((await cli(['--url', url, '--data-dir', dir.path, 'show', submitted.id, '--json'])).stdout).name, name, 'JSON keeps the name as it is');
  });
});

test('errors exit non-zero with a message a person understands', async () => {
  await withTestDaemon({}, async ({ url, dir }) => {
    const unknown = await cli(['--url', url, '--data-dir', dir.path, 'show', 'nosuchjob']);
    assert.is(unknown.code, 3);
    assert.match(unknown.stderr, 'no job with id nosuchjob');
    const badPriority = await cli(['--url', url, '--data-dir', dir.path, 'submit', '--priority', 'urgent', '--', 'true']);
    assert.is(badPriority.code, 1);
    assert.match(badPriority.stderr, 'priority');
    const badFlag = await cli(['--url', url, '--data-dir', dir.path, 'list', '--colour']);
    assert.is(badFlag.code, 2);
    assert.match(badFlag.stderr, "unknown option '--colour'");
    const badEnv = await cli(['--url', url, '--data-dir', dir.path, 'submit', '--env', 'NOEQUALS', '--', 'true']);
    assert.match(badEnv.stderr, '--env NOEQUALS: expected KEY=VALUE');
    // The daemon checks the fields; the CLI says which flag was wrong, as the user typed it.
    for (const [flag, value, field] of [['--timeout', '-5', 'timeoutSec'], ['--stall-timeout', 'soon', 'stallTimeoutSec'], ['--max-attempts', '0', 'maxAttempts'], ['--expected-duration', '-1', 'expectedDurationSeconds']] as const) {
      const bad = await cli(['--url', url, '--data-dir', dir.path, 'submit', flag, value, '--', 'true']);
      assert.is(bad.code, 1, `${flag} ${value}`);
      assert.match(bad.stderr, `${flag}: `);
      assert.not.match(bad.stderr, field);
    }
    const badSetting = await cli(['--url', url, '--data-dir', dir.path, 'settings', '--max-concurrent', 'lots']);
    assert.match(badSetting.stderr, '--max-concurrent: ');
    const badAge = await cli(['--url', url, '--data-dir', dir.path, 'clean', '--older-than', 'ages']);
    assert.match(badAge.stderr, '--older-than: ');
  });
  const down = await cli(['--url', 'http://127.0.0.1:9', 'list']);
  assert.is(down.code, 1);
  assert.match(down.stderr, 'cannot reach the encsup daemon at http://127.0.0.1:9');
  assert.match(down.stderr, 'encsup daemon');
});

test('encsup parse prints one JSON update per progress change of a raw log, from a file or stdin', async () => {
  const file = new URL('./fixtures/corpus/x264.pty.log', import.meta.url).pathname;
  const fromFile = await cli(['parse', file]);
  assert.is(fromFile.code, 0, fromFile.stderr);
  const updates = fromFile.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.ok(updates.length > 3);
  assert.equal(Object.keys(updates[0]!), ['percent', 'basis', 'pass', 'passes', 'frame', 'totalFrames', 'fps', 'bitrate', 'speed', 'timeSeconds', 'etaSeconds', 'step', 'totalSteps', 'format']);
  assert.equal([updates.at(-1)!['percent'], updates.at(-1)!['frame'], updates.at(-1)!['totalFrames']], [100, 240, 240]);
  let stdout = '';
  const code = await runCli(['parse', '--pattern', 'tile (?<current>\\d+)/(?<total>\\d+)', '-'], {
    stdout: (text) => (stdout += text),
    stderr: () => undefined,
    env: {},
    cwd: process.cwd(),
    stdin: () => (async function* () {
      yield 'tile 1/4\rtile 2/';
      yield '4\r\x1b[32mtile 4/4\x1b[0m\n';
    })(),
    stopSignal: () => new Promise(() => undefined),
  });
  assert.is(code, 0);
  assert.equal(stdout.trim().split('\n').map((line) => JSON.parse(line).percent), [25, 50, 100]);
  const missing = await cli(['parse', '/no/such.log']);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, 'cannot read /no/such.log');
  const badPattern = await cli(['parse', '--pattern', 'x(', file]);
  assert.match(badPattern.stderr, '--pattern: not a pattern the linear-time engine (RE2) accepts');
});

test('submit --wait follows the job to its end: exit 0 when done, 1 when it failed; watch prints plain lines off a terminal', async () => {
  await withTestDaemon({}, async ({ url, dir, daemon }) => {
    const output = join(dir.path, 'waited.mp4');
    const waited = await cli(['--url', url, '--data-dir', dir.path, 'submit', '--wait', '--total-frames', '48', '--output', output, '--', ...encodeCommand(output, { seconds: 2, realtime: true })]);
    assert.is(waited.code, 0, waited.stderr);
    const lines = waited.stderr.trim().split('\n');
    assert.ok(lines.length >= 3, `progress lines while it ran: ${waited.stderr}`);
    assert.match(lines.at(-1)!, / done$/);
    assert.match(waited.stderr, / encoding /);
    const failed = await cli(['--url', url, '--data-dir', dir.path, 'submit', '--wait', '--max-attempts', '1', '--', 'sh', '-c', 'exit 7']);
    assert.is(failed.code, 1);
    assert.match(failed.stderr, 'failed: sh exited with code 7');

    const watching = await cliUntilStopped(['--url', url, '--data-dir', dir.path, 'watch']);
    await until(() => daemon.eventStreams() > 0, 'watch to follow the event stream');
    const second = join(dir.path, 'watched.mp4');
    await cli(['--url', url, '--data-dir', dir.path, 'submit', '--wait', '--name', 'watched one', '--output', second, '--', ...encodeCommand(second, { seconds: 1 })]);
    await until(() => / done .*watched one/.test(watching.out.stdout), 'watch to print the job done', 10_000);
    watching.stop();
    assert.is(await watching.exited, 0);
    assert.match(watching.out.stdout, / queued .*watched one/);
  });
});

test('the daemon refuses an invalid setting at start, naming the variable', async () => {
  const result = await cli(['daemon', '--port', '0'], { VIDEO_PROCESSING_MAX_CONCURRENT: 'many' });
  assert.is(result.code, 1);
  assert.match(result.stderr, 'VIDEO_PROCESSING_MAX_CONCURRENT="many" is not valid');
});

test('encsup daemon on SIGTERM ends running encoders, requeues their jobs and exits 0', async () => {
  const dir = tempDir();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', 'daemon', '--port', '0', '--data-dir', dir.path, '--kill-grace', '2'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ENCSUP_LOG_LEVEL: 'info' },
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdout.on('data', (chunk) => (stdout += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const url = await until(() => daemonUrlFromLog(stdout), 'the daemon to listen');
    const output = join(dir.path, 'long.mp4');
    const submitted = await cli(['--url', url, '--data-dir', dir.path, 'submit', '--output', output, '--', ...encodeCommand(output, { seconds: 60, realtime: true })]);
    const id = submitted.stdout.trim();
    const pid = await until(async () => JSON.parse((await cli(['--url', url, '--data-dir', dir.path, 'show', id, '--json'])).stdout).pid as number | null, 'the encoder to start');
    child.kill('SIGTERM');
    assert.is(await exited, 0, stderr);
    assert.is(groupAlive(pid), false, 'the encoder is gone');
    const again = await startTestDaemon(dir.path, { maxConcurrent: 0 });
    try {
      const job = await again.api.get(id);
      assert.ok(job.status === 'queued' || job.status === 'encoding', `requeued, was ${job.status}`);
      assert.is(job.attempts >= 1, true);
      await again.api.cancel(id);
    } finally {
      await again.close();
    }
  } finally {
    child.kill('SIGKILL');
    dir.remove();
  }
});

test.run();

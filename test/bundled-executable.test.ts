// The bundled executable (scripts/bundle.mjs, what `npm run build` puts in dist/bin), bundled here
// from this checkout's sources and run as a user runs it: the daemon, a real encode, the CLI, the
// dashboard's files, and readable logs on a terminal.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as pty from 'node-pty';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiClient } from '../src/api/client.js';
import { readTokenFileSync } from '../src/api/token.js';
import { waitForStatus } from './helpers/daemon.js';
import { spawnDaemon } from './helpers/daemon-process.js';
import { encodeCommand } from './helpers/media.js';
import { tempDir } from './helpers/temp.js';
import { until } from './helpers/wait.js';

const ROOT = new URL('..', import.meta.url).pathname;
// Inside the package, as dist/bin is: the bundle finds the dashboard's files, its native part and
// its version by walking up from where it lies.
const OUT = join(ROOT, 'test', 'artifacts', 'bundle');
const BIN = join(OUT, 'encsup.js');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

test.before(() => {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs'), OUT], { stdio: ['ignore', 'ignore', 'inherit'] });
});

test('the bundled daemon runs a real encode to done, serves the dashboard, and its CLI lists the job', async () => {
  const dir = tempDir();
  const dataDir = join(dir.path, 'data');
  const daemon = await spawnDaemon(dataDir, [], {}, { executable: BIN });
  try {
    const started = daemon
      .stdout()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string; pipesLauncher?: string })
      .find((entry) => entry.msg === 'encsup daemon started');
    const nativeBuilt = existsSync(join(ROOT, 'build', 'Release', 'posix_spawn.node'));
    assert.is(started?.pipesLauncher, nativeBuilt ? 'posix_spawn' : 'child_process', 'the native launcher is found from dist/bin as from the sources');

    const token = readTokenFileSync(dataDir)!;
    const api = new ApiClient(daemon.url, token);
    const output = join(dir.path, 'bundled.mp4');
    const { id } = await api.submit({ command: encodeCommand(output, { seconds: 2 }), output });
    const job = await waitForStatus(api, id, ['done']);
    assert.is(job.progress, 100);
    assert.ok(existsSync(output));
    assert.match(await api.log(id), /frame=\s*48/, 'the encoder ran under a terminal and its output was read');

    const page = await fetch(`${daemon.url}/dashboard/app.js`);
    assert.is(page.status, 200, 'the dashboard files are found from the bundle');
    assert.match(await page.text(), /EventSource/);

    const listed = spawnSync(process.execPath, [BIN, 'list', '--url', daemon.url, '--data-dir', dataDir], { encoding: 'utf8' });
    assert.is(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`${id}\\s+done`));
    const version = spawnSync(process.execPath, [BIN, '--version'], { encoding: 'utf8' });
    assert.is(version.stdout.trim(), VERSION);
  } finally {
    daemon.child.kill('SIGTERM');
    await daemon.exited;
    dir.remove();
  }
});

test('on a terminal, the bundled daemon logs readable lines, and stops on ^C', async () => {
  const dir = tempDir();
  const terminal = pty.spawn(process.execPath, [BIN, 'daemon', '--port', '0', '--data-dir', join(dir.path, 'data')], { cols: 160, rows: 40, env: { ...process.env, ENCSUP_LOG_LEVEL: 'info' } as Record<string, string> });
  let screen = '';
  terminal.onData((text) => (screen += text));
  const exited = new Promise<number>((resolve) => terminal.onExit(({ exitCode }) => resolve(exitCode)));
  try {
    await until(() => /INFO.*encsup daemon started/.test(screen), 'the start line');
    assert.not.match(screen, /"level":/, 'not JSON');
    assert.match(screen, /url.*http:\/\/127\.0\.0\.1:\d+/);
    terminal.write('\x03');
    assert.is(await exited, 0);
    assert.match(screen, /stopping/);
  } finally {
    terminal.kill('SIGKILL');
    dir.remove();
  }
});

test.run();

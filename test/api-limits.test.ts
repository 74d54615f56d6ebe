// Sizes and rates a client can't push past: submission fields with limits named in the error,
// the event stream (serialized once, slow readers dropped, clients capped), reported outputs
// (only inside accepted folders, only once still), shell lines as one string.
import { appendFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Job } from '../machines/job-record.js';
import type { LifecycleEvent } from '../machines/lifecycle.js';
import { EventHub } from '../src/api/event-stream.js';
import { shellLine } from '../src/cli/commands/job-commands.js';
import { cli } from './helpers/cli.js';
import { aJob } from './helpers/jobs.js';
import { postRaw, waitForStatus, withTestDaemon } from './helpers/daemon.js';
import { tempDir } from './helpers/temp.js';
import { until } from './helpers/wait.js';

test('oversized or malformed fields get 400 naming the field and the limit', async () => {
  await withTestDaemon({}, async (daemon) => {
    const cases: [unknown, string, string][] = [
      [{ command: ['x'.repeat(70_000)] }, 'command', 'longer than 65536'],
      [{ command: Array.from({ length: 2000 }, () => 'a') }, 'command', 'at most 1024 arguments'],
      [{ command: ['true'], name: 'n'.repeat(300) }, 'name', 'at most 200'],
      [{ command: ['true'], env: { OK: 'v'.repeat(40_000) } }, 'env', 'longer than 32768'],
      [{ command: ['true'], env: { 'BAD NAME': 'v' } }, 'env', 'environment variable name'],
      [{ command: ['true'], env: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`V${i}`, 'x'])) }, 'env', 'at most 256 variables'],
      [{ command: ['true'], output: `/${'o'.repeat(5000)}` }, 'output', 'longer than 4096'],
      [{ command: ['true'], cwd: '/tmp\u0000x' }, 'cwd', 'NUL byte'],
      [{ command: ['true'], pattern: `(?<percent>\\d+)${'x'.repeat(2000)}` }, 'pattern', 'at most 1024'],
      [{ command: ['true'], timeoutSec: 1e12 }, 'timeoutSec', 'at most 2147483 seconds'],
      [{ command: ['echo', 'a'], shell: true }, 'command', 'one string, the shell line'],
      [{ command: 'echo a' }, 'command', 'needs shell: true'],
    ];
    for (const [body, field, words] of cases) {
      const answer = await postRaw(daemon, '/api/jobs', JSON.stringify(body));
      assert.is(answer.status, 400, JSON.stringify(body).slice(0, 80));
      assert.is(answer.json.field, field, answer.json.error);
      assert.match(answer.json.error, words);
    }
    const big = await postRaw(daemon, '/api/jobs', JSON.stringify({ command: ['true'], name: 'x'.repeat(2 * 1024 * 1024) }));
    assert.is(big.status, 413, 'a body over 1 MiB is refused before parsing');
    assert.equal(await daemon.api.list(), [], 'nothing was stored');
  });
});

test("a shell job is one string; the CLI's --shell quotes each argument when it joins several", async () => {
  assert.is(shellLine(['ffmpeg -i a.mp4 b.mp4 && echo ok']), 'ffmpeg -i a.mp4 b.mp4 && echo ok');
  assert.is(shellLine(['echo', 'a b', "it's", '$HOME']), "echo 'a b' 'it'\\''s' '$HOME'");
  await withTestDaemon({}, async ({ url, api, dir }) => {
    const run = await cli(['--url', url, '--data-dir', dir.path, 'submit', '--wait', '--shell', '--cwd', dir.path, '--', 'printf', '%s|', 'a b', "it's", '$HOME', '>', 'out.txt']);
    assert.is(run.code, 0, run.stderr);
    const [job] = await api.list();
    assert.equal(job!.command, ["printf '%s|' 'a b' 'it'\\''s' '$HOME' '>' out.txt"]);
    const line = await api.submit({ command: `printf '%s' "$0" > shell.txt`, shell: true, cwd: dir.path });
    assert.is((await waitForStatus(api, line.id, ['done', 'failed'])).status, 'done');
  });
});

test('the event stream serializes each event once (none with no client), drops a client that stops reading, and caps its clients', async () => {
  const listeners = new Set<(event: LifecycleEvent, job: Job | undefined) => void>();
  let serialized = 0;
  const job = aJob('e1');
  Object.defineProperty(job, 'toJSON', { value: () => ((serialized += 1), { ...job, toJSON: undefined }), enumerable: false });
  const jobs = new Map<string, Job>([['e1', job]]);
  const hub = new EventHub(
    { onLifecycle: (listener) => (listeners.add(listener), () => listeners.delete(listener)), onLive: () => () => undefined, onOutput: () => () => undefined },
    { maxClients: 3, maxBacklogBytes: 256 * 1024, keepaliveMs: 60_000 },
  );
  const announce = (jobId: string) => listeners.forEach((listener) => listener({ kind: 'done', jobId, at: '2026-01-01T00:00:00.000Z', elapsedSeconds: 1 }, jobs.get(jobId)));
  const server = createServer((request, response) => hub.serve(request, response, {}));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    announce('e1');
    assert.is(serialized, 0, 'no client, no serialization');
    const readers = await Promise.all([0, 1].map(async () => {
      const response = await fetch(`http://127.0.0.1:${port}/`);
      const reader = response.body!.getReader();
      await reader.read();
      return reader;
    }));
    // A client that never reads: its socket's buffers fill, then the hub's backlog.
    const stuck = connect(port, '127.0.0.1');
    stuck.pause();
    stuck.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    await until(() => hub.clients === 3, 'three clients');
    assert.is((await fetch(`http://127.0.0.1:${port}/`)).status, 503, 'a fourth is refused');
    announce('e1');
    assert.is(serialized, 1, 'one serialization for three clients');
    const reading = readers.map(async (reader) => {
      for (;;) if ((await reader.read()).done) return;
    });
    jobs.set('e2', aJob('e2', { name: 'x'.repeat(64 * 1024) }));
    for (let i = 0; i < 400 && hub.clients > 2; i++) {
      announce('e2');
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.is(hub.clients, 2, 'the client that stopped reading was dropped; the readers stay');
    const text = new TextDecoder().decode((await fetch(`http://127.0.0.1:${port}/`).then(async (response) => {
      const reader = response.body!.getReader();
      await reader.read();
      jobs.set('e3', aJob('e3', { env: { TOKEN: 'do-not-send' } }));
      announce('e3');
      let text = '';
      while (!text.includes('event: job')) text += new TextDecoder().decode((await reader.read()).value);
      return new TextEncoder().encode(text);
    }))!);
    assert.match(text, '"TOKEN":"***"', 'values are masked on the stream');
    stuck.destroy();
    hub.close();
    await Promise.all(reading);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test('a reported output counts only inside an accepted folder, symlinks resolved, and only once the daemon saw it still', async () => {
  const watched = tempDir();
  const outside = tempDir();
  try {
    await withTestDaemon({ watchDirs: watched.path, watchStabilitySec: 0.5 }, async (daemon) => {
      const report = (path: string) => postRaw(daemon, '/api/outputs', JSON.stringify({ path }));
      writeFileSync(join(outside.path, 'secret.mp4'), 'x');
      symlinkSync(outside.path, join(watched.path, 'link'));
      for (const path of [join(outside.path, 'secret.mp4'), join(watched.path, 'link', 'secret.mp4'), '/etc/passwd', join(watched.path, '..', '..', 'etc', 'passwd'), 'relative.mp4']) {
        const answer = await report(path);
        assert.is(answer.status, 400, path);
        assert.is(answer.json.field, 'path');
      }
      assert.is((await report(join(watched.path, 'missing.mp4'))).json.error.includes('does not exist'), true);
      // A file still being written when it is reported: finalized only after it stops growing.
      mkdirSync(join(watched.path, 'renders'));
      const growing = join(watched.path, 'renders', 'growing.bin');
      const job = await daemon.api.submit({ external: true, output: growing, validate: false });
      await waitForStatus(daemon.api, job.id, ['encoding']);
      writeFileSync(growing, 'start');
      // A slow writer: 15 writes, 100 ms apart; the report comes at its first.
      const writing = (async () => {
        for (let i = 0; i < 15; i++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          appendFileSync(growing, 'more data');
        }
        return Date.now();
      })();
      const answered = report(growing);
      const stoppedAt = await writing;
      const answer = await answered;
      assert.is(answer.status, 202, JSON.stringify(answer.json));
      const done = await waitForStatus(daemon.api, job.id, ['done', 'failed']);
      assert.is(done.status, 'done', done.error ?? '');
      assert.ok(Date.parse(done.outputReadyAt!) >= stoppedAt, 'not before the last write');
    });
  } finally {
    watched.remove();
    outside.remove();
  }
});

test.run();

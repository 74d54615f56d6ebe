// A job's environment (API keys, passwords) stays inside the daemon: its values appear nowhere a
// client, a log reader or the inspector can see, while the store keeps them so retries still run
// with them. The daemon's own ENCSUP_* settings never reach a job. The inspector relay is private.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WebSocket } from 'ws';
import { cli } from './helpers/cli.js';
import { waitForStatus, withTestDaemon } from './helpers/daemon.js';
import { encodeCommand } from './helpers/media.js';
import { until } from './helpers/wait.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test("a job's secret is found nowhere outside the store; the job still gets it; ENCSUP_* stays with the daemon", async () => {
  const secret = `hunter2-${Date.now()}`;
  let logged = '';
  const logger = pino({ level: 'debug' }, new Writable({ write: (chunk, _encoding, done) => ((logged += chunk), done()) }));
  process.env['ENCSUP_PROBE_SECRET'] = 'daemon-only-value';
  const inspectPort = await freePort();
  try {
    await withTestDaemon({ inspectPort, maxAttempts: 2, retryBackoffSec: 0.1 }, async ({ api, authed, daemon, url, token, dir }) => {
      delete process.env['ENCSUP_PROBE_SECRET'];
      assert.match(daemon.inspectorUrl!, `http://127.0.0.1:${inspectPort}/?token=`);
      assert.is((await fetch(`http://127.0.0.1:${inspectPort}/`)).status, 401, 'the inspector page needs the token');
      assert.is((await fetch(daemon.inspectorUrl!)).status, 200);
      const refused = new WebSocket(`ws://127.0.0.1:${inspectPort}/`);
      const refusal = await new Promise<string>((resolve) => {
        refused.on('unexpected-response', (_request, response) => resolve(String(response.statusCode)));
        refused.on('open', () => resolve('open'));
        refused.on('error', () => resolve('error'));
      });
      assert.is(refusal, '401', 'a socket without the token is refused');
      const viewer = new WebSocket(`ws://127.0.0.1:${inspectPort}/?token=${encodeURIComponent(token)}`);
      let inspected = '';
      viewer.on('message', (data) => (inspected += data.toString()));
      await new Promise((resolve) => viewer.on('open', resolve));

      const stopEvents = new AbortController();
      const events = await authed('/api/events', { signal: stopEvents.signal });
      let streamed = '';
      const reading = (async () => {
        for await (const chunk of events.body!) streamed += Buffer.from(chunk as Uint8Array).toString();
      })().catch(() => undefined);

      const output = join(dir.path, 'with-secret.mp4');
      // The first attempt fails after using the secret; the retry must run with it again.
      const script = `printf %s "$API_KEY" >> used.txt; env > env.txt; [ -f once ] || { touch once; exit 3; }; ${encodeCommand(output, { seconds: 1 }).join(' ')}`;
      const submitted = await api.submit({ command: script, shell: true, cwd: dir.path, output, env: { API_KEY: secret, PLAIN: 'x' } });
      assert.equal(submitted.env, { API_KEY: '***', PLAIN: '***' }, 'the answer shows names, not values');
      const done = await waitForStatus(api, submitted.id, ['done', 'failed']);
      assert.is(done.status, 'done', done.error ?? '');
      assert.is(done.attempts, 2);
      assert.is(readFileSync(join(dir.path, 'used.txt'), 'utf8'), secret + secret, 'both attempts had the secret');
      const jobEnv = readFileSync(join(dir.path, 'env.txt'), 'utf8');
      assert.not.match(jobEnv, 'daemon-only-value', "the daemon's ENCSUP_* variables are not passed to jobs");
      assert.match(jobEnv, /^PATH=/m);
      await until(() => inspected.includes('done'), 'the inspector to see the job end', 10_000);

      const seen = {
        list: JSON.stringify(await api.list()),
        show: JSON.stringify(await api.get(submitted.id)),
        cliShow: (await cli(['--url', url, '--data-dir', dir.path, 'show', submitted.id, '--json'])).stdout,
        cliList: (await cli(['--url', url, '--data-dir', dir.path, 'list', '--json'])).stdout,
        log: await (await authed(`/api/jobs/${submitted.id}/log`)).text(),
        events: streamed,
        daemonLog: logged,
        inspector: inspected,
      };
      for (const [where, text] of Object.entries(seen)) {
        assert.ok(text.length > 0, `${where} said something`);
        assert.not.match(text, secret, `the secret is not in ${where}`);
      }
      assert.match(seen.cliShow, '"API_KEY": "***"');
      assert.match(readFileSync(join(dir.path, 'jobs.db'), 'utf8'), secret, 'the store keeps it, for retries');
      viewer.close();
      stopEvents.abort();
      await reading;
    }, { logger });
  } finally {
    delete process.env['ENCSUP_PROBE_SECRET'];
  }
});

test.run();

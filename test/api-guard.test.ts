// The API as an attacker on the network or another local user meets it: the token (generated,
// kept 0600, compared in constant time), Host and Origin checks, JSON-only changes, and requests
// built to break URL parsing. Property-based: fast-check fires thousands of random requests at a
// live daemon; it must stay up, answer no 5xx, and change nothing stored.
import { readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { resolveConfig } from '../src/config.js';
import { cli } from './helpers/cli.js';
import { startTestDaemon, waitForStatus, withTestDaemon } from './helpers/daemon.js';
import { tempDir } from './helpers/temp.js';

interface RawAnswer {
  status: number | null;
  headers: string;
}

/** One request written byte for byte on a socket: nothing a client library would refuse to send. */
function rawRequest(port: number, text: string): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    const finish = () => {
      socket.destroy();
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      resolve({ status: status ? Number(status[1]) : null, headers: answer.split('\r\n\r\n')[0] ?? '' });
    };
    socket.setTimeout(3000, finish);
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      // One answer is enough (an event stream never ends by itself).
      if (answer.includes('\r\n\r\n')) setTimeout(finish, 20);
    });
    socket.on('error', finish);
    socket.on('close', finish);
    socket.end(text, 'latin1');
  });
}

test('a token is generated at first start, kept 0600 in the data folder, reused, and read by the CLI', async () => {
  const dir = tempDir();
  try {
    const first = await startTestDaemon(dir.path);
    const token = first.token;
    await first.close();
    assert.ok(Buffer.from(token, 'base64url').length >= 16, 'at least 128 random bits');
    assert.is(readFileSync(join(dir.path, 'token'), 'utf8').trim(), token);
    assert.is(statSync(join(dir.path, 'token')).mode & 0o777, 0o600);
    assert.is(statSync(dir.path).mode & 0o777, 0o700);
    assert.is(statSync(join(dir.path, 'jobs.db')).mode & 0o777, 0o600);
    assert.is(statSync(join(dir.path, 'logs')).mode & 0o777, 0o700);
    const again = await startTestDaemon(dir.path);
    try {
      assert.is(again.token, token, 'the same token after a restart');
      const job = await again.api.submit({ command: ['echo', 'hi'] });
      await waitForStatus(again.api, job.id, ['done']);
      assert.is(statSync(join(dir.path, 'logs', `${job.id}.log`)).mode & 0o777, 0o600);
      assert.is((await fetch(new URL('/api/jobs', again.url))).status, 401, 'no token: refused');
      assert.is((await fetch(new URL('/api/jobs', again.url), { headers: { authorization: 'Bearer a' } })).status, 401, 'a short wrong token: refused');
      const health = await fetch(new URL('/healthz', again.url));
      assert.is(health.status, 200, '/healthz stays open');
      assert.not.match(await health.text(), job.id, 'and says nothing about jobs');
      const listed = await cli(['--url', again.url, '--data-dir', dir.path, 'list']);
      assert.is(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, job.id);
      const refused = await cli(['--url', again.url, '--data-dir', join(dir.path, 'elsewhere'), 'list']);
      assert.is(refused.code, 1);
      assert.match(refused.stderr, 'no token found');
    } finally {
      await again.close();
    }
  } finally {
    dir.remove();
  }
});

test('short tokens, --no-auth off loopback and timers past what Node can hold are refused at start, naming the setting', () => {
  assert.throws(() => resolveConfig({ token: 'short' }, {}), /--token=.*at least 16 characters/);
  assert.throws(() => resolveConfig({}, { ENCSUP_TOKEN: 'abc' }), /ENCSUP_TOKEN/);
  assert.throws(() => resolveConfig({ auth: 'off', host: '0.0.0.0' }, {}), /loopback only/);
  assert.is(resolveConfig({ auth: 'off' }, {}).auth, false, '--no-auth on loopback is allowed');
  assert.throws(() => resolveConfig({ killGraceSec: 3000000 }, {}), /--kill-grace.*at most 2147483 seconds/);
  assert.throws(() => resolveConfig({}, { ENCSUP_TIMEOUT_SEC: '1e10' }), /ENCSUP_TIMEOUT_SEC/);
});

test('changes need JSON from this origin; other Hosts, origins and malformed targets are refused, never crashing', async () => {
  await withTestDaemon({}, async ({ daemon, authed, url, token }) => {
    const post = (headers: Record<string, string>, body = '{"command": ["true"]}') =>
      fetch(new URL('/api/jobs', url), { method: 'POST', headers: { authorization: `Bearer ${token}`, ...headers }, body });
    assert.is((await post({ 'content-type': 'text/plain' })).status, 415);
    assert.is((await post({})).status, 415, 'no content type');
    assert.is((await post({ 'content-type': 'application/json; charset=UTF-8' })).status, 201, 'UTF-8 said out loud');
    const utf16 = await post({ 'content-type': 'application/json; charset=utf-16' });
    assert.equal([utf16.status, ((await utf16.json()) as { error: string }).error], [415, 'the body must be UTF-8 JSON, not charset=utf-16']);
    const gzipped = await post({ 'content-type': 'application/json', 'content-encoding': 'gzip' });
    assert.equal([gzipped.status, ((await gzipped.json()) as { field: string }).field], [415, 'content-encoding']);
    assert.is((await post({ 'content-type': 'application/json', origin: 'http://127.0.0.1:1' })).status, 403);
    assert.is((await post({ 'content-type': 'application/json', origin: 'null' })).status, 403);
    assert.is((await post({ 'content-type': 'application/json', 'sec-fetch-site': 'same-site' })).status, 403);
    assert.is((await post({ 'content-type': 'application/json', origin: url })).status, 201, 'its own origin may');
    assert.is((await authed('/api/jobs/x/cancel', { method: 'POST', headers: { 'content-type': 'text/plain' } })).status, 415);
    for (const value of [null, [], false, '', '3', 1e9, -1, 1.5]) {
      const answer = await authed('/api/config', { method: 'PATCH', body: JSON.stringify({ maxConcurrent: value }) });
      assert.is(answer.status, 400, `maxConcurrent: ${JSON.stringify(value)}`);
    }
    const port = daemon.port;
    const host = `127.0.0.1:${port}`;
    const auth = `authorization: Bearer ${token}`;
    const cases: [string, number][] = [
      [`GET /api/jobs HTTP/1.1\r\nHost: evil.example:${port}\r\n${auth}\r\n\r\n`, 403],
      [`GET /api/jobs/%E0 HTTP/1.1\r\nHost: ${host}\r\n${auth}\r\n\r\n`, 400],
      [`GET /api/jobs/%E0 HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 401],
      [`GET //[ HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 400],
      [`GET http://[ HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 400],
      [`GET * HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 400],
      [`GET /api/jobs HTTP/1.1\r\nHost: \r\n${auth}\r\n\r\n`, 400],
      [`BREW /api/jobs HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 400],
      ['\x00\x01\x02 garbage\r\n\r\n', 400],
    ];
    for (const [request, status] of cases) {
      const answer = await rawRequest(port, request);
      assert.is(answer.status, status, JSON.stringify(request));
    }
    const page = await fetch(new URL('/', url));
    for (const header of ['x-frame-options', 'content-security-policy', 'x-content-type-options', 'referrer-policy']) {
      assert.ok(page.headers.get(header), `${header} on the login page`);
    }
    assert.match(page.headers.get('content-security-policy')!, "frame-ancestors 'none'");
    assert.ok((await fetch(new URL('/healthz', url))).ok, 'still up');
  });
});

test('thousands of random requests: the daemon stays up, answers no 5xx, and changes nothing stored', async () => {
  await withTestDaemon({}, async ({ daemon, api, dir, token }) => {
    const done = await api.submit({ command: ['echo', 'seed'], env: { KEEP: 'me' } });
    await waitForStatus(api, done.id, ['done']);
    const storeFile = join(dir.path, 'jobs.db');
    const before = readFileSync(storeFile, 'utf8');
    const port = daemon.port;
    const segment = fc.oneof(
      fc.constantFrom('api', 'jobs', 'outputs', 'config', 'settings', 'machine', 'events', 'cancel', 'retry', 'log', 'transitions', 'metrics', 'healthz', 'dashboard', 'app.js', 'logout', done.id, '..', '.', ''),
      fc.string({ maxLength: 12 }).map((text) => encodeURIComponent(text)),
      fc.constantFrom('%', '%E0', '%zz', '%00', '%2F', '[', '//[', '?token=', '#', '\u00ff', ';', '*'),
    );
    const path = fc.array(segment, { minLength: 0, maxLength: 5 }).map((parts) => `/${parts.join('/')}`);
    const target = fc.oneof({ weight: 8, arbitrary: path }, { weight: 1, arbitrary: fc.constantFrom('*', '//[', 'http://[', '', 'http://127.0.0.1/api/jobs') }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) });
    const method = fc.oneof({ weight: 6, arbitrary: fc.constantFrom('GET', 'POST', 'PATCH', 'PUT', 'DELETE', 'OPTIONS', 'HEAD') }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) });
    const header = (name: string, values: fc.Arbitrary<string>) => fc.option(values.map((value) => `${name}: ${value}`), { nil: undefined });
    const body = fc.oneof(
      fc.json({ maxDepth: 3 }),
      fc.string({ maxLength: 200 }),
      fc.record({ priority: fc.anything() }).map((value) => JSON.stringify(value)),
      fc.record({ path: fc.oneof(fc.string(), fc.constant('/etc/passwd'), fc.constant(`${dir.path}/jobs.db`)) }).map((value) => JSON.stringify(value)),
      fc.record({ maxConcurrent: fc.anything(), progressThreshold: fc.anything() }, { requiredKeys: [] }).map((value) => JSON.stringify(value)),
    );
    const request = fc.record({
      method,
      target,
      host: header('Host', fc.constantFrom(`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'evil.example', '', `127.0.0.1:${port}, x`)),
      origin: header('Origin', fc.constantFrom(`http://127.0.0.1:${port}`, 'http://127.0.0.1:1', 'null', 'https://evil.example', '%%%')),
      type: header('Content-Type', fc.constantFrom('application/json', 'text/plain', 'application/json; charset=utf-8', 'multipart/form-data', '')),
      auth: header('Authorization', fc.constantFrom(`Bearer ${token}`, 'Bearer wrong', 'Bearer ', 'Basic x', `Bearer ${token}x`)),
      cookie: header('Cookie', fc.constantFrom(`encsup-${port}=${token}`, `encsup-${port}=nope`, 'a=b; ;;=', `encsup-${port}`)),
      site: header('Sec-Fetch-Site', fc.constantFrom('cross-site', 'same-site', 'same-origin', 'none', 'weird')),
      body,
    });
    let served = 0;
    await fc.assert(
      fc.asyncProperty(request, async (each) => {
        const headers = [each.host, each.origin, each.type, each.auth, each.cookie, each.site].filter((line) => line !== undefined);
        const payload = Buffer.from(each.body, 'utf8').toString('latin1');
        const text = `${each.method} ${each.target} HTTP/1.1\r\n${headers.join('\r\n')}${headers.length ? '\r\n' : ''}content-length: ${Buffer.byteLength(each.body)}\r\nconnection: close\r\n\r\n${payload}`;
        const answer = await rawRequest(port, text);
        if (answer.status !== null) served += 1;
        if (answer.status !== null && answer.status >= 500 && answer.status !== 503) throw new Error(`${answer.status} for ${JSON.stringify(text)}`);
        if (answer.status === 201) throw new Error(`a random request created a job: ${JSON.stringify(text)}`);
      }),
      { numRuns: 2500, seed: Number(process.env['ENCSUP_FUZZ_SEED'] ?? Date.now() % 2 ** 31) },
    );
    assert.ok(served > 2000, `most requests got an answer (${served})`);
    assert.ok((await fetch(new URL('/healthz', daemon.url))).ok, 'the daemon is up');
    assert.is(readFileSync(storeFile, 'utf8'), before, 'the store is byte for byte unchanged');
    assert.equal((await api.list()).map((job) => [job.id, job.status]), [[done.id, 'done']]);
  });
});

test.run();

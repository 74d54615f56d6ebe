// A client that opens connections without end (a leaking worker, a script gone wrong) must not
// take the descriptors the daemon's encoders need: the API holds at most a share of the daemon's
// open-files limit, closes connections that never finish their request, and answers again after.
import { type Socket, connect } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiClient } from '../src/api/client.js';
import { connectionCap, openFilesLimit } from '../src/api/connection-limits.js';
import { readTokenFileSync } from '../src/api/token.js';
import { spawnDaemon } from './helpers/daemon-process.js';
import { tempDir } from './helpers/temp.js';
import { until } from './helpers/wait.js';

test('the connection cap follows the soft open-files limit, within its bounds', () => {
  const limits = (soft: string) => `Limit                     Soft Limit           Hard Limit           Units\nMax processes             94574                94574                processes\nMax open files            ${soft}                 524288               files\n`;
  assert.is(openFilesLimit(limits('1024')), 1024);
  assert.is(openFilesLimit(limits('unlimited')), null);
  assert.is(openFilesLimit('Max open files  bogus  1  files'), null);
  assert.is(openFilesLimit(''), null);
  assert.equal([connectionCap(1024), connectionCap(256), connectionCap(20), connectionCap(1 << 20), connectionCap(null)], [256, 64, 16, 1024, 1024]);
});

test('a flood of stalled connections leaves the next encoder its descriptors, and the API answers once they are dropped', async () => {
  const dir = tempDir();
  // 256 descriptors: the API may hold 64 connections; the flood below is more than the whole limit.
  const daemon = await spawnDaemon(dir.path, ['--max-concurrent', '1'], {}, 'source', { openFiles: 256 });
  const api = new ApiClient(daemon.url, readTokenFileSync(dir.path));
  const flood: Socket[] = [];
  try {
    const ahead = await api.submit({ command: ['sleep', '2'] });
    const next = await api.submit({ command: ['sh', '-c', 'echo started'], maxAttempts: 1 });
    const { port } = new URL(daemon.url);
    let closedByDaemon = 0;
    let answers = '';
    for (let i = 0; i < 400; i++) {
      // Half begin a request and never finish its headers; half connect and send nothing at all.
      const socket = connect(Number(port), '127.0.0.1', () => {
        if (i % 2 === 0) socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`);
      });
      socket.on('data', (chunk) => (answers += chunk));
      socket.on('error', () => undefined);
      socket.on('close', () => closedByDaemon++);
      flood.push(socket);
    }
    // Past the cap, connections are closed at once; the rest once their headers are overdue.
    await until(() => closedByDaemon >= 400 - 64, 'the daemon to close the connections past its cap', 10_000);
    await until(() => closedByDaemon === 400, 'the daemon to close the stalled connections', 30_000).catch((error: Error) => {
      throw new Error(`${error.message} (${closedByDaemon} of 400 closed)`);
    });
    const ended = await until(async () => {
      const job = await api.get(next.id).catch(() => null);
      return job && (job.status === 'done' || job.status === 'failed') ? job : null;
    }, 'the job started during the flood to end', 30_000, 200);
    assert.is(ended.status, 'done', `its attempt: ${ended.error}`);
    assert.is(ended.attempts, 1);
    assert.is((await api.get(ahead.id)).status, 'done');
    assert.match(answers, 'HTTP/1.1 408 Request Timeout', 'a request whose headers never came is told so');
    assert.is((await fetch(new URL('/healthz', daemon.url))).status, 200);
  } finally {
    for (const socket of flood) socket.destroy();
    daemon.child.kill('SIGTERM');
    await daemon.exited;
    dir.remove();
  }
});

test.run();

// Each job's story in the daemon's log, as journalctl or supervisord gets it: one JSON line per
// lifecycle event at the default level, and nothing plain on either stream.
import { join } from 'node:path';
import { test } from 'uvu';
import { until } from './helpers/wait.js';
import * as assert from 'uvu/assert';
import { ApiClient } from '../src/api/client.js';
import { readTokenFileSync } from '../src/api/token.js';
import { spawnDaemon } from './helpers/daemon-process.js';
import { waitForStatus } from './helpers/daemon.js';
import { withTempDir } from './helpers/temp.js';
import { pino } from 'pino';
import { NO_PROGRESS } from '../machines/job-record.js';
import { logLifecycle } from '../src/lifecycle/log-entries.js';

test('jobs that succeed, fail, retry and get cancelled each tell their story in JSON lines, with their fields', async () => {
  await withTempDir(async (dir) => {
    const daemon = await spawnDaemon(dir.path, ['--retry-backoff', '0']);
    const api = new ApiClient(daemon.url, readTokenFileSync(dir.path));
    const ok = await api.submit({ command: ['sh', '-c', 'echo made > out.txt'], cwd: dir.path, output: join(dir.path, 'out.txt'), validate: false, name: 'makes a file' });
    const bad = await api.submit({ command: ['sh', '-c', 'exit 3'], maxAttempts: 2, name: 'fails twice' });
    const long = await api.submit({ command: ['sleep', '30'], name: 'cancelled' });
    await waitForStatus(api, ok.id, ['done']);
    await waitForStatus(api, bad.id, ['failed']);
    await waitForStatus(api, long.id, ['encoding']);
    await until(async () => (await api.get(long.id)).pid, 'the long encoder to start');
    await api.cancel(long.id);
    daemon.child.kill('SIGTERM');
    assert.is(await daemon.exited, 0);
    assert.is(daemon.stderr(), '', 'nothing plain on stderr');
    const entries = daemon
      .stdout()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.ok(entries.every((entry) => typeof entry['msg'] === 'string' && typeof entry['level'] === 'number'));
    const story = (id: string) => entries.filter((entry) => entry['jobId'] === id);
    const kinds = (id: string) => story(id).map((entry) => entry['kind']);
    assert.equal(kinds(ok.id), ['submitted', 'started', 'encoder-started', 'finalized', 'attempt-ended', 'done']);
    assert.equal(kinds(bad.id), ['submitted', 'started', 'encoder-started', 'attempt-ended', 'retry-scheduled', 'requeued', 'started', 'encoder-started', 'attempt-ended', 'failed']);
    assert.equal(kinds(long.id), ['submitted', 'started', 'encoder-started', 'attempt-ended', 'cancelled']);
    const running = story(long.id).find((entry) => entry['kind'] === 'encoder-started')!;
    assert.ok(Number.isInteger(running['pid']) && (running['pid'] as number) > 1, 'the encoder pid is logged');
    assert.match(String(running['msg']), `pid ${running['pid']}`);
    const done = story(ok.id).find((entry) => entry['kind'] === 'done')!;
    assert.equal([done['output'], done['name'], typeof done['elapsedSeconds'], done['level']], [join(dir.path, 'out.txt'), 'makes a file', 'number', 30]);
    const ended = story(bad.id).filter((entry) => entry['kind'] === 'attempt-ended');
    assert.equal(ended.map((entry) => [entry['attempt'], entry['outcome'], entry['exitCode']]), [[1, 'failed', 3], [2, 'failed', 3]]);
    const failed = story(bad.id).find((entry) => entry['kind'] === 'failed')!;
    assert.match(String(failed['reason']), 'sh exited with code 3');
    assert.is(failed['level'], 40, 'a failure is a warning');
    assert.ok(entries.some((entry) => entry['msg'] === 'stopping: ending encoders and saving every job'));
  });
});

test('a stored progress change is a debug line: written at debug, left out at info', () => {
  const event = { kind: 'progress' as const, jobId: 'j1', at: '2026-11-28T21:00:00.000Z', progress: { ...NO_PROGRESS, progress: 42, basis: 'frames' as const, frame: 420 }, elapsedSeconds: 4 };
  const linesAt = (level: string) => {
    const lines: Record<string, unknown>[] = [];
    const log = logLifecycle(pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }));
    log(event);
    log({ kind: 'started', jobId: 'j1', at: event.at, attempt: 1, external: false });
    return lines.map((line) => [line['kind'], line['level'], line['msg']]);
  };
  assert.equal(linesAt('debug'), [['progress', 20, 'progress 42.0 %'], ['started', 30, 'attempt 1 started']]);
  assert.equal(linesAt('info'), [['started', 30, 'attempt 1 started']]);
});

test.run();

// End to end through the HTTP API: real daemon, real ffmpeg under a pty, real nedb file.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ApiClient } from '../src/api/client.js';
import { encodeCommand, probe } from './helpers/media.js';
import { postRaw, startTestDaemon, waitForStatus, withTestDaemon } from './helpers/daemon.js';
import { tempDir } from './helpers/temp.js';
import { groupAlive, sampleEvery, until } from './helpers/wait.js';

test('a real ffmpeg encode submitted through the API ends done at 100 % with an output ffprobe reads', async () => {
  await withTestDaemon({}, async ({ api, dir }) => {
    const output = join(dir.path, 'clip.mp4');
    const submitted = await api.submit({ command: encodeCommand(output, { seconds: 2 }), output, totalFrames: 48, name: 'clip' });
    assert.is(submitted.status, 'queued');
    const job = await waitForStatus(api, submitted.id, ['done', 'failed']);
    assert.is(job.status, 'done', job.error ?? '');
    assert.is(job.progress, 100);
    assert.is(job.frame, 48);
    assert.is(job.exitCode, 0);
    assert.is(job.attempts, 1);
    assert.ok(job.progressUpdates >= 1);
    const media = probe(output);
    assert.is(media.streams[0]?.codec_type, 'video');
    assert.is(media.streams[0]?.nb_frames, '48');
    const log = await api.log(job.id);
    assert.match(log, /frame=\s*48/);
  });
});

test('with maxConcurrent 2, never more than 2 encode at once, all five finish, and raising the cap starts a third at once', async () => {
  await withTestDaemon({ maxConcurrent: 2 }, async ({ daemon, api, dir }) => {
    const ids = await submitEncodes(api, dir.path, 5, 3);
    let most = 0;
    let sawTwo = false;
    const watching = sampleEvery(40, async () => {
      const jobs = await api.list('encoding');
      most = Math.max(most, jobs.length, daemon.liveEncoders());
      if (jobs.length === 2) sawTwo = true;
    });
    await until(() => sawTwo, 'two jobs encoding');
    assert.is((await api.list('queued')).length, 3);
    await api.updateSettings({ maxConcurrent: 3 });
    // The third starts on the change itself, not when one of the first two finishes.
    const three = await until(async () => ((await api.list('encoding')).length === 3 ? true : null), 'a third job encoding', 2000, 20);
    assert.ok(three);
    await api.updateSettings({ maxConcurrent: 2 });
    for (const id of ids) assert.is((await waitForStatus(api, id, ['done', 'failed'])).status, 'done');
    await watching.stop();
    assert.ok(most <= 3, `at most 3 at once after raising the cap, saw ${most}`);
  });
});

test('never more than maxConcurrent encoders run, checked while five jobs run', async () => {
  await withTestDaemon({ maxConcurrent: 2 }, async ({ daemon, api, dir }) => {
    const ids = await submitEncodes(api, dir.path, 5, 2);
    let most = 0;
    let samples = 0;
    const watching = sampleEvery(30, async () => {
      const jobs = await api.list('encoding');
      samples++;
      most = Math.max(most, jobs.length, daemon.liveEncoders());
    });
    for (const id of ids) assert.is((await waitForStatus(api, id, ['done', 'failed'])).status, 'done');
    await watching.stop();
    assert.ok(samples > 20, `sampled ${samples} times`);
    assert.is(most, 2);
  });
});

test('a high-priority job submitted after three low ones starts before them', async () => {
  await withTestDaemon({ maxConcurrent: 1 }, async ({ api, dir }) => {
    const blocker = join(dir.path, 'blocker.mp4');
    const first = await api.submit({ command: encodeCommand(blocker, { seconds: 2, realtime: true }), output: blocker });
    await waitForStatus(api, first.id, ['encoding']);
    const lows: string[] = [];
    for (let i = 0; i < 3; i++) {
      const output = join(dir.path, `low${i}.mp4`);
      lows.push((await api.submit({ command: encodeCommand(output, { seconds: 1 }), output, priority: 'low' })).id);
    }
    const output = join(dir.path, 'high.mp4');
    const high = await api.submit({ command: encodeCommand(output, { seconds: 1 }), output, priority: 'high' });
    assert.is(high.priority, 10);
    const ended = await Promise.all([high.id, ...lows].map((id) => waitForStatus(api, id, ['done', 'failed'])));
    const starts = ended.map((job) => Date.parse(job.startedAt!));
    for (const lowStart of starts.slice(1)) assert.ok(starts[0]! < lowStart, 'high started first');
    // Among equals, oldest first.
    assert.ok(starts[1]! < starts[2]! && starts[2]! < starts[3]!, 'low jobs in submission order');
  });
});

test('cancel during an encode ends the job cancelled and leaves no process of its encoder', async () => {
  await withTestDaemon({}, async (daemon) => {
    const { api, dir } = daemon;
    const output = join(dir.path, 'long.mp4');
    const submitted = await api.submit({ command: encodeCommand(output, { seconds: 120, realtime: true }), output });
    const running = await until(async () => {
      const job = await api.get(submitted.id);
      return job.pid !== null && job.progressUpdates > 0 ? job : null;
    }, 'the encoder to run and report progress');
    assert.ok(groupAlive(running.pid!));
    const cancelled = await api.cancel(submitted.id);
    assert.is(cancelled.status, 'cancelled');
    assert.is(cancelled.terminationReason, 'cancel');
    assert.is(groupAlive(running.pid!), false, 'no process of the encoder remains');
    const again = await postRaw(daemon, `/api/jobs/${submitted.id}/cancel`, '{}');
    assert.is(again.status, 409);
  });
});

test('after a restart with jobs queued and running, every job is still there and each reaches an end state', async () => {
  const dir = tempDir();
  let daemon = await startTestDaemon(dir.path, { maxConcurrent: 1 });
  const ids: string[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const output = join(dir.path, `r${i}.mp4`);
      ids.push((await daemon.api.submit({ command: encodeCommand(output, { seconds: 3, realtime: true }), output })).id);
    }
    const running = await waitForStatus(daemon.api, ids[0]!, ['encoding']);
    await until(async () => (await daemon.api.get(ids[0]!)).pid, 'the first encoder to start');
    await daemon.close();
    const pid = (await readStoredJob(dir.path, ids[0]!)).pid;
    assert.is(pid, null);
    assert.is(groupAlive(running.pid ?? 0) && running.pid !== null, false, 'the encoder was ended with the daemon');

    daemon = await startTestDaemon(dir.path, { maxConcurrent: 1 });
    const listed = await daemon.api.list();
    assert.equal(listed.map((job) => job.id).sort(), [...ids].sort());
    assert.is((await daemon.api.get(ids[0]!)).status === 'queued' || (await daemon.api.get(ids[0]!)).status === 'encoding', true);
    for (const id of ids) assert.is((await waitForStatus(daemon.api, id, ['done', 'failed', 'cancelled'])).status, 'done');
    assert.is((await daemon.api.get(ids[0]!)).attempts, 2, 'the interrupted run counts as an attempt');
    assert.is((await daemon.api.get(ids[2]!)).attempts, 1);
  } finally {
    await daemon.close();
    dir.remove();
  }
});

test('bad submissions get 400 naming the field, and the store is unchanged', async () => {
  await withTestDaemon({}, async (daemon) => {
    const { api, dir, authed } = daemon;
    const output = join(dir.path, 'ok.mp4');
    await waitForStatus(api, (await api.submit({ command: encodeCommand(output), output })).id, ['done']);
    const storeFile = join(dir.path, 'jobs.db');
    const before = readFileSync(storeFile, 'utf8');
    const listedBefore = await api.list();
    const cases: [string, string | undefined][] = [
      [JSON.stringify({ name: 'no command' }), 'command'],
      [JSON.stringify({ command: [] }), 'command'],
      [JSON.stringify({ command: ['ffmpeg'], priority: 'x' }), 'priority'],
      [JSON.stringify({ command: ['ffmpeg'], totalFrames: -3 }), 'totalFrames'],
      [JSON.stringify({ command: ['ffmpeg'], name: 42 }), 'name'],
      [JSON.stringify({ command: ['ffmpeg'], colour: 'red' }), 'colour'],
      [JSON.stringify({ command: 'ffmpeg -i x' }), 'command'],
      [JSON.stringify({ command: ['ffmpeg'], cwd: '/no/such/folder' }), 'cwd'],
      ['{"command": ["ffmpeg"', 'body'],
      ['[1,2]', undefined],
    ];
    for (const [body, field] of cases) {
      const answer = await postRaw(daemon, '/api/jobs', body);
      assert.is(answer.status, 400, body);
      if (field) assert.is(answer.json.field, field, body);
      assert.type(answer.json.error, 'string');
      if (field) assert.match(answer.json.error, field);
    }
    assert.is(readFileSync(storeFile, 'utf8'), before);
    assert.equal(await api.list(), listedBefore);
    const unknown = await authed('/api/jobs/nope');
    assert.is(unknown.status, 404);
    assert.is(((await unknown.json()) as { error: string }).error, 'no job with id nope');
    const badFilter = await authed('/api/jobs?status=bogus');
    assert.is(badFilter.status, 400);
    const badConfig = await authed('/api/settings', { method: 'PATCH', body: JSON.stringify({ maxConcurrent: -1 }) });
    assert.is(badConfig.status, 400);
    assert.is(((await badConfig.json()) as { field: string }).field, 'maxConcurrent');
  });
});

test('a program that could not be started fails its attempt saying so, not as an exit code', async () => {
  await withTestDaemon({ maxConcurrent: 1 }, async ({ api, dir }) => {
    // Found at submission, gone by its start (a tool uninstalled while the job waited).
    const tool = join(dir.path, 'render-tool');
    writeFileSync(tool, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const ahead = await api.submit({ command: ['sleep', '0.5'] });
    const submitted = await api.submit({ command: [tool], maxAttempts: 1 });
    rmSync(tool);
    const job = await waitForStatus(api, submitted.id, ['done', 'failed']);
    assert.is(job.status, 'failed');
    assert.is(job.exitCode, null);
    assert.match(job.error ?? '', new RegExp(`^${tool} did not start: cannot run ${tool}`));
    assert.is((await waitForStatus(api, ahead.id, ['done', 'failed'])).status, 'done');
  });
});

test('an encoder that fails ends the job failed with its exit code and the last lines of its output', async () => {
  await withTestDaemon({}, async ({ api }) => {
    const submitted = await api.submit({
      command: ['sh', '-c', 'for i in $(seq 1 80); do echo "line $i"; done; exit 3'],
      maxAttempts: 1,
    });
    const job = await waitForStatus(api, submitted.id, ['done', 'failed']);
    assert.is(job.status, 'failed');
    assert.is(job.exitCode, 3);
    assert.is(job.error, 'sh exited with code 3');
    assert.is(job.logTail.length, 50);
    assert.is(job.logTail.at(-1), 'line 80');
    assert.is(job.logTail[0], 'line 31');
    const retried = await api.retry(job.id);
    assert.is(retried.status, 'queued');
    const again = await waitForStatus(api, job.id, ['done', 'failed'], 10_000);
    assert.is(again.attempts, 2);
  });
});

test('a job that prints nothing leaves no log file; one that prints on its second attempt only keeps that output', async () => {
  await withTestDaemon({}, async ({ api, dir }) => {
    const silent = await waitForStatus(api, (await api.submit({ command: ['true'], maxAttempts: 1 })).id, ['done', 'failed']);
    assert.is(silent.status, 'done');
    assert.not.ok(existsSync(join(dir.path, 'logs', `${silent.id}.log`)), 'no file for a job with no output');
    assert.is(await api.log(silent.id), '');
    // Silent and failing the first time, talkative the second.
    const marker = join(dir.path, 'ran-once');
    const flaky = await api.submit({ command: ['sh', '-c', `if [ -e ${marker} ]; then echo second attempt; else touch ${marker}; exit 1; fi`], maxAttempts: 1 });
    assert.is((await waitForStatus(api, flaky.id, ['done', 'failed'])).status, 'failed');
    assert.not.ok(existsSync(join(dir.path, 'logs', `${flaky.id}.log`)));
    await api.retry(flaky.id);
    await until(async () => ((await api.get(flaky.id)).status === 'done' ? true : null), 'the retry to end done');
    assert.is(readFileSync(join(dir.path, 'logs', `${flaky.id}.log`), 'utf8'), 'second attempt\n');
    assert.is(await api.log(flaky.id), 'second attempt\n');
  });
});

/** `count` real encodes that each last about `seconds` (ffmpeg reads its input in real time). */
async function submitEncodes(api: ApiClient, dir: string, count: number, seconds: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const output = join(dir, `out${i}.mp4`);
    ids.push((await api.submit({ command: encodeCommand(output, { seconds, realtime: true }), output })).id);
  }
  return ids;
}

async function readStoredJob(dataDir: string, id: string) {
  const lines = readFileSync(join(dataDir, 'jobs.db'), 'utf8').trim().split('\n');
  const docs = lines.map((line) => JSON.parse(line) as { _id: string; json: string });
  const last = docs.filter((doc) => doc._id === id).at(-1)!;
  return JSON.parse(last.json) as { pid: number | null; status: string };
}

test.run();

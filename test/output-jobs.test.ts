// Watched outputs become job events, end to end: a real daemon watching a real folder, real encodes,
// real files landing, ffprobe validation.
import { copyFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cliUntilStopped } from './helpers/cli.js';
import { checkOutput } from '../src/media/output-check.js';
import { FFPROBE, encodeCommand, makeClip } from './helpers/media.js';
import { type TestDaemon, startTestDaemon, waitForStatus, withTestDaemon } from './helpers/daemon.js';
import { type TempDir, tempDir } from './helpers/temp.js';
import { until } from './helpers/wait.js';
import { spawnDaemon } from './helpers/daemon-process.js';
import { ApiClient } from '../src/api/client.js';
import { readTokenFileSync } from '../src/api/token.js';

const fast = { watchStabilitySec: 0.5 };

/** A daemon watching a folder of its own, with a short stability window. */
async function withWatchedDaemon(body: (daemon: TestDaemon & { dir: TempDir; watched: TempDir }) => Promise<void>): Promise<void> {
  const watched = tempDir();
  try {
    await withTestDaemon({ ...fast, watchDirs: watched.path }, (daemon) => body({ ...daemon, watched }));
  } finally {
    watched.remove();
  }
}

test('an external job completes when its file lands; a file that matches nothing changes no job', async () => {
  await withWatchedDaemon(async ({ api, authed, dir, watched }) => {
    const output = join(watched.path, 'from-another-box.mp4');
    const job = await api.submit({ external: true, output, name: 'rendered elsewhere' });
    const waiting = await waitForStatus(api, job.id, ['encoding']);
    assert.is(waiting.pid, null, 'nothing runs here for an external job');
    const staged = makeClip(join(dir.path, 'staged.mp4'), 2);
    renameSync(staged, output);
    const done = await waitForStatus(api, job.id, ['done', 'failed'], 10_000);
    assert.is(done.status, 'done', done.error ?? '');
    assert.ok(done.outputReadyAt);
    const before = await api.list();
    copyFileSync(output, join(watched.path, 'nobody-asked.mp4'));
    const events = await until(async () => {
      const all = (await (await authed('/api/outputs')).json()) as { kind: string; path: string }[];
      return all.some((e) => e.kind === 'unmatched') ? all : null;
    }, 'the unmatched file to be reported', 10_000);
    assert.equal(events.map((e) => [e.kind, e.path]), [['job-output', output], ['unmatched', join(watched.path, 'nobody-asked.mp4')]]);
    assert.equal(await api.list(), before, 'no job changed');
  });
});

test('a truncated mp4 fails validation with a clear reason; the real encode passes', async () => {
  await withWatchedDaemon(async ({ api, dir, watched }) => {
    const real = makeClip(join(dir.path, 'real.mp4'), 3);
    await checkOutput({ output: real, validate: true, expectedDurationSeconds: 3 }, { ffprobe: FFPROBE, durationTolerancePct: 2 });
    const bytes = readFileSync(real);
    const output = join(watched.path, 'truncated.mp4');
    const job = await api.submit({ external: true, output, maxAttempts: 1 });
    writeFileSync(join(dir.path, 'half.mp4'), bytes.subarray(0, Math.floor(bytes.length / 2)));
    renameSync(join(dir.path, 'half.mp4'), output);
    const failed = await waitForStatus(api, job.id, ['done', 'failed'], 10_000);
    assert.is(failed.status, 'failed');
    assert.match(failed.error!, `output ${output} cannot be read as media by ffprobe`);
  });
});

test('an output shorter than expected fails with both durations named; validate: false skips the media check', async () => {
  await withWatchedDaemon(async ({ api, dir, watched }) => {
    const short = join(watched.path, 'short.mp4');
    const job = await api.submit({ external: true, output: short, expectedDurationSeconds: 10, maxAttempts: 1 });
    renameSync(makeClip(join(dir.path, 'two.mp4'), 2), short);
    const failed = await waitForStatus(api, job.id, ['done', 'failed'], 10_000);
    assert.is(failed.status, 'failed', `got ${failed.error}`);
    assert.ok(/lasts/.test(failed.error!), failed.error!);
    assert.match(failed.error!, /lasts 2\.\d+ s, \d+\.\d % off the expected 10\.00 s \(tolerance 2 %\)/);
    const archive = join(watched.path, 'frames.mkv');
    const notMedia = await api.submit({ external: true, output: archive, validate: false });
    writeFileSync(join(dir.path, 'frames.tmp'), 'a tar of PNG frames, say');
    renameSync(join(dir.path, 'frames.tmp'), archive);
    assert.is((await waitForStatus(api, notMedia.id, ['done', 'failed'], 10_000)).status, 'done');
  });
});

test('a job the supervisor runs into a watched folder is finalized once the encoder exited and the watcher saw the file complete', async () => {
  await withWatchedDaemon(async ({ api, authed, watched }) => {
    const output = join(watched.path, 'encoded.mp4');
    const job = await api.submit({ command: encodeCommand(output, { seconds: 2 }), output });
    const done = await waitForStatus(api, job.id, ['done', 'failed'], 20_000);
    assert.is(done.status, 'done', done.error ?? '');
    assert.ok(done.outputReadyAt, 'the watcher reported the output');
    assert.ok(Date.parse(done.finishedAt!) >= Date.parse(done.outputReadyAt!), 'finalized after the output was complete');
    // The output replaced after the job is done: an event, not a second finalizing.
    writeFileSync(output, readFileSync(output));
    const replaced = await until(async () => {
      const all = (await (await authed('/api/outputs')).json()) as { kind: string; jobId?: string }[];
      return all.find((e) => e.kind === 'output-replaced') ?? null;
    }, 'the replaced output to be reported', 10_000);
    assert.is(replaced.jobId, job.id);
    const after = await api.get(job.id);
    assert.is(after.updatedAt, done.updatedAt, 'the done job is not touched');
  });
});

test('a job waiting for the watcher to see its output holds no slot: the next job starts once the encoder exited', async () => {
  const watched = tempDir();
  try {
    // A shared folder: the watcher waits out the whole stability window after the encoder's exit.
    await withTestDaemon({ maxConcurrent: 1, watchDirs: watched.path, sharedWatchDirs: watched.path, watchStabilitySec: 2 }, async ({ api, dir }) => {
      const output = join(watched.path, 'first.mp4');
      const first = await api.submit({ command: encodeCommand(output, { seconds: 1 }), output });
      const second = await api.submit({ command: encodeCommand(join(dir.path, 'second.mp4'), { seconds: 1 }) });
      const [firstDone, secondDone] = [await waitForStatus(api, first.id, ['done', 'failed'], 30_000), await waitForStatus(api, second.id, ['done', 'failed'], 30_000)];
      assert.is(firstDone.status, 'done', firstDone.error ?? '');
      assert.is(secondDone.status, 'done', secondDone.error ?? '');
      assert.ok(firstDone.outputReadyAt, 'the first was finalized by the watcher');
      // When the first left `encoding`: its encoder had exited.
      const { transitions } = await api.transitions(first.id);
      const encoderEnded = Date.parse(transitions.find((each) => each.from === 'encoding')!.at);
      const secondStarted = Date.parse(secondDone.startedAt!);
      assert.ok(secondStarted >= encoderEnded, 'one slot: the second waited for the first encoder');
      assert.ok(secondStarted < Date.parse(firstDone.outputReadyAt!), 'the second did not wait for the watcher');
      assert.ok(secondStarted < Date.parse(firstDone.finishedAt!));
    });
  } finally {
    watched.remove();
  }
});

test('encsup watch-output reports files from a folder the daemon accepts reports for (--report-dir), and an external job completes', async () => {
  const dir = tempDir();
  const elsewhere = tempDir();
  const { api, url, close } = await startTestDaemon(dir.path, { reportDirs: elsewhere.path, watchStabilitySec: 0.5 });
  const watching = await cliUntilStopped(['--url', url, '--data-dir', dir.path, 'watch-output', '--stability', '0.5', elsewhere.path]);
  try {
    const output = join(elsewhere.path, 'remote.mp4');
    const job = await api.submit({ external: true, output });
    await waitForStatus(api, job.id, ['encoding']);
    renameSync(makeClip(join(dir.path, 'r.mp4'), 1), output);
    assert.is((await waitForStatus(api, job.id, ['done', 'failed'], 10_000)).status, 'done');
    await until(() => watching.out.stdout.includes(`job-output ${job.id} ${output}`), 'watch-output to print what it reported', 5000);
  } finally {
    watching.stop();
    assert.is(await watching.exited, 0);
    await close();
    dir.remove();
    elsewhere.remove();
  }
});

test('the daemon refuses to start when a watched folder is missing, naming it', async () => {
  const dir = tempDir();
  try {
    await startTestDaemon(dir.path, { watchDirs: '/no/such/renders' });
    assert.unreachable('should not start');
  } catch (error) {
    assert.is((error as Error).message, 'watched folder /no/such/renders does not exist');
  } finally {
    dir.remove();
  }
});

test('`encsup daemon` takes each repeatable flag more than once: --watch, --watch-shared, --report-dir, --path-map', async () => {
  const data = tempDir();
  const first = tempDir();
  const second = tempDir();
  // Commander handed a repeatable flag's first value an unset list: the daemon would not start.
  const daemon = await spawnDaemon(data.path, ['--watch', first.path, '--watch', second.path, '--watch-shared', second.path, '--report-dir', first.path, '--report-dir', second.path, '--path-map', '/mnt/a=/tmp', '--path-map', '/mnt/b=/tmp']);
  try {
    assert.match(daemon.stdout(), JSON.stringify([first.path, second.path]), 'both folders watched');
    const api = new ApiClient(daemon.url, readTokenFileSync(data.path));
    writeFileSync(join(second.path, 'done.mp4'), Buffer.alloc(2048, 5));
    const seen = await until(async () => (await api.outputs()).find((output) => output.path === join(second.path, 'done.mp4')), 'the file in the second folder to be reported', 10_000);
    assert.is(seen.kind, 'unmatched');
  } finally {
    daemon.child.kill('SIGTERM');
    await daemon.exited;
    for (const dir of [data, first, second]) dir.remove();
  }
});

test.run();

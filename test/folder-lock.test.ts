// One owner per data folder: of two daemons started on one folder at once, exactly one runs and
// the other names it and touches nothing; a killed owner's lock is free at once.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FolderLockedError, lockDataFolder } from '../src/folder-lock.js';
import { startTestDaemon, waitForStatus } from './helpers/daemon.js';
import { spawnDaemon } from './helpers/daemon-process.js';
import { FFMPEG, makeClip } from './helpers/media.js';
import { withTempDir } from './helpers/temp.js';
import { groupAlive, until } from './helpers/wait.js';

test('two daemons started on one folder at once, ten times: exactly one runs, the other names it', async () => {
  for (let round = 0; round < 10; round++) {
    await withTempDir(async (dir) => {
      const started = await Promise.allSettled([startTestDaemon(dir.path), startTestDaemon(dir.path)]);
      const running = started.filter((each) => each.status === 'fulfilled');
      const refused = started.filter((each): each is PromiseRejectedResult => each.status === 'rejected');
      assert.is(running.length, 1, `round ${round}: ${refused.map((each) => String(each.reason)).join('; ')}`);
      const error = refused[0]!.reason as Error;
      assert.instance(error, FolderLockedError);
      assert.match(error.message, new RegExp(`pid ${process.pid} on \\S+, running since \\d{4}-`));
      await running[0]!.value.close();
      // Closed, the folder is free for the next daemon.
      const next = await startTestDaemon(dir.path);
      await next.close();
    });
  }
});

test("a second daemon on a busy folder ends nobody's encoder; a killed owner's lock is taken over at once", async () => {
  await withTempDir(async (dir) => {
    const first = await spawnDaemon(dir.path);
    const token = (await import('node:fs')).readFileSync(join(dir.path, 'token'), 'utf8').trim();
    const { ApiClient } = await import('../src/api/client.js');
    const api = new ApiClient(first.url, token);
    const clip = makeClip(join(dir.path, 'in.mp4'), 6, 24);
    const job = await api.submit({ command: [FFMPEG, '-hide_banner', '-y', '-re', '-i', clip, '-c:v', 'libx264', '-preset', 'ultrafast', join(dir.path, 'out.mp4')] });
    const running = await until(async () => {
      const seen = await api.get(job.id);
      return seen.pid !== null ? seen : null;
    }, 'the encode to start');
    // By hand, as an operator would: the CLI's daemon command, on the same folder.
    let message = '';
    try {
      execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', 'daemon', '--port', '0', '--data-dir', dir.path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
    } catch (error) {
      message = String((error as { stderr: string }).stderr);
      assert.is((error as { status: number }).status, 1);
    }
    assert.match(message, new RegExp(`another encsup daemon owns .*pid ${first.child.pid}`));
    assert.ok(groupAlive(running.pid!), 'the running encode was not touched');
    assert.is((await api.get(job.id)).status, 'encoding');
    first.child.kill('SIGKILL');
    await first.exited;
    // The lock died with its owner: a new daemon starts at once and recovers the job.
    const second = await startTestDaemon(dir.path);
    try {
      const ended = await waitForStatus(second.api, job.id, ['done', 'failed'], 60_000);
      assert.is(ended.status, 'done', ended.error ?? '');
    } finally {
      await second.close();
    }
  });
});

test("a start right after its owner's death, while the dead owner's lock is still let go, takes the folder", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir.path, 'daemon.lock');
    // The owner is gone (its note names a pid that has exited); its lock is held 400 ms more, as a
    // holder still on its way out after the owner's kill -9 holds it, on a busy box for longer.
    const gone = spawn('true');
    await new Promise((resolve) => gone.once('exit', resolve));
    writeFileSync(path, `${JSON.stringify({ pid: gone.pid, host: hostname(), startedAt: new Date().toISOString() })}\n`);
    const holder = spawn('flock', ['--exclusive', path, 'sh', '-c', 'echo held; sleep 0.4'], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise((resolve) => holder.stdout.once('data', resolve));
    const lock = await lockDataFolder(dir.path, () => new Date().toISOString());
    try {
      assert.is(lock.owner.pid, process.pid);
      assert.match(readFileSync(path, 'utf8'), `"pid":${process.pid},`, 'the note names the new owner');
    } finally {
      await lock.release();
    }
  });
});

test.run();

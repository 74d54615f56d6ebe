// Free space on a real tmpfs: a job whose folder is short of --min-free waits, saying so, and
// starts once space returns; a job whose disk fills while it runs fails as disk-full and its retry
// waits for space, then succeeds. Mounting a tmpfs needs root (as in CI).
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { waitForStatus, withTestDaemon } from './helpers/daemon.js';
import { FFMPEG, encodeCommand } from './helpers/media.js';
import { canMountTmpfs, mountTmpfs } from './helpers/tmpfs.js';
import { until } from './helpers/wait.js';


test('a job waits while its folder is short of --min-free, and starts once space returns', async () => {
  if (!canMountTmpfs()) return console.log('  (this process cannot mount a tmpfs (root is needed): left out)');
  await withTestDaemon({ minFreeBytes: '4M' }, async ({ api, dir }) => {
    const small = join(dir.path, 'small');
    const unmount = mountTmpfs(small, 'size=8m');
    try {
      writeFileSync(join(small, 'filler.bin'), Buffer.alloc(6 * 1024 * 1024));
      const output = join(small, 'out.mp4');
      const job = await api.submit({ command: encodeCommand(output, { seconds: 1 }), output });
      const waiting = await until(async () => (await api.get(job.id)).waitingFor, 'it to say why it waits');
      assert.match(waiting, /waiting for disk space: .* free in .*small, under --min-free 4\.0 MiB/);
      assert.is((await api.get(job.id)).status, 'queued');
      rmSync(join(small, 'filler.bin'));
      assert.is((await waitForStatus(api, job.id, ['done'], 20_000)).status, 'done');
    } finally {
      unmount();
    }
  });
});

test('a disk that fills during a run fails it as disk-full; its retry waits for space, then succeeds', async () => {
  if (!canMountTmpfs()) return console.log('  (this process cannot mount a tmpfs (root is needed): left out)');
  await withTestDaemon({ minFreeBytes: '256k', retryBackoffSec: 0.2, maxAttempts: 2 }, async ({ api, dir }) => {
    const small = join(dir.path, 'small');
    const unmount = mountTmpfs(small, 'size=512k');
    try {
      const output = join(small, 'out.mkv');
      // Raw video: a second of it is about 2.7 MB, far more than 512 KiB.
      const command = [FFMPEG, '-hide_banner', '-y', '-f', 'lavfi', '-i', 'testsrc2=duration=1:size=320x240:rate=24', '-c:v', 'rawvideo', '-pix_fmt', 'yuv420p', output];
      const job = await api.submit({ command, output });
      const failedOnce = await until(async () => {
        const now = await api.get(job.id);
        return now.history.length >= 1 ? now : null;
      }, 'the first attempt to end', 30_000);
      assert.is(failedOnce.history[0]!.failureKind, 'disk-full', JSON.stringify(failedOnce.history[0]));
      assert.match(failedOnce.history[0]!.evidence!, 'No space left on device');
      // The partial output fills the disk: the retry waits for space instead of failing again.
      const waiting = await until(async () => (await api.get(job.id)).waitingFor, 'the retry to wait for space', 15_000);
      assert.match(waiting, 'waiting for disk space');
      assert.is((await api.get(job.id)).attempts, 1);
      execFileSync('mount', ['-o', 'remount,size=64m', small]);
      rmSync(output, { force: true });
      const done = await waitForStatus(api, job.id, ['done', 'failed'], 30_000);
      assert.is(done.status, 'done', done.error ?? '');
      assert.is(done.attempts, 2);
    } finally {
      unmount();
    }
  });
});

test.run();

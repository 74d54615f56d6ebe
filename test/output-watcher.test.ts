// The watcher for real: chokidar on real folders, real writers, real timing.
import { mkdirSync, openSync, closeSync, renameSync, rmSync, symlinkSync, writeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_EXTENSIONS, OutputWatcher, type WatchEvent } from '../src/watch/output-watcher.js';
import { WatchFolderError } from '../src/watch/watch-folder-error.js';
import { tempDir } from './helpers/temp.js';
import { until } from './helpers/wait.js';
import { notARealPlace } from '../src/watch/real-places.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function watching(folder: string, options: { stabilitySec?: number; pollIntervalSec?: number } = {}) {
  const watcher = new OutputWatcher({ folders: [folder], extensions: DEFAULT_EXTENSIONS, stabilitySec: options.stabilitySec ?? 2, pollIntervalSec: options.pollIntervalSec ?? 0, folderCheckMs: 200 });
  const events: (WatchEvent & { seenMs: number })[] = [];
  watcher.on('event', (event) => events.push({ ...event, seenMs: Date.now() }));
  await watcher.start();
  return { watcher, events };
}

test('a file written in chunks with pauses for about 6 s is reported once, after its writer closes it, never before', async () => {
  const dir = tempDir();
  const { watcher, events } = await watching(dir.path);
  try {
    const path = join(dir.path, 'slow.mp4');
    const fd = openSync(path, 'w');
    for (let i = 0; i < 6; i++) {
      writeSync(fd, Buffer.alloc(64 * 1024, i));
      await sleep(1000); // pauses shorter than the 2 s stability window
      assert.is(events.filter((e) => e.kind === 'complete').length, 0, `not reported while still being written (${i + 1} s)`);
    }
    closeSync(fd);
    const closedMs = Date.now();
    await until(() => events.some((e) => e.kind === 'complete'), 'the file to be reported', 10_000);
    await sleep(2500);
    const complete = events.filter((e) => e.kind === 'complete');
    assert.is(complete.length, 1, 'reported once');
    assert.is(complete[0]!.kind === 'complete' && complete[0]!.path, path);
    assert.ok(complete[0]!.seenMs >= closedMs, 'after the writer closed it');
  } finally {
    await watcher.close();
    dir.remove();
  }
});

test('a file moved into the folder whole is reported once; other extensions are not', async () => {
  const dir = tempDir();
  const outside = tempDir();
  const { watcher, events } = await watching(dir.path, { stabilitySec: 0.5 });
  try {
    const staged = join(outside.path, 'whole.mkv');
    writeFileSync(staged, Buffer.alloc(256 * 1024, 7));
    writeFileSync(join(dir.path, 'notes.txt'), 'not an output');
    renameSync(staged, join(dir.path, 'whole.mkv'));
    await until(() => events.some((e) => e.kind === 'complete'), 'the moved file to be reported', 5000);
    await sleep(1500);
    const complete = events.filter((e) => e.kind === 'complete');
    assert.equal(complete.map((e) => e.kind === 'complete' && [e.path, e.change]), [[join(dir.path, 'whole.mkv'), 'created']]);
  } finally {
    await watcher.close();
    dir.remove();
    outside.remove();
  }
});

test('polling mode (network filesystems) detects a file within about one interval', async () => {
  const dir = tempDir();
  const { watcher, events } = await watching(dir.path, { stabilitySec: 0.2, pollIntervalSec: 1 });
  try {
    // Polling compares each folder with how it looked at the previous poll: let the first one pass.
    await sleep(1200);
    const writtenMs = Date.now();
    writeFileSync(join(dir.path, 'polled.mp4'), Buffer.alloc(1024, 1));
    await until(() => events.some((e) => e.kind === 'complete'), 'the polled file', 5000, 20);
    const delayMs = events.find((e) => e.kind === 'complete')!.seenMs - writtenMs;
    // One polling interval, plus the stability window checked at the same period.
    assert.ok(delayMs <= 1000 + 1000 + 500, `seen after ${delayMs} ms`);
  } finally {
    await watcher.close();
    dir.remove();
  }
});

test('a watched folder that does not exist is a clear error at start', () => {
  assert.throws(
    () => new OutputWatcher({ folders: ['/no/such/folder'], extensions: DEFAULT_EXTENSIONS, stabilitySec: 2, pollIntervalSec: 0 }),
    (error: Error) => error instanceof WatchFolderError && error.message === 'watched folder /no/such/folder does not exist',
  );
});

test('a folder that disappears while watched is reported, and watched again when it returns', async () => {
  const parent = tempDir();
  const folder = join(parent.path, 'renders');
  mkdirSync(folder);
  const { watcher, events } = await watching(folder, { stabilitySec: 0.3 });
  try {
    rmSync(folder, { recursive: true });
    await until(() => events.some((e) => e.kind === 'folder-missing'), 'the folder to be reported missing', 5000);
    mkdirSync(folder);
    await until(() => events.some((e) => e.kind === 'folder-back'), 'the folder to be reported back', 5000);
    await sleep(300);
    writeFileSync(join(folder, 'after.mp4'), Buffer.alloc(2048, 3));
    await until(() => events.some((e) => e.kind === 'complete'), 'a file in the returned folder', 5000);
  } finally {
    await watcher.close();
    parent.remove();
  }
});

test('links below a watched folder are not followed: loops, a link to / and to files elsewhere; a linked watched folder is', async () => {
  const parent = tempDir();
  const outside = tempDir();
  const real = join(parent.path, 'renders');
  mkdirSync(join(real, 'shot', 'frames'), { recursive: true });
  // Two links to their own folder made chokidar walk a/b/a/b/... (exponential) before it was ready.
  symlinkSync('.', join(real, 'a'));
  symlinkSync('.', join(real, 'b'));
  symlinkSync('..', join(real, 'shot', 'up'));
  symlinkSync('/', join(real, 'everything'));
  symlinkSync(outside.path, join(real, 'elsewhere'));
  symlinkSync('loop', join(real, 'loop'));
  symlinkSync(join(outside.path, 'theirs.mp4'), join(real, 'linked.mp4'));
  // The watched folder itself named through a link, as /renders to /mnt/nas/renders.
  const named = join(parent.path, 'renders-link');
  symlinkSync(real, named);
  const started = Date.now();
  const { watcher, events } = await watching(named, { stabilitySec: 0.5 });
  try {
    assert.ok(Date.now() - started < 10_000, 'ready in seconds');
    writeFileSync(join(outside.path, 'theirs.mp4'), Buffer.alloc(1024, 1));
    writeFileSync(join(outside.path, 'other.mp4'), Buffer.alloc(1024, 2));
    writeFileSync(join(real, 'shot', 'frames', 'ours.mp4'), Buffer.alloc(1024, 3));
    writeFileSync(join(real, 'last.mp4'), Buffer.alloc(1024, 4));
    await until(() => events.filter((e) => e.kind === 'complete').length >= 2, 'the real files to be reported', 10_000);
    await sleep(1000);
    const reported = events.flatMap((e) => (e.kind === 'complete' ? [e.path] : [])).sort();
    assert.equal(reported, [join(named, 'last.mp4'), join(named, 'shot', 'frames', 'ours.mp4')], 'each real file once, under the folder as it was named');
  } finally {
    await watcher.close();
    parent.remove();
    outside.remove();
  }
});

test('an entry is a real place when its real path is its own path below the real path of the watched folder', () => {
  const real: Record<string, string> = { '/r': '/mnt/r', '/r/a': '/mnt/r/a', '/r/a/b': '/mnt/r/a/b', '/r/self': '/mnt/r', '/r/out': '/etc', '/r/to-a': '/mnt/r/a' };
  const notReal = notARealPlace([{ path: '/r', real: '/mnt/r' }], (path) => real[path] ?? null);
  assert.equal(['/r', '/r/a', '/r/a/b'].map(notReal), [false, false, false]);
  assert.equal(['/r/self', '/r/out', '/r/to-a', '/r/gone', '/elsewhere', '/rx'].map(notReal), [true, true, true, true, true, true]);
});

test.run();

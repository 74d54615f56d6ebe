// When a written file is finished: at once when its writer on this machine lets go of it, after
// the stability window where writers may be elsewhere, never while a local writer holds it. Real
// writer processes, real /proc, real chokidar.
import { type ChildProcess, type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { closeSync, openSync, realpathSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { afterQuietLook } from '../src/watch/finished-files.js';
import { folderSharing, isNetworkFilesystem, mountOf, parseMountinfo, procHidesOtherUsers } from '../src/watch/folder-sharing.js';
import { scanLocalWriters } from '../src/watch/local-writers.js';
import { DEFAULT_EXTENSIONS, OutputWatcher, type WatchEvent } from '../src/watch/output-watcher.js';
import { tempDir } from './helpers/temp.js';
import { until } from './helpers/wait.js';

/** A writer in a process of its own, told over stdin what to do: `open`, `write`, `close`, `exit`. */
function writerProcess(path: string, flags = 'w'): { send: (command: string) => Promise<void>; child: ChildProcessWithoutNullStreams } {
  const script = `
    const fs = require('node:fs'); let fd = null;
    require('node:readline').createInterface({ input: process.stdin }).on('line', (command) => {
      if (command === 'open') fd = fs.openSync(${JSON.stringify(path)}, ${JSON.stringify(flags)});
      if (command === 'write') fs.writeSync(fd, Buffer.alloc(64 * 1024, 7));
      if (command === 'append') fs.appendFileSync(${JSON.stringify(path)}, Buffer.alloc(64 * 1024, 7));
      if (command === 'close') { fs.closeSync(fd); fd = null; }
      if (command === 'exit') process.exit(0);
      process.stdout.write(command + ' done\\n');
    });`;
  const child = spawn(process.execPath, ['-e', script]);
  let output = '';
  child.stdout.on('data', (data: Buffer) => (output += data.toString()));
  let sent = 0;
  return {
    child,
    send: async (command) => {
      sent += 1;
      child.stdin.write(`${command}\n`);
      await until(() => output.split('\n').filter((line) => line.endsWith(' done')).length >= sent, `the writer to ${command}`, 10_000, 5);
    },
  };
}

/**
 * A temporary folder under a watcher; `ended` registers a process to kill when the body is done.
 * The folder, the watcher and those processes are gone afterwards, whatever the body did.
 */
async function withWatchedFolder(
  options: { stabilitySec: number; shared?: boolean },
  body: (folder: string, complete: () => (WatchEvent & { seenMs: number })[], ended: (child: ChildProcess) => void) => Promise<void>,
): Promise<void> {
  const dir = tempDir();
  const watcher = new OutputWatcher({ folders: [dir.path], extensions: DEFAULT_EXTENSIONS, stabilitySec: options.stabilitySec, pollIntervalSec: 0, sharedFolders: options.shared ? [dir.path] : [] });
  const events: (WatchEvent & { seenMs: number })[] = [];
  watcher.on('event', (event) => events.push({ ...event, seenMs: Date.now() }));
  const children: ChildProcess[] = [];
  try {
    await watcher.start();
    await body(dir.path, () => events.filter((event) => event.kind === 'complete'), (child) => children.push(child));
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await watcher.close();
    dir.remove();
  }
}

/** Waits this long with the event loop free (the watcher looks at files meanwhile). */
const pass = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a local writer that pauses far longer than the window is never reported while it holds the file, and is at once after it closes', async () => {
  // A window of a minute: a report within seconds can only come from the writer check.
  await withWatchedFolder({ stabilitySec: 60 }, async (folder, complete, ended) => {
    const path = join(folder, 'render.mp4');
    const writer = writerProcess(path);
    ended(writer.child);
    await writer.send('open');
    for (let burst = 0; burst < 3; burst++) {
      await writer.send('write');
      await pass(700); // idle for many looks: a file that stopped growing, still held
      assert.is(complete().length, 0, `not reported while held (burst ${burst + 1})`);
    }
    await writer.send('close'); // the process lives on; only its hold on the file ended
    const closedMs = Date.now();
    await until(() => complete().length > 0, 'the closed file to be reported', 10_000);
    assert.ok(complete()[0]!.seenMs >= closedMs, 'after the close');
    assert.equal(complete().map((event) => event.kind === 'complete' && [event.path, event.change]), [[path, 'created']]);
  });
});

test('a file only read by another process is finished when its writer closes it', async () => {
  await withWatchedFolder({ stabilitySec: 60 }, async (folder, complete, ended) => {
    const path = join(folder, 'preview.mkv');
    ended(spawn('sh', ['-c', 'exec 3<"$0"; sleep 30', path]));
    const fd = openSync(path, 'w');
    writeSync(fd, Buffer.alloc(128 * 1024, 1));
    closeSync(fd);
    await until(() => complete().length > 0, 'the file to be reported though a reader holds it', 10_000);
  });
});

test('in a shared folder, a writer that opens and closes for each chunk is reported only after the window', async () => {
  const windowSec = 1.5;
  await withWatchedFolder({ stabilitySec: windowSec, shared: true }, async (folder, complete, ended) => {
    const writer = writerProcess(join(folder, 'from-elsewhere.mov'));
    ended(writer.child);
    let lastWriteMs = 0;
    for (let chunk = 0; chunk < 6; chunk++) {
      await writer.send('append'); // holds the file only for the write, as a remote writer looks from here
      lastWriteMs = Date.now();
      await pass(400);
      assert.is(complete().length, 0, `not reported between chunks (${chunk + 1})`);
    }
    await until(() => complete().length > 0, 'the file to be reported after the window', 10_000);
    assert.ok(complete()[0]!.seenMs - lastWriteMs >= windowSec * 1000, 'not before its size held still for the window');
  });
});

test('the /proc scan finds the process writing a file, not one reading it, and nothing once it is closed', async () => {
  const dir = tempDir();
  const path = join(dir.path, 'out.mp4');
  const writer = writerProcess(path, 'a');
  try {
    await writer.send('open');
    const target = { path: realpathSync(path), ownerUid: statSync(path).uid };
    const held = await scanLocalWriters(target);
    assert.is(held.kind === 'held' && held.writer.pid, writer.child.pid);
    await writer.send('close');
    const readOnly = openSync(path, 'r');
    try {
      assert.equal(await scanLocalWriters(target), { kind: 'none' });
    } finally {
      closeSync(readOnly);
    }
  } finally {
    await writer.send('exit').catch(() => undefined);
    dir.remove();
  }
});

test('a process that could be the writer but cannot be looked into leaves the answer unknown', async () => {
  const dir = tempDir();
  const proc = join(dir.path, 'proc');
  // A stand-in /proc: process 42 runs as uid 1000 and its descriptors are not ours to read.
  const { mkdirSync, writeFileSync, chmodSync } = await import('node:fs');
  mkdirSync(join(proc, '42', 'fd'), { recursive: true });
  writeFileSync(join(proc, '42', 'status'), 'Name:\tffmpeg\nUid:\t1000\t1000\t1000\t1000\n');
  chmodSync(join(proc, '42', 'fd'), 0);
  try {
    if (process.getuid?.() === 0) {
      // root reads any folder: the denial cannot be staged, only the owner rule below.
      assert.equal(await scanLocalWriters({ path: '/x/out.mp4', ownerUid: 1000 }, proc), { kind: 'none' });
      return;
    }
    const unknown = await scanLocalWriters({ path: '/x/out.mp4', ownerUid: 1000 }, proc);
    assert.is(unknown.kind, 'unknown');
    assert.equal(await scanLocalWriters({ path: '/x/out.mp4', ownerUid: 1001 }, proc), { kind: 'none' });
  } finally {
    chmodSync(join(proc, '42', 'fd'), 0o755);
    dir.remove();
  }
});

test('after a quiet look: finished when no local writer holds it, the window where that is not known or the folder is shared', () => {
  assert.equal(afterQuietLook('local', { kind: 'none' }, 60, 2000), { kind: 'finished' });
  assert.equal(afterQuietLook('local', { kind: 'held', writer: { pid: 1, fd: 3 } }, 60_000, 2000), { kind: 'wait', ms: 0 });
  assert.equal(afterQuietLook('local', { kind: 'unknown', reason: 'x' }, 500, 2000), { kind: 'wait', ms: 1500 });
  assert.equal(afterQuietLook('shared', null, 500, 2000), { kind: 'wait', ms: 1500 });
  assert.equal(afterQuietLook('shared', null, 2000, 2000), { kind: 'finished' });
});

test('network filesystems, listed folders and polled folders are shared; the rest local', () => {
  const mounts = parseMountinfo(
    [
      '22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw',
      '40 22 0:50 / /mnt/nas rw,relatime - nfs4 nas:/export rw,vers=4.2',
      '41 22 0:51 / /mnt/render\\040farm rw - cifs //srv/farm rw',
      '42 22 0:52 / /mnt/cloud rw - fuse.rclone remote: rw',
      '43 22 0:53 / /mnt/usb rw - fuse.ntfs-3g /dev/sdb1 rw',
      '44 22 0:21 / /proc rw - proc proc rw,hidepid=2',
    ].join('\n'),
  );
  assert.is(mountOf(mounts, '/mnt/render farm/out')?.type, 'cifs', 'an escaped space in a mount point');
  assert.is(mountOf(mounts, '/mnt/nasty/out')?.type, 'ext4', 'a prefix of a name is not its folder');
  assert.ok(isNetworkFilesystem('nfs4') && isNetworkFilesystem('fuse.sshfs') && !isNetworkFilesystem('fuse.ntfs-3g') && !isNetworkFilesystem('ext4'));
  const sharing = (folders: string[], sharedFolders: string[] = [], polling = false) => [...folderSharing(folders, { sharedFolders, polling, mounts }).values()];
  assert.equal(sharing(['/srv/out', '/mnt/nas/out', '/mnt/render farm', '/mnt/cloud/x', '/mnt/usb/x']), ['local', 'shared', 'shared', 'shared', 'local']);
  assert.equal(sharing(['/srv/out/a', '/srv/other'], ['/srv/out']), ['shared', 'local']);
  assert.equal(sharing(['/srv/out'], [], true), ['shared']);
  assert.ok(procHidesOtherUsers(mounts, 1000));
  assert.not.ok(procHidesOtherUsers(mounts, 0), 'root sees every process');
});

test.run();

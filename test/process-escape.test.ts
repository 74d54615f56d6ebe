// Every process of a job's run is known wherever it went: a setsid grandchild, a daemonizing
// wrapper, and an encoder whose pid was never stored (the daemon killed right after the spawn)
// are ended at attempt end, cancel, timeout and recovery. A sampler of /proc runs through each
// test and proves that no two attempts of one job ever had processes at the same time.
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiClient } from '../src/api/client.js';
import { readTokenFileSync } from '../src/api/token.js';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { RUN_TAG_VARIABLE, folderTag, pidsBetween, startedAfter, taggedProcesses } from '../src/runner/process-tag.js';
import { startTestDaemon, waitForStatus, withTestDaemon } from './helpers/daemon.js';
import { spawnDaemon } from './helpers/daemon-process.js';
import { FFMPEG, makeClip } from './helpers/media.js';
import { tempDir } from './helpers/temp.js';
import { until } from './helpers/wait.js';

/** Samples /proc for this folder's tagged processes; `overlaps` lists any moment two attempts of one job lived. */
function procSampler(dataDir: string) {
  const prefix = `${folderTag(dataDir)}/`;
  const overlaps: string[] = [];
  let samples = 0;
  const timer = setInterval(() => {
    samples++;
    const attempts = new Map<string, Set<string>>();
    for (const found of taggedProcesses((tag) => tag.startsWith(prefix))) {
      const [, job, attempt] = found.tag.split('/');
      attempts.set(job!, (attempts.get(job!) ?? new Set()).add(attempt!));
    }
    for (const [job, seen] of attempts) if (seen.size > 1) overlaps.push(`${job}: attempts ${[...seen].join(', ')} at once`);
  }, 20);
  return {
    overlaps,
    samples: () => samples,
    left: () => taggedProcesses((tag) => tag.startsWith(prefix)).length,
    stop: () => clearInterval(timer),
  };
}

const escapee = 'setsid sh -c "sleep 300" &';

test('the processes started after a run\'s leader are the pids after it up to the last handed out, across the wrap', () => {
  const plain = startedAfter(1000, 1500);
  assert.equal([999, 1000, 1001, 1500, 1501].map(plain), [false, false, true, true, false]);
  // The counter passed pid_max and began again from the low numbers.
  const wrapped = startedAfter(4_000_000, 300);
  assert.equal([299, 300, 301, 3_999_999, 4_000_001].map(wrapped), [true, true, false, false, true]);
  assert.ok(startedAfter(1000, null)(5), 'with no last pid known, every process is a candidate');
});

test('the pids after a leader are read directly when there are few, and a thread of a tagged process is not a process of its own', async () => {
  assert.equal(pidsBetween(1000, 1003, 64), [1001, 1002, 1003]);
  assert.is(pidsBetween(1000, 1000 + 65, 64), null, 'many: the listing of /proc is read instead');
  assert.is(pidsBetween(4_000_000, 300, 64), null, 'across the wrap: the listing too');

  const leader = spawnSync('true').pid!;
  const tag = `test-${process.pid}-${Date.now()}`;
  // A node process: several threads, each with a pid of its own after the leader's.
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { env: { ...process.env, [RUN_TAG_VARIABLE]: tag }, stdio: 'ignore' });
  try {
    await until(() => readFileSync(`/proc/${child.pid}/status`, 'utf8').match(/^Threads:\s*(\d+)/m)![1] !== '1', 'its threads to start');
    const found = taggedProcesses((each) => each === tag, leader);
    assert.equal(found.map((each) => each.pid), [child.pid], 'the process once, none of its threads');
    assert.equal(taggedProcesses((each) => each === tag).map((each) => each.pid), [child.pid], 'the listing of /proc finds the same');
  } finally {
    child.kill('SIGKILL');
  }
});

test('a setsid grandchild is ended when its attempt ends: the retry never overlaps it, nothing is left', async () => {
  await withTestDaemon({ retryBackoffSec: 0 }, async ({ api, dir }) => {
    const sampler = procSampler(dir.path);
    try {
      const job = await api.submit({ command: `${escapee} sleep 0.5; exit 1`, shell: true, maxAttempts: 3 });
      const ended = await waitForStatus(api, job.id, ['failed'], 60_000);
      assert.is(ended.attempts, 3);
      assert.ok(sampler.samples() > 20);
      assert.equal(sampler.overlaps, []);
      assert.is(sampler.left(), 0, 'no process of any attempt is left');
    } finally {
      sampler.stop();
    }
  });
});

test('cancel, a timeout and a daemonizing wrapper: none leaves a process behind', async () => {
  await withTestDaemon({}, async ({ api, dir }) => {
    const sampler = procSampler(dir.path);
    try {
      const cancelled = await api.submit({ command: `${escapee} sleep 300`, shell: true });
      await until(() => sampler.left() >= 2, 'the job and its escaped grandchild to run');
      assert.is((await api.cancel(cancelled.id)).status, 'cancelled');
      assert.is(sampler.left(), 0, 'cancel ended the escaped grandchild too');

      const timed = await api.submit({ command: `${escapee} sleep 300`, shell: true, timeoutSec: 1, maxAttempts: 1 });
      const failed = await waitForStatus(api, timed.id, ['failed'], 30_000);
      assert.match(failed.error ?? '', /timed out/);
      assert.is(sampler.left(), 0, 'the timeout ended it too');

      // A wrapper that starts the encoder in the background, detached, and exits at once.
      const wrapper = await api.submit({ command: '(setsid sleep 300 &) ; exit 0', shell: true });
      assert.is((await waitForStatus(api, wrapper.id, ['done', 'failed'], 30_000)).status, 'done');
      assert.is(sampler.left(), 0, 'the daemonized process ended with its attempt');
      assert.equal(sampler.overlaps, []);
    } finally {
      sampler.stop();
    }
  });
});

test('the daemon killed right after a spawn, before the pid is stored: the next start finds the survivors by their tag and ends them before the job runs again', async () => {
  const dir = tempDir();
  const sampler = procSampler(dir.path);
  try {
    const clip = makeClip(join(dir.path, 'in.mp4'), 2, 24);
    const output = join(dir.path, 'out.mp4');
    const crashing = await spawnDaemon(dir.path, [], { ENCSUP_TEST_CRASH_AT: 'after-spawn' });
    const api = new ApiClient(crashing.url, readTokenFileSync(dir.path));
    // On pipes: a terminal is hung up when the daemon dies, and its SIGHUP would end the shell
    // before it had started anything whenever the crash came first, leaving no survivors to find.
    const job = await api.submit({ command: `${escapee} ${FFMPEG} -hide_banner -y -re -i ${clip} -c:v libx264 -preset ultrafast ${output}`, shell: true, output, terminal: 'pipes' });
    await crashing.exited;
    await until(() => sampler.left() >= 2, 'the survivors of the crash (the encode and its escaped grandchild)');
    const daemon = await startTestDaemon(dir.path);
    try {
      const ended = await waitForStatus(daemon.api, job.id, ['done', 'failed'], 60_000);
      assert.is(ended.status, 'done', ended.error ?? '');
      assert.equal(ended.history.map((attempt) => attempt.outcome), ['interrupted', 'done']);
      assert.equal(sampler.overlaps, [], 'the first attempt was gone before the second started');
      assert.is(sampler.left(), 0);
    } finally {
      await daemon.close();
    }
  } finally {
    sampler.stop();
    dir.remove();
  }
});

test.run();

// Stuck and failing encoders end in a known state with the reason on the job, and nothing of them
// is left running.
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestDaemon, withTestDaemon, waitForStatus } from './helpers/daemon.js';
import { encodeCommand } from './helpers/media.js';
import { tempDir } from './helpers/temp.js';
import { groupAlive, sampleEvery } from './helpers/wait.js';

const fastRetries = { killGraceSec: 1, retryBackoffSec: 0.2 };

test('a hung encoder is ended within stall timeout + grace, nothing of it remains, and it is retried, then failed as "stalled"', async () => {
  await withTestDaemon(fastRetries, async ({ api }) => {
    // It prints a few progress lines, then hangs, ignoring SIGTERM, so the KILL is needed too.
    const hang = "trap '' TERM; for i in 1 2 3; do echo \"frame=$i fps=1.0 q=0.0 size=0kB time=00:00:0$i.00 bitrate=N/A speed=1x\"; sleep 0.2; done; sleep 60";
    const job = await api.submit({ command: ['sh', '-c', hang], stallTimeoutSec: 1.5, maxAttempts: 2 });
    const pids = new Set<number>();
    const watching = sampleEvery(50, async () => {
      const now = await api.get(job.id);
      if (now.pid) pids.add(now.pid);
    });
    const failed = await waitForStatus(api, job.id, ['failed', 'done'], 30_000);
    await watching.stop();
    assert.is(failed.status, 'failed');
    assert.match(failed.error!, /^stalled: sh printed nothing new and made no progress for 1.5 s \(stallTimeoutSec\)/);
    assert.is(failed.terminationReason, 'stall');
    assert.ok(failed.timedOutAt);
    assert.is(failed.attempts, 2);
    assert.equal(failed.history.map((attempt) => [attempt.attempt, attempt.outcome]), [[1, 'stalled'], [2, 'stalled']]);
    assert.is(failed.history[0]!.signal, 'SIGKILL', 'TERM was ignored, so KILL after the grace period');
    for (const attempt of failed.history) {
      const ranMs = Date.parse(attempt.endedAt) - Date.parse(attempt.startedAt!);
      // The stall clock is told of new output at most every twentieth of its timeout (here its
      // floor, 0.1 s); a KILLed child lingers as a zombie until init reaps it, which the group's
      // end waits for (up to 3 s, terminate.ts); and 1.5 s of slack.
      assert.ok(ranMs < (0.6 + 1.5 + 0.1 + 1 + 3 + 1.5) * 1000, `ended within output + stall timeout + grace (${ranMs} ms)`);
    }
    assert.ok(pids.size >= 1);
    for (const pid of pids) assert.is(groupAlive(pid), false, `no process of encoder ${pid} remains`);
  });
});

test('an encode longer than timeoutSec is ended and fails as "timed out"', async () => {
  await withTestDaemon(fastRetries, async ({ api, dir }) => {
    const output = join(dir.path, 'long.mp4');
    const job = await api.submit({ command: encodeCommand(output, { seconds: 60, realtime: true }), output, timeoutSec: 2, maxAttempts: 1 });
    const failed = await waitForStatus(api, job.id, ['failed', 'done'], 20_000);
    assert.is(failed.terminationReason, 'timeout');
    assert.match(failed.error!, /^timed out: .*ffmpeg ran longer than 2 s \(timeoutSec\)/);
    assert.equal(failed.history.map((a) => a.outcome), ['timeout']);
  });
});

test('a script that answers the timeout\'s SIGTERM by exiting 0 still fails as timed out, not done', async () => {
  await withTestDaemon(fastRetries, async ({ api }) => {
    const job = await api.submit({ command: 'trap "exit 0" TERM; while :; do sleep 0.1; done', shell: true, timeoutSec: 1, maxAttempts: 1 });
    const ended = await waitForStatus(api, job.id, ['failed', 'done'], 20_000);
    assert.is(ended.status, 'failed');
    assert.is(ended.exitCode, 0, 'it did exit 0');
    assert.is(ended.terminationReason, 'timeout');
    assert.match(ended.error!, /^timed out: .* ran longer than 1 s \(timeoutSec\)/);
  });
});

test('an encoder killed by a signal fails with the signal named; a retry after failure is a fresh attempt', async () => {
  await withTestDaemon(fastRetries, async ({ api }) => {
    const job = await api.submit({ command: ['sh', '-c', 'echo starting; kill -KILL $$'], maxAttempts: 1 });
    const failed = await waitForStatus(api, job.id, ['failed', 'done']);
    assert.is(failed.signal, 'SIGKILL');
    assert.is(failed.error, 'sh was killed by SIGKILL');
    assert.is((await api.retry(job.id)).status, 'queued');
    const again = await waitForStatus(api, job.id, ['failed', 'done']);
    assert.is(again.attempts, 2);
    assert.equal(again.history.map((a) => [a.attempt, a.outcome, a.signal]), [[1, 'failed', 'SIGKILL'], [2, 'failed', 'SIGKILL']]);
  });
});

test('a failure with attempts left is retried after a backoff, and succeeds when the cause is gone', async () => {
  await withTestDaemon(fastRetries, async ({ api, dir }) => {
    const flag = join(dir.path, 'second-try');
    // Fails the first time, succeeds the second: a flaky network share, say.
    const job = await api.submit({ command: ['sh', '-c', `if [ -e ${flag} ]; then echo ok; else touch ${flag}; exit 2; fi`], maxAttempts: 3 });
    const done = await waitForStatus(api, job.id, ['failed', 'done'], 15_000);
    assert.is(done.status, 'done');
    assert.equal(done.history.map((a) => a.outcome), ['failed', 'done']);
    assert.is(done.history[0]!.exitCode, 2);
  });
});

test('with --drain, a shutdown lets running jobs finish instead of requeuing them', async () => {
  const dir = tempDir();
  const { api, close } = await startTestDaemon(dir.path, { drainSec: 20 });
  try {
    const output = join(dir.path, 'drained.mp4');
    const job = await api.submit({ command: encodeCommand(output, { seconds: 2, realtime: true }), output });
    await waitForStatus(api, job.id, ['encoding']);
    await close();
    const again = await startTestDaemon(dir.path, { maxConcurrent: 0 });
    try {
      const finished = await again.api.get(job.id);
      assert.is(finished.status, 'done', 'finished during the drain, not requeued');
      assert.is(finished.attempts, 1);
    } finally {
      await again.close();
    }
  } finally {
    dir.remove();
  }
});

test.run();

// The daemon killed with SIGKILL at random moments, and a store that can't be written: every job
// still ends in a known state, exactly once, and nothing accepted is lost.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Job } from '../machines/job-record.js';
import { ApiClient } from '../src/api/client.js';
import { startTestDaemon } from './helpers/daemon.js';
import { spawnDaemon } from './helpers/daemon-process.js';
import { readTokenFileSync } from '../src/api/token.js';
import { encodeCommand, probe } from './helpers/media.js';
import { tempDir, withTempDir } from './helpers/temp.js';
import { until } from './helpers/wait.js';
import { aJob } from './helpers/jobs.js';
import { recoverJobs } from '../src/recovery.js';
import { INTERRUPTION_BUDGET, attemptInBudget } from '../machines/job-updates.js';

function encodersRunningFor(folder: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', folder], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter((line) => line.includes('ffmpeg'));
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

test('30 real encodes at concurrency 2 survive 10 kill -9s of the daemon: all done, each exactly once, valid, no encoder left', async () => {
  const dir = tempDir();
  const outputs = join(dir.path, 'outputs');
  mkdirSync(outputs);
  const data = join(dir.path, 'data');
  const args = ['--max-concurrent', '2', '--kill-grace', '1', '--retry-backoff', '0.1', '--max-attempts', '20'];
  let daemon = await spawnDaemon(data, args);
  try {
    let api = new ApiClient(daemon.url, readTokenFileSync(data));
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const output = join(outputs, `clip${String(i).padStart(2, '0')}.mp4`);
      ids.push((await api.submit({ command: encodeCommand(output, { seconds: 1, realtime: true }), output, name: `clip ${i}` })).id);
    }
    for (let kill = 0; kill < 10; kill++) {
      // A random moment: while encoders start, run, finalize, or the store is being written.
      await new Promise((resolve) => setTimeout(resolve, 300 + Math.random() * 1200));
      daemon.child.kill('SIGKILL');
      await daemon.exited;
      daemon = await spawnDaemon(data, args);
      api = new ApiClient(daemon.url, readTokenFileSync(data));
    }
    const jobs = await until(async () => {
      const all = await api.list();
      return all.every((job) => job.status === 'done' || job.status === 'failed') ? all : null;
    }, 'every job to end', 120_000, 250);
    assert.is(jobs.length, 30, 'no job lost');
    for (const job of jobs) {
      assert.is(job.status, 'done', `${job.name}: ${job.error}`);
      const doneAttempts = job.history.filter((attempt) => attempt.outcome === 'done');
      assert.is(doneAttempts.length, 1, `${job.name} reached done exactly once (${JSON.stringify(job.history.map((a) => a.outcome))})`);
      assert.is(probe(job.output!).streams[0]?.codec_type, 'video', `${job.name}: a valid output`);
    }
    assert.ok(jobs.some((job: Job) => job.history.some((attempt) => attempt.outcome === 'interrupted')), 'some runs were interrupted by the kills');
    assert.equal(encodersRunningFor(outputs), [], 'no encoder process is left over');
  } finally {
    daemon.child.kill('SIGKILL');
    await daemon.exited;
    dir.remove();
  }
});

/**
 * Makes the data folder and its store file read-only for this process. Root ignores permission
 * bits, so as root the immutable attribute does it (chattr +i), as it would for any user.
 */
function setReadOnly(folder: string, readOnly: boolean): void {
  const file = join(folder, 'jobs.db');
  if (process.getuid?.() === 0) {
    execFileSync('chattr', [readOnly ? '+i' : '-i', file, folder]);
  } else {
    chmodSync(file, readOnly ? 0o444 : 0o644);
    chmodSync(folder, readOnly ? 0o555 : 0o755);
  }
}

test('with the data folder read-only, a submission gets 503 and health says why; nothing accepted earlier is lost once it is writable again', async () => {
  const dir = tempDir();
  const data = join(dir.path, 'data');
  let daemon = await startTestDaemon(data);
  let readOnly = false;
  try {
    const { api, url, authed } = daemon;
    const ticking = ['sh', '-c', 'for i in $(seq 1 40); do echo "Step $i/40"; sleep 0.1; done'];
    const accepted = await api.submit({ command: ticking, name: 'accepted before' });
    await until(async () => ((await api.get(accepted.id)).progress ?? 0) > 0, 'the first job to make progress');
    setReadOnly(data, (readOnly = true));
    const refused = await authed('/api/jobs', { method: 'POST', body: JSON.stringify({ command: ['true'] }) });
    assert.is(refused.status, 503);
    assert.match(((await refused.json()) as { error: string }).error, 'the job store cannot be written');
    const health = await fetch(new URL('/healthz', url));
    assert.is(health.status, 503);
    const body = (await health.json()) as { ok: boolean; store: { writable: boolean; message: string } };
    assert.equal([body.ok, body.store.writable], [false, false]);
    assert.match(body.store.message, /EPERM|EACCES/);
    // The job goes on meanwhile, in memory: its log (a folder of its own) shows it got further.
    const logFile = join(data, 'logs', `${accepted.id}.log`);
    const stepNow = () => Math.max(0, ...[...readFileSync(logFile, 'utf8').matchAll(/Step (\d+)\/40/g)].map((match) => Number(match[1])));
    const stepAtRefusal = stepNow();
    await until(() => stepNow() >= Math.min(40, stepAtRefusal + 10), 'the running job to get on while the store refuses writes');
    setReadOnly(data, (readOnly = false));
    const done = await until(async () => {
      const job = await api.get(accepted.id);
      return job.status === 'done' ? job : null;
    }, 'the accepted job to finish and be stored', 30_000);
    assert.is(done.progress, 100);
    await until(async () => (await fetch(new URL('/healthz', url))).status === 200, 'health to recover');
    await daemon.close();
    daemon = await startTestDaemon(data);
    const after = await daemon.api.list();
    assert.equal(after.map((job) => [job.id, job.status]), [[accepted.id, 'done']], 'the accepted job is kept, the refused one never existed');
  } finally {
    if (readOnly) setReadOnly(data, false);
    await daemon.close();
    dir.remove();
  }
});

test('10 crashes in a row with 20 jobs waiting: interruptions spend their own budget, not attempts; no job fails', async () => {
  await withTempDir(async (dir) => {
    let daemon = await spawnDaemon(dir.path, ['--max-concurrent', '2']);
    const client = () => new ApiClient(daemon.url, readTokenFileSync(dir.path));
    // One attempt each: before, a single interruption failed a job for good.
    for (let n = 0; n < 20; n++) await client().submit({ command: ['sleep', '120'], maxAttempts: 1, name: `sleeper-${n}` });
    for (let crash = 1; crash <= 10; crash++) {
      await until(async () => (await client().list('encoding')).filter((job) => job.pid !== null).length === 2, `crash ${crash}: two jobs running`, 30_000);
      daemon.child.kill('SIGKILL');
      await daemon.exited;
      daemon = await spawnDaemon(dir.path, ['--max-concurrent', '2']);
    }
    const jobs = await client().list();
    assert.is(jobs.length, 20);
    assert.ok(jobs.every((job) => job.status === 'queued' || job.status === 'encoding'), `nobody failed: ${jobs.map((job) => job.error).filter(Boolean).join('; ')}`);
    // Kept their place: the same two, at the front, took every crash.
    const interrupted = jobs.filter((job) => job.history.some((attempt) => attempt.outcome === 'interrupted'));
    assert.equal(interrupted.map((job) => job.name).sort(), ['sleeper-0', 'sleeper-1']);
    assert.ok(interrupted.every((job) => job.history.length === 10));
    const requeued = jobs.filter((job) => job.status === 'queued' && job.history.length > 0);
    assert.ok(requeued.every((job) => job.progress === 0 && job.etaSeconds === null && job.frame === null), 'a requeued job shows none of its last run');
    // A clean stop ends the running sleepers itself.
    daemon.child.kill('SIGTERM');
    await daemon.exited;
  });
});

test('killed right after confirming submissions, as a power cut would: every confirmed job is in the store', async () => {
  await withTempDir(async (dir) => {
    const daemon = await spawnDaemon(dir.path, ['--max-concurrent', '1']);
    const api = new ApiClient(daemon.url, readTokenFileSync(dir.path));
    const confirmed = await Promise.all(Array.from({ length: 12 }, (_, n) => api.submit({ command: ['sleep', '60'], name: `confirmed-${n}` })));
    daemon.child.kill('SIGKILL');
    await daemon.exited;
    const after = await startTestDaemon(dir.path);
    try {
      const ids = new Set((await after.api.list()).map((job) => job.id));
      assert.ok(confirmed.every((job) => ids.has(job.id)), 'each job the API confirmed is there');
    } finally {
      await after.close();
    }
  });
});

test('a job that keeps being interrupted ends after its interruption budget, saying why; its encoder failures keep their own budget', () => {
  const at = '2026-01-01T00:00:00.000Z';
  const interrupted = (n: number) => Array.from({ length: n }, (_, i) => ({ attempt: i + 1, startedAt: at, endedAt: at, exitCode: null, signal: null, outcome: 'interrupted' as const, reason: 'crash', failureKind: null, evidence: null }));
  const running = (n: number) => aJob(`j${n}`, { status: 'encoding', attempts: n + 1, maxAttempts: 1, history: interrupted(n) });
  const below = recoverJobs([running(INTERRUPTION_BUDGET - 2)], at);
  assert.equal([below.queued.length, below.changed[0]!.status], [1, 'queued']);
  assert.is(attemptInBudget(below.changed[0]!), 0, 'no attempt of the encoder spent');
  const spent = recoverJobs([running(INTERRUPTION_BUDGET - 1)], at);
  assert.is(spent.changed[0]!.status, 'failed');
  assert.is(spent.changed[0]!.error, `interrupted ${INTERRUPTION_BUDGET} times: the daemon stopped or crashed during each of this job's last ${INTERRUPTION_BUDGET} runs (it may be what takes the daemon down)`);
});

test.run();

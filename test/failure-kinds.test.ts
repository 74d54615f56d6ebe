// Failures classified from evidence, with real encoders: ffmpeg, HandBrakeCLI, x264, x265 and
// SvtAv1EncApp run as jobs against a missing file, a truncated input, a bad option, a missing or
// read-only folder, a full tmpfs, a GPU encoder with no GPU; and processes killed from outside,
// out of memory, stalled, timed out. Each failed job carries its kind and the line that shows it,
// and the kind's retry rule is applied: kinds a retry would only repeat fail at the first attempt.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_RETRY_RULES, type FailureKind } from '../machines/failure-kinds.js';
import type { Job } from '../machines/job-record.js';
import { classifyFailure } from '../src/failures/classify.js';
import { waitForStatus, withTestDaemon } from './helpers/daemon.js';
import { canMountTmpfs, mountTmpfs } from './helpers/tmpfs.js';
import { memoryCgroup } from './helpers/memory-cgroup.js';
import { spawnDaemon } from './helpers/daemon-process.js';
import { withTempDir } from './helpers/temp.js';
import { ApiClient } from '../src/api/client.js';
import { readTokenFileSync } from '../src/api/token.js';
import { FFMPEG, makeClip } from './helpers/media.js';
import { until } from './helpers/wait.js';

const canMount = canMountTmpfs();

interface Case {
  name: string;
  kind: FailureKind;
  /** Part of the evidence line, where a line shows it. */
  evidence?: string | RegExp;
  submit: Record<string, unknown>;
}

function y4m(path: string, seconds: number): string {
  execFileSync(FFMPEG, ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=duration=${seconds}:size=320x240:rate=24`, '-pix_fmt', 'yuv420p', path]);
  return path;
}

test('real encoder failures are classified with their evidence, and each kind gets its retry rule', async () => {
  // No --min-free: the small disks are meant to fill under the encoders, not to hold them back.
  await withTestDaemon({ maxConcurrent: 6, retryBackoffSec: 0.1, maxAttempts: 2, killGraceSec: 1, minFreeBytes: '0' }, async ({ api, dir }) => {
    const d = dir.path;
    const clip = makeClip(join(d, 'clip.mp4'), 2);
    const raw = y4m(join(d, 'clip.y4m'), 1);
    const big = y4m(join(d, 'big.y4m'), 4);
    writeFileSync(join(d, 'truncated.mp4'), (await import('node:fs')).readFileSync(clip).subarray(0, 20_000));
    const missingDir = join(d, 'no-such-folder');
    // A small disk of its own for each encoder that fills one, so none finds room another freed.
    const full = (name: string) => join(d, `full-${name}`);
    const readOnly = join(d, 'read-only');
    const unmounts = canMount ? [...['ffmpeg', 'x264', 'x265', 'svt'].map((name) => mountTmpfs(full(name), 'size=64k')), mountTmpfs(readOnly, 'size=1m,ro')] : [];
    const ff = (...args: string[]) => [FFMPEG, '-hide_banner', '-y', ...args];
    const cases: Case[] = [
      { name: 'ffmpeg missing input', kind: 'input-missing', evidence: 'nosuch.mp4: No such file or directory', submit: { command: ff('-i', join(d, 'nosuch.mp4'), join(d, 'o1.mp4')) } },
      { name: 'x264 missing input', kind: 'input-missing', evidence: 'could not open input file', submit: { command: ['x264', '-o', join(d, 'o2.264'), join(d, 'nosuch.y4m')], validate: false } },
      { name: 'x265 missing input', kind: 'input-missing', evidence: 'unable to open input file', submit: { command: ['x265', '--input', join(d, 'nosuch.y4m'), '--output', join(d, 'o3.hevc')], validate: false } },
      { name: 'SvtAv1EncApp missing input', kind: 'input-missing', evidence: 'Invalid Input File', submit: { command: ['SvtAv1EncApp', '-i', join(d, 'nosuch.y4m'), '-b', join(d, 'o4.ivf')], validate: false } },
      { name: 'HandBrakeCLI missing input', kind: 'input-missing', evidence: "Can't stat", submit: { command: ['HandBrakeCLI', '-i', join(d, 'nosuch.mp4'), '-o', join(d, 'o5.mp4')] } },
      { name: 'ffmpeg truncated input', kind: 'corrupt-input', evidence: /moov atom not found|Invalid data found/, submit: { command: ff('-i', join(d, 'truncated.mp4'), join(d, 'o6.mp4')) } },
      { name: 'HandBrakeCLI truncated input', kind: 'corrupt-input', evidence: /moov atom not found|unrecognized file type/, submit: { command: ['HandBrakeCLI', '-i', join(d, 'truncated.mp4'), '-o', join(d, 'o7.mp4')] } },
      { name: 'ffmpeg unknown encoder', kind: 'unsupported', evidence: "Unknown encoder 'libnosuch'", submit: { command: ff('-i', clip, '-c:v', 'libnosuch', join(d, 'o8.mp4')) } },
      { name: 'ffmpeg bad option', kind: 'unsupported', evidence: /Unrecognized option|Option not found/, submit: { command: ff('-i', clip, '-bogusopt', '1', join(d, 'o9.mp4')) } },
      { name: 'x264 bad option', kind: 'unsupported', evidence: "unrecognized option '--bogus'", submit: { command: ['x264', '--bogus', '1', '-o', join(d, 'o10.264'), raw], validate: false } },
      { name: 'x265 bad option', kind: 'unsupported', evidence: "unrecognized option '--bogus'", submit: { command: ['x265', '--bogus', '--input', raw, '--output', join(d, 'o11.hevc')], validate: false } },
      { name: 'SvtAv1EncApp bad option', kind: 'unsupported', evidence: /Unprocessed tokens|Error in configuration/, submit: { command: ['SvtAv1EncApp', '--bogus', '1', '-i', raw, '-b', join(d, 'o12.ivf')], validate: false } },
      { name: 'ffmpeg missing output folder', kind: 'output-unwritable', evidence: 'No such file or directory', submit: { command: ff('-i', clip, join(missingDir, 'o13.mp4')) } },
      { name: 'x264 missing output folder', kind: 'output-unwritable', evidence: 'could not open output file', submit: { command: ['x264', '-o', join(missingDir, 'o14.264'), raw], validate: false } },
      { name: 'x265 missing output folder', kind: 'output-unwritable', evidence: 'failed to open output file', submit: { command: ['x265', '--input', raw, '--output', join(missingDir, 'o15.hevc')], validate: false } },
      { name: 'HandBrakeCLI missing output folder', kind: 'output-unwritable', evidence: 'Could not write to indicated output file', submit: { command: ['HandBrakeCLI', '-i', clip, '-o', join(missingDir, 'o16.mp4'), '-e', 'x264'] } },
      { name: 'ffmpeg NVENC with no GPU', kind: 'hardware-busy', evidence: /Cannot load|No capable devices|OpenEncodeSessionEx/, submit: { command: ff('-i', clip, '-c:v', 'h264_nvenc', join(d, 'o17.mp4')) } },
      { name: 'ffmpeg VAAPI with no device', kind: 'hardware-busy', evidence: /No VA display|Device creation failed|vaInitialize/, submit: { command: ff('-vaapi_device', '/dev/dri/renderD199', '-i', clip, '-vf', 'format=nv12,hwupload', '-c:v', 'h264_vaapi', join(d, 'o18.mp4')) } },
      { name: 'python out of memory', kind: 'out-of-memory', evidence: 'MemoryError', submit: { command: ['python3', '-c', 'bytearray(10**16)'], validate: false } },
      { name: 'no output to tell', kind: 'unknown', submit: { command: ['sh', '-c', 'exit 3'], validate: false } },
      { name: 'exited 0, output not media', kind: 'output-check', submit: { command: ['sh', '-c', `echo not a video > ${join(d, 'o19.mp4')}`], output: join(d, 'o19.mp4') } },
      { name: 'stalled', kind: 'stalled', submit: { command: ['sleep', '30'], stallTimeoutSec: 1, validate: false } },
      { name: 'timed out', kind: 'timed-out', submit: { command: ['sh', '-c', 'while true; do echo tick; sleep 0.2; done'], timeoutSec: 1, validate: false } },
      ...(canMount
        ? ([
            { name: 'ffmpeg full disk', kind: 'disk-full', evidence: 'No space left on device', submit: { command: ff('-i', clip, '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '0', join(full('ffmpeg'), 'o20.mp4')), output: join(full('ffmpeg'), 'o20.mp4') } },
            { name: 'x264 full disk (it says only "aborted")', kind: 'disk-full', evidence: 'bytes free', submit: { command: ['x264', '--qp', '0', '-o', join(full('x264'), 'o21.264'), big], output: join(full('x264'), 'o21.264'), validate: false } },
            // Both exit 0, and what they got down reads as media: a raw HEVC stream has no length to check.
            { name: 'x265 full disk (exits 0)', kind: 'disk-full', evidence: 'bytes free', submit: { command: ['x265', '--qp', '0', '--input', big, '--output', join(full('x265'), 'o22.hevc')], output: join(full('x265'), 'o22.hevc') } },
            { name: 'SvtAv1EncApp full disk (exits 0)', kind: 'disk-full', evidence: 'bytes free', submit: { command: ['SvtAv1EncApp', '-i', big, '-b', join(full('svt'), 'o24.ivf')], output: join(full('svt'), 'o24.ivf') } },
            { name: 'ffmpeg read-only folder', kind: 'output-unwritable', evidence: 'Read-only file system', submit: { command: ff('-i', clip, join(readOnly, 'o23.mp4')) } },
          ] satisfies Case[])
        : []),
    ];
    try {
      const jobs: [Case, Job][] = [];
      for (const each of cases) {
        // The inputs are missing on purpose: past the submit check, to see the encoders fail on them.
        jobs.push([each, await api.submit({ name: each.name, cwd: d, checkInputs: false, ...each.submit })]);
      }
      // Killed from outside: a running encoder ended by someone else's kill -9.
      const victim = await api.submit({ name: 'killed from outside', command: ['sleep', '30'], validate: false, maxAttempts: 1 });
      const pid = await until(async () => (await api.get(victim.id)).pid, 'the victim to start');
      process.kill(pid, 'SIGKILL');
      jobs.push([{ name: 'killed from outside', kind: 'killed', evidence: 'SIGKILL', submit: {} }, victim]);

      const problems: string[] = [];
      for (const [each, submitted] of jobs) {
        const job = await until(async () => {
          const now = await api.get(submitted.id);
          return now.status === 'done' || (now.history.length >= 1 && (now.status === 'failed' || now.status === 'queued' || now.history.length >= 2)) ? now : null;
        }, `${each.name} to end an attempt`, 60_000);
        const first = job.history[0];
        if (first === undefined) {
          problems.push(`${each.name}: done, where it should have failed as ${each.kind}`);
          continue;
        }
        if (first.failureKind !== each.kind) problems.push(`${each.name}: ${first.failureKind} (expected ${each.kind}; evidence ${first.evidence}; reason ${first.reason})`);
        else if (each.evidence !== undefined && !(typeof each.evidence === 'string' ? first.evidence?.includes(each.evidence) : each.evidence.test(first.evidence ?? ''))) problems.push(`${each.name}: evidence ${first.evidence}`);
        if (DEFAULT_RETRY_RULES[each.kind] === 'never') {
          if (job.status !== 'failed' || job.attempts !== 1) problems.push(`${each.name}: a ${each.kind} failure is not retried, but it is ${job.status} after ${job.attempts} attempts`);
          else if (!job.error?.includes(`not retried: ${each.kind}`)) problems.push(`${each.name}: the error does not say why it was not retried: ${job.error}`);
        } else if (each.kind !== 'killed' && job.status === 'failed' && job.attempts < 2) problems.push(`${each.name}: a ${each.kind} failure is retried, but it failed after ${job.attempts}`);
      }
      assert.equal(problems, []);
      if (!canMount) console.log('  (this process cannot mount a tmpfs (root is needed): the full-disk and read-only cases were left out)');
    } finally {
      for (const unmount of unmounts) unmount();
    }
  });
});

test('the evidence decides between an input and an output that is missing, and the box between a kill and the out-of-memory killer', () => {
  const base = { exitCode: 1, signal: null, terminationReason: null, oomKilled: false, outputFreeBytes: null, output: null, cwd: '/' } as const;
  const command = ['ffmpeg', '-i', '/in/a.mp4', '/out/b.mp4'];
  assert.is(classifyFailure({ ...base, command, lines: ['/in/a.mp4: No such file or directory'] }).kind, 'input-missing');
  assert.is(classifyFailure({ ...base, command, lines: ['/out/b.mp4: No such file or directory'] }).kind, 'output-unwritable');
  assert.is(classifyFailure({ ...base, command, lines: ['/out/b.mp4: Permission denied'] }).kind, 'output-unwritable');
  const killed = { ...base, exitCode: null, signal: 'SIGKILL', command, lines: ['frame= 10 fps=1'] };
  assert.is(classifyFailure(killed).kind, 'killed');
  assert.is(classifyFailure({ ...killed, oomKilled: true }).kind, 'out-of-memory');
  assert.is(classifyFailure({ ...base, command, lines: ['[h264_nvenc @ 0x1] OpenEncodeSessionEx failed: out of memory (10): (no details)'] }).kind, 'hardware-busy', 'the NVENC session limit, not memory');
  // HandBrake prints this at every start, GPU or not: it is not evidence of anything.
  assert.is(classifyFailure({ ...base, command: ['HandBrakeCLI'], lines: ['Cannot load libnvidia-encode.so.1', 'unknown option (--bogus)'] }).kind, 'unsupported');
});

test('an encoder the kernel kills for memory is out-of-memory, from the cgroup count of OOM kills', async () => {
  const cgroup = memoryCgroup(`encsup-oom-${process.pid}`, 300 * 1024 * 1024);
  if (cgroup === null) return console.log('  (no memory cgroup can be made here (root is needed): left out)');
  await withTempDir(async (dir) => {
    const daemon = await spawnDaemon(dir.path, ['--max-attempts', '1']);
    try {
      // The daemon in a 300 MiB cgroup: what it starts from now on is held to it.
      cgroup.add(daemon.child.pid!);
      const api = new ApiClient(daemon.url, readTokenFileSync(dir.path));
      const job = await api.submit({ command: ['python3', '-c', 'a = bytearray(2 * 1024 ** 3); a[::4096] = b"x" * len(a[::4096])'], validate: false, name: 'too big for its box' });
      const failed = await waitForStatus(api, job.id, ['failed'], 60_000);
      assert.is(failed.failureKind, 'out-of-memory', `${failed.failureEvidence} / ${failed.error}`);
      assert.match(failed.failureEvidence!, "out-of-memory killer");
      assert.is(failed.signal, 'SIGKILL');
    } finally {
      daemon.child.kill('SIGTERM');
      await daemon.exited;
      cgroup.remove();
    }
  });
});

test.run();

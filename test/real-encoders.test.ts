// The real encoders that .ci/run installs, each run under a real pty, their output read by the
// same pipeline a job uses: frame counts, percent and the end come out right. Each run's raw
// output is also kept in test/artifacts/ as a capture for the parser fixtures.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lastValueFrom, share, toArray } from 'rxjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ParserName } from '../machines/job-record.js';
import { splitRecordBatches } from '../src/progress/lines.js';
import { createParser } from '../src/progress/parsers/index.js';
import { type ProgressUpdate, readProgress } from '../src/progress/pipeline.js';
import { startEncoder } from '../src/runner/encoder-run.js';
import { spawnPty } from '../src/runner/pty.js';
import { FIXTURES_DIR } from './helpers/corpus.js';
import { aJob } from './helpers/jobs.js';
import { FFMPEG } from './helpers/media.js';
import { tempDir } from './helpers/temp.js';

const FRAMES = 96; // 4 s at 24 fps
const dir = tempDir('encsup-encoders-');
const y4m = join(dir.path, 'clip.y4m');
const mp4 = join(dir.path, 'clip.mp4');
// HandBrakeCLI reports about once a second: its input must take it a few seconds.
const longMp4 = join(dir.path, 'long.mp4');
// The clips are made when the suite runs, not when the file is imported.
test.before(() => {
  execFileSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=duration=4:size=320x240:rate=24', '-pix_fmt', 'yuv420p', y4m]);
  execFileSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-y', '-i', y4m, '-c:v', 'libx264', '-preset', 'ultrafast', mp4]);
  execFileSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=duration=20:size=1280x720:rate=24', '-c:v', 'libx264', '-preset', 'ultrafast', longMp4]);
});
const ARTIFACTS = join(FIXTURES_DIR, '..', 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

interface Run {
  updates: ProgressUpdate[];
  exitCode: number | null;
}

async function runUnderPty(name: string, command: string[], options: { totalFrames?: number; parser?: ParserName } = {}): Promise<Run> {
  const job = aJob(name, { command, cwd: dir.path });
  const run = startEncoder(job, { spawn: spawnPty, graceMs: 1000, baseEnv: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir.path }, tag: `test/${job.id}/1` });
  const chunks = run.chunks.pipe(share());
  const raw = lastValueFrom(chunks.pipe(toArray()));
  const updates = lastValueFrom(
    chunks.pipe(
      splitRecordBatches(),
      readProgress({ parse: createParser({ parser: options.parser ?? 'auto' }), known: { totalFrames: options.totalFrames ?? null }, nowMs: Date.now, startMs: Date.now() }),
      toArray(),
    ),
  );
  const exit = await run.exited;
  writeFileSync(join(ARTIFACTS, `${name}.pty.log`), (await raw).join(''));
  return { updates: await updates, exitCode: exit.exitCode };
}

/**
 * One update comes of each read, and small reads close together are taken as one (paced-reads.ts):
 * these encodes of 96 small frames may print their whole run within one.
 */
function assertReadsToTheEnd(name: string, run: Run, expectedFrames: number | null) {
  assert.is(run.exitCode, 0, `${name} exits 0`);
  assert.ok(run.updates.length >= 1, `${name}: progress updates were read`);
  const last = run.updates.at(-1)!.fields;
  assert.ok((last.progress ?? 0) >= 99, `${name}: reaches the end, got ${last.progress} %`);
  assert.ok((last.progress ?? 0) <= 100);
  if (expectedFrames !== null) assert.is(last.frame, expectedFrames, `${name}: frames`);
  for (let i = 1; i < run.updates.length; i++) {
    assert.ok((run.updates[i]!.fields.progress ?? 0) >= (run.updates[i - 1]!.fields.progress ?? 0), `${name}: never backwards`);
  }
}

test('ffmpeg with several codecs: frames and percent from its Duration header, to the end', async () => {
  const codecs: [string, string[]][] = [
    ['libx264', ['-c:v', 'libx264', '-preset', 'ultrafast', 'out-x264.mp4']],
    ['libx265', ['-c:v', 'libx265', '-preset', 'ultrafast', 'out-x265.mp4']],
    ['mpeg4', ['-c:v', 'mpeg4', 'out-mpeg4.avi']],
    ['libsvtav1', ['-c:v', 'libsvtav1', '-preset', '12', 'out-av1.mkv']],
    ['libvpx-vp9', ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', 'out-vp9.webm']],
  ];
  for (const [codec, args] of codecs) {
    const run = await runUnderPty(`ffmpeg-${codec}`, [FFMPEG, '-hide_banner', '-y', '-i', mp4, ...args]);
    assertReadsToTheEnd(`ffmpeg ${codec}`, run, FRAMES);
    assert.is(run.updates.at(-1)!.fields.totalFrames, FRAMES, `${codec}: total from Duration × fps`);
  }
});

test('ffmpeg -progress pipe:1 blocks read to the end', async () => {
  const run = await runUnderPty('ffmpeg-progress-pipe', [FFMPEG, '-hide_banner', '-nostats', '-progress', 'pipe:1', '-y', '-i', mp4, '-c:v', 'libx264', '-preset', 'ultrafast', 'out-progress.mp4']);
  assertReadsToTheEnd('ffmpeg -progress', run, FRAMES);
});

test('x264 and x265 read their own [x%] n/total lines to the end', async () => {
  assertReadsToTheEnd('x264', await runUnderPty('x264', ['x264', '--preset', 'ultrafast', '-o', 'out.264', y4m]), FRAMES);
  assertReadsToTheEnd('x265', await runUnderPty('x265', ['x265', '--preset', 'ultrafast', '--input', y4m, '-o', 'out.hevc']), FRAMES);
});

test("SvtAv1EncApp's counter is read, and with the job's total frames reaches 100 %", async () => {
  const run = await runUnderPty('svtav1', ['SvtAv1EncApp', '--preset', '12', '-i', y4m, '-b', 'out.ivf'], { totalFrames: FRAMES });
  assertReadsToTheEnd('SvtAv1EncApp', run, FRAMES);
});

test("HandBrakeCLI's task percentage is read to the end", async () => {
  const run = await runUnderPty('handbrake', ['HandBrakeCLI', '-i', longMp4, '-o', 'out-hb.mp4', '--encoder', 'x264', '--encoder-preset', 'medium']);
  assertReadsToTheEnd('HandBrakeCLI', run, null);
});

test('a Python script with a tqdm bar (/usr/bin/python3) is read to the end', async () => {
  const script = 'import time\nfrom tqdm import tqdm\nfor _ in tqdm(range(120), desc="Rendering"):\n    time.sleep(0.01)\n';
  const run = await runUnderPty('python-tqdm', ['/usr/bin/python3', '-c', script]);
  assertReadsToTheEnd('tqdm', run, null);
  assert.is(run.updates.at(-1)!.detail.step, 120);
  assert.is(run.updates.at(-1)!.detail.totalSteps, 120);
});

test('a job pattern reads a script that prints its own format', async () => {
  const script = 'for i in $(seq 1 40); do echo "rendered tile $i of 40"; sleep 0.01; done';
  const job = aJob('pattern', { command: ['sh', '-c', script], cwd: dir.path });
  const run = startEncoder(job, { spawn: spawnPty, graceMs: 1000, baseEnv: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, tag: `bench/${job.id}/1` });
  const updates = lastValueFrom(
    run.chunks.pipe(
      splitRecordBatches(),
      readProgress({ parse: createParser({ parser: 'pattern', pattern: 'tile (?<current>\\d+) of (?<total>\\d+)' }), known: { totalFrames: null }, nowMs: Date.now, startMs: Date.now() }),
      toArray(),
    ),
  );
  await run.exited;
  const all = await updates;
  // One update per read (the lines of 40 ms come as one), each the pattern's count of 40.
  assert.ok(all.length >= 2 && all.length <= 40, `${all.length} updates`);
  for (const update of all) assert.ok(Number.isInteger(update.fields.progress! / 2.5), `${update.fields.progress} % is a count of 40`);
  assert.is(all.at(-1)!.fields.progress, 100);
});

test.after(() => dir.remove());

test.run();

// ETA accuracy on a real encode whose speed changes midway: x264 encodes 12 s of a clean test
// pattern (fast) followed by 12 s of the same pattern under heavy noise (several times slower).
// The change comes at two thirds of the frames, so every checkpoint sees a different speed mix. At the moments the work passes 25, 50 and 75 %, the
// ETA that encsup's estimator gives and the one x264 prints are compared with the time that really
// remained. Median |error| over the runs; x264's own ETA is the baseline in the same process.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { splitRecords } from '../src/progress/lines.js';
import { createParser } from '../src/progress/parsers/index.js';
import { readProgress } from '../src/progress/pipeline.js';
import { startEncoder } from '../src/runner/encoder-run.js';
import { spawnPty } from '../src/runner/pty.js';
import { mediaToolPath } from '../src/media/binaries.js';
import { newJobRecord } from '../src/jobs/submission.js';

const quick = process.argv.includes('--quick');
const runs = quick ? 1 : 3;
const size = quick ? '640x360' : '960x540';
const CHECKPOINTS = [25, 50, 75];
const dir = mkdtempSync(join(tmpdir(), 'encsup-bench-eta-'));
const clip = join(dir, 'changing.y4m');
const ffmpeg = mediaToolPath('ffmpeg');
execFileSync(ffmpeg, [
  '-hide_banner', '-loglevel', 'error', '-y',
  '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=24:duration=12`,
  '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=24:duration=12`,
  '-filter_complex', '[1:v]noise=alls=40:allf=t+u[n];[0:v][n]concat=n=2:v=1[v]', '-map', '[v]', '-pix_fmt', 'yuv420p', clip,
]);

interface Observation {
  atMs: number;
  percent: number;
  ours: number | null;
  encoders: number | null;
}

async function encodeOnce(): Promise<{ observations: Observation[]; endMs: number }> {
  const job = newJobRecord({ command: ['x264', '--preset', 'slow', '--threads', '1', '-o', join(dir, 'out.264'), clip] }, 'bench', new Date().toISOString(), dir);
  const startMs = Date.now();
  const run = startEncoder(job, { spawnPty, graceMs: 1000, baseEnv: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } });
  const updates = lastValueFrom(
    run.chunks.pipe(splitRecords(), readProgress({ parse: createParser({ parser: 'auto' }), known: { totalFrames: null }, nowMs: Date.now, startMs }), toArray()),
  );
  const observations: Observation[] = [];
  const all = await updates;
  await run.exited;
  const endMs = Date.now();
  // Each update is stamped with its run time by the pipeline; x264's own estimate rides along.
  for (const update of all) observations.push({ atMs: startMs + update.runSeconds * 1000, percent: update.fields.progress, ours: update.fields.etaSeconds, encoders: update.detail.encoderEtaSeconds });
  if (process.env['ENCSUP_BENCH_TRACE']) for (const o of observations) console.log(((o.atMs - startMs) / 1000).toFixed(1), o.percent, o.ours, o.encoders);
  return { observations, endMs };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.floor((sorted.length - 1) / 2)]!;
};

const errors: Record<number, { ours: number[]; encoder: number[] }> = Object.fromEntries(CHECKPOINTS.map((c) => [c, { ours: [], encoder: [] }]));
let wall = 0;
for (let i = 0; i < runs; i++) {
  const { observations, endMs } = await encodeOnce();
  wall = (endMs - observations[0]!.atMs) / 1000;
  for (const checkpoint of CHECKPOINTS) {
    const at = observations.find((o) => o.percent >= checkpoint);
    if (!at || at.ours === null || at.encoders === null) continue;
    const remaining = (endMs - at.atMs) / 1000;
    errors[checkpoint]!.ours.push(Math.abs(at.ours! - remaining));
    errors[checkpoint]!.encoder.push(Math.abs(at.encoders! - remaining));
  }
}
rmSync(dir, { recursive: true, force: true });

const results = CHECKPOINTS.map((checkpoint) => {
  const ours = median(errors[checkpoint]!.ours);
  const encoder = median(errors[checkpoint]!.encoder);
  return { name: `eta-error-at-${checkpoint}pct`, value: round(ours), unit: 's', baseline: round(encoder), ratio: round(ours / encoder) };
});
console.log(`ETA accuracy: x264 --preset slow, 576 frames at ${size} whose second half encodes several times slower (${runs} run(s), about ${wall.toFixed(0)} s each)\n`);
console.log('| figure | encsup | x264 own ETA (baseline) | ratio |');
console.log('| --- | --- | --- | --- |');
const shown = (value: number, unit = ' s') => (Number.isNaN(value) ? 'no estimate yet' : `${value}${unit}`);
for (const r of results) console.log(`| median abs ETA error at ${r.name.match(/\d+/)![0]} % | ${shown(r.value)} | ${shown(r.baseline)} | ${shown(r.ratio, '')} |`);
writeFileSync(new URL('./eta-results.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

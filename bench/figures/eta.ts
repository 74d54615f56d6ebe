// 7. ETA accuracy on a real encode whose speed changes midway: x264 encodes a clean test pattern
// (fast) followed by the same pattern under heavy noise (several times slower). When the work passes
// 25, 50 and 75 %, encsup's ETA and the one x264 prints are compared with the time that really
// remained: median |error| over the runs, x264's own ETA as the baseline.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { newJobRecord } from '../../src/jobs/submission.js';
import { mediaToolPath } from '../../src/media/binaries.js';
import { splitRecordBatches } from '../../src/progress/lines.js';
import { createParser } from '../../src/progress/parsers/index.js';
import { readProgress } from '../../src/progress/pipeline.js';
import { startEncoder } from '../../src/runner/encoder-run.js';
import { spawnPty } from '../../src/runner/pty.js';
import { type Figure, figure } from '../lib.js';

const CHECKPOINTS = [25, 50, 75];

interface Observation {
  atMs: number;
  percent: number;
  ours: number | null;
  encoders: number | null;
}

async function encodeOnce(clip: string, dir: string): Promise<{ observations: Observation[]; endMs: number }> {
  const job = newJobRecord({ command: ['x264', '--preset', 'slow', '--threads', '1', '-o', join(dir, 'eta.264'), clip] }, 'eta', new Date().toISOString(), dir);
  const startMs = Date.now();
  const run = startEncoder(job, { spawn: spawnPty, graceMs: 1000, baseEnv: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, tag: `bench/${job.id}/1` });
  const updates = await lastValueFrom(
    run.chunks.pipe(splitRecordBatches(), readProgress({ parse: createParser({ parser: 'auto' }), known: { totalFrames: null }, nowMs: Date.now, startMs }), toArray()),
  );
  await run.exited;
  const endMs = Date.now();
  return {
    observations: updates.map((u) => ({ atMs: startMs + u.runSeconds * 1000, percent: u.fields.progress ?? 0, ours: u.fields.etaSeconds, encoders: u.detail.encoderEtaSeconds })),
    endMs,
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor((sorted.length - 1) / 2)]!;
};

export async function etaAccuracy(quick: boolean, dir: string): Promise<Figure[]> {
  const runs = quick ? 1 : 3;
  const [size, seconds] = quick ? ['480x270', 8] : ['960x540', 12];
  const clip = join(dir, 'changing.y4m');
  execFileSync(mediaToolPath('ffmpeg'), [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=24:duration=${seconds}`,
    '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=24:duration=${seconds}`,
    '-filter_complex', '[1:v]noise=alls=40:allf=t+u[n];[0:v][n]concat=n=2:v=1[v]', '-map', '[v]', '-pix_fmt', 'yuv420p', clip,
  ]);
  const errors: Record<number, { ours: number[]; encoder: number[] }> = Object.fromEntries(CHECKPOINTS.map((c) => [c, { ours: [], encoder: [] }]));
  for (let i = 0; i < runs; i++) {
    const { observations, endMs } = await encodeOnce(clip, dir);
    for (const checkpoint of CHECKPOINTS) {
      const at = observations.find((o) => o.percent >= checkpoint);
      if (!at || at.ours === null || at.encoders === null) continue;
      const remaining = (endMs - at.atMs) / 1000;
      errors[checkpoint]!.ours.push(Math.abs(at.ours - remaining));
      errors[checkpoint]!.encoder.push(Math.abs(at.encoders - remaining));
    }
  }
  return CHECKPOINTS.map((checkpoint) =>
    figure(`median abs. ETA error at ${checkpoint} % (x264 slow, ${size}, speed drops at 50 %)`, median(errors[checkpoint]!.ours), 's', median(errors[checkpoint]!.encoder), "x264's own ETA, same run"),
  );
}

// ffprobe of a job's input before its encode starts, so the percentage is known from the first
// line even for encoders that print no total. Best effort: a probe that fails leaves totals unknown.
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { KnownTotals } from '../progress/progress-state.js';

const run = promisify(execFile);

/** A command's inputs as files, resolved against the job's folder; null for one that is no file
 * (a pipe, a device, a URL). */
export function inputsOf(inputs: readonly string[], cwd: string): (string | null)[] {
  return inputs.map((input) => (input === '-' || (input.includes(':') && !isAbsolute(input)) ? null : isAbsolute(input) ? input : resolve(cwd, input)));
}

/** Every input's length (null where unknown) and the first one's frame rate. */
export async function probeInputs(paths: readonly (string | null)[], ffprobe: string): Promise<{ inputDurations: (number | null)[]; frameRate: number | null } | null> {
  if (paths.length === 0) return null;
  const probed = await Promise.all(paths.map((path) => (path === null ? null : probeTotals(path, ffprobe))));
  if (probed.every((each) => each === null)) return null;
  return { inputDurations: probed.map((each) => each?.durationSeconds ?? null), frameRate: probed[0]?.frameRate ?? null };
}

interface ProbeOutput {
  streams?: { codec_type?: string; avg_frame_rate?: string; nb_frames?: string }[];
  format?: { duration?: string };
}

export async function probeTotals(path: string, ffprobe: string, timeoutMs = 10_000): Promise<Omit<KnownTotals, 'totalFrames'> | null> {
  try {
    if (!(await stat(path)).isFile()) return null;
    const { stdout } = await run(ffprobe, ['-v', 'error', '-show_entries', 'stream=codec_type,avg_frame_rate,nb_frames:format=duration', '-of', 'json', path], { timeout: timeoutMs });
    const probed = JSON.parse(stdout) as ProbeOutput;
    const video = probed.streams?.find((stream) => stream.codec_type === 'video');
    const [num, den] = (video?.avg_frame_rate ?? '').split('/').map(Number);
    const duration = Number(probed.format?.duration);
    return {
      durationSeconds: Number.isFinite(duration) && duration > 0 ? duration : null,
      frameRate: num && den ? num / den : null,
    };
  } catch {
    return null;
  }
}

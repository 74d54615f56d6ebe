// ffprobe of a job's input before its encode starts, so the percentage is known from the first
// line even for encoders that print no total. Best effort: a probe that fails leaves totals unknown.
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Job } from '../../machines/job-record.js';
import { shellCommands } from '../progress/encode-plan.js';
import type { KnownTotals } from '../progress/progress-state.js';

const run = promisify(execFile);

/**
 * Every `-i FILE` / `--input FILE` of the command (of its last encoder run, for a shell line),
 * resolved against the job's folder; null for an input that is no file (a pipe, a device, a URL).
 */
export function inputsOf(job: Pick<Job, 'command' | 'cwd' | 'shell'>): (string | null)[] {
  const runs = job.shell ? shellCommands(job.command.join(' ')) : [[...job.command]];
  const argv = runs.filter((each) => each.some((arg) => arg === '-i' || arg === '--input')).at(-1) ?? [];
  const inputs: (string | null)[] = [];
  argv.forEach((arg, index) => {
    if (arg !== '-i' && arg !== '--input') return;
    const input = argv[index + 1];
    inputs.push(!input || input === '-' || (input.includes(':') && !isAbsolute(input)) ? null : isAbsolute(input) ? input : resolve(job.cwd, input));
  });
  return inputs;
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

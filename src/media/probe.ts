// ffprobe of a job's input before its encode starts, so the percentage is known from the first
// line even for encoders that print no total. Best effort: a probe that fails leaves totals unknown.
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Job } from '../../machines/job-record.js';
import type { KnownTotals } from '../progress/progress-state.js';

const run = promisify(execFile);

/** The first `-i FILE` / `--input FILE` of the command, resolved against the job's folder. */
export function inputOf(job: Pick<Job, 'command' | 'cwd'>): string | null {
  const index = job.command.findIndex((arg) => arg === '-i' || arg === '--input');
  const input = index >= 0 ? job.command[index + 1] : undefined;
  if (!input || input === '-' || input.includes(':') && !isAbsolute(input)) return null;
  return isAbsolute(input) ? input : resolve(job.cwd, input);
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

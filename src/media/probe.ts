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

// Inputs that are not files: lavfi graphs, URLs and protocols (pipe:, http:, concat:), stdin,
// image sequences (%03d) and globs.
function isFileInput(arg: string, format: string | undefined): boolean {
  if (format === 'lavfi' || arg === '-' || /^[a-z][a-z0-9+.-]*:/i.test(arg)) return false;
  return !/[%*?[]/.test(arg);
}

/** The files a command reads with -i / --input, as the daemon's machine would see them. */
export function inputFiles(command: readonly string[], cwd: string): string[] {
  const files: string[] = [];
  command.forEach((arg, index) => {
    if (arg !== '-i' && arg !== '--input') return;
    const value = command[index + 1];
    const format = command[index - 2] === '-f' ? command[index - 1] : undefined;
    if (value !== undefined && isFileInput(value, format)) files.push(value);
  });
  return inputsOf(files, cwd).filter((path): path is string => path !== null);
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

// Finalizing's check of a job's output, so a job is never done on a broken file: it must exist and
// hold bytes; and unless the job says `validate: false` (image sequences, archives), ffprobe must
// read it, find at least one stream, and, where the expected duration is known, a duration within
// the tolerance of it. Each failure is a sentence that says which check failed.
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { Job } from '../../machines/job-record.js';

const run = promisify(execFile);

export interface OutputCheckOptions {
  /** null when no ffprobe is available: only existence and size are checked. */
  ffprobe: string | null;
  /** Allowed difference from the expected duration, in percent. */
  durationTolerancePct: number;
}

type CheckedJob = Pick<Job, 'output' | 'validate' | 'expectedDurationSeconds'>;

export async function checkOutput(job: CheckedJob, options: OutputCheckOptions): Promise<void> {
  if (job.output === null) return;
  let size: number;
  try {
    size = (await stat(job.output)).size;
  } catch {
    throw new Error(`output ${job.output} does not exist`);
  }
  if (size === 0) throw new Error(`output ${job.output} is empty`);
  if (!job.validate || options.ffprobe === null) return;
  const media = await probeOutput(job.output, options.ffprobe);
  if (media.streams === 0) throw new Error(`output ${job.output} holds no audio or video stream`);
  const expected = job.expectedDurationSeconds;
  if (expected && media.durationSeconds !== null) {
    const off = (Math.abs(media.durationSeconds - expected) / expected) * 100;
    if (off > options.durationTolerancePct) {
      throw new Error(
        `output ${job.output} lasts ${media.durationSeconds.toFixed(2)} s, ${off.toFixed(1)} % off the expected ${expected.toFixed(2)} s (tolerance ${options.durationTolerancePct} %): truncated?`,
      );
    }
  }
}

async function probeOutput(path: string, ffprobe: string): Promise<{ streams: number; durationSeconds: number | null }> {
  try {
    const { stdout } = await run(ffprobe, ['-v', 'error', '-show_entries', 'stream=index:format=duration', '-of', 'json', path], { timeout: 30_000 });
    const probed = JSON.parse(stdout) as { streams?: unknown[]; format?: { duration?: string } };
    const duration = Number(probed.format?.duration);
    return { streams: probed.streams?.length ?? 0, durationSeconds: Number.isFinite(duration) ? duration : null };
  } catch (error) {
    const detail = ((error as { stderr?: string }).stderr ?? (error as Error).message).trim().split('\n').at(-1);
    throw new Error(`output ${path} cannot be read as media by ffprobe: ${detail}`);
  }
}

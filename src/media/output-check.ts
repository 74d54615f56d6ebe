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
  // A file cut short keeps the header of the whole (mkv, a copied mp4 with its moov first): its
  // last packets must reach near the length the header gives.
  if (media.durationSeconds !== null && media.durationSeconds > 0) {
    const reached = await lastPacketSeconds(job.output, options.ffprobe, media.durationSeconds);
    const slack = Math.max(1, (media.durationSeconds * options.durationTolerancePct) / 100);
    if (reached !== null && reached < media.durationSeconds - slack) {
      throw new Error(`output ${job.output} holds ${reached.toFixed(2)} s of the ${media.durationSeconds.toFixed(2)} s its header gives: truncated`);
    }
  }
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

/**
 * Where the file's packets end, read from near the end only (a few seconds before where the header
 * says it ends), so a two-hour output costs what its last seconds do. 0 when nothing is there;
 * null when ffprobe cannot tell.
 */
async function lastPacketSeconds(path: string, ffprobe: string, headerSeconds: number): Promise<number | null> {
  const from = Math.max(0, headerSeconds - 10);
  try {
    const { stdout } = await run(ffprobe, ['-v', 'error', '-read_intervals', `${from.toFixed(3)}%`, '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', path], { timeout: 30_000 });
    const lines = stdout.split('\n').map((line) => line.split(',')[0]!.trim()).filter((line) => line !== '');
    const times = lines.map(Number).filter((time) => Number.isFinite(time));
    // Packets without timestamps say nothing either way.
    if (times.length === 0) return lines.length === 0 ? 0 : null;
    return times.reduce((latest, time) => Math.max(latest, time), 0);
  } catch {
    return null;
  }
}

// Outputs that appear whole or not at all: a job whose command writes to `{output}` gets a
// temporary name beside its output (same folder, so the same filesystem, and the same extension,
// so the encoder picks the same format); encsup renames it into place only once finalizing has
// checked it, and removes it (or keeps it aside, --keep-failed-outputs) when the attempt fails.
// The output's path never holds a half-written file. Jobs that name their output themselves keep
// writing it in place.
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { Job } from '../../machines/job-record.js';

export const OUTPUT_PLACEHOLDER = '{output}';

type StagedJob = Pick<Job, 'id' | 'command' | 'output' | 'attempts'>;

/** True when the job writes its output through the placeholder (and so through a staging name). */
export function writesStaged(job: Pick<Job, 'command' | 'output'>): boolean {
  return job.output !== null && job.command.some((arg) => arg.includes(OUTPUT_PLACEHOLDER));
}

/** This attempt's temporary name: hidden, beside the output, with the output's extension. */
export function stagingPath(job: StagedJob): string {
  const output = job.output!;
  const extension = extname(output);
  return join(dirname(output), `.${basename(output, extension)}.encsup-${job.id}-${job.attempts}${extension}`);
}

/** The command with the placeholder replaced by the staging name (quoted for a shell line). */
export function substituteOutput(command: readonly string[], shell: boolean, path: string): string[] {
  const value = shell ? `'${path.replaceAll("'", `'\\''`)}'` : path;
  return command.map((arg) => arg.replaceAll(OUTPUT_PLACEHOLDER, value));
}

/**
 * Finalizing for a staged output: `check` the temporary file, then rename it into place (atomic
 * on one filesystem). A check that fails leaves nothing at the output's path.
 */
export async function publishStaged(job: StagedJob, check: (path: string) => Promise<void>, keepFailed: boolean): Promise<void> {
  const staged = stagingPath(job);
  try {
    await check(staged);
  } catch (error) {
    await discardStaged(job, keepFailed);
    throw error;
  }
  await rename(staged, job.output!);
}

/** After a failed attempt: the temporary file removed, or kept aside under a name that says so. */
export async function discardStaged(job: StagedJob, keepFailed: boolean): Promise<void> {
  const staged = stagingPath(job);
  if (keepFailed) {
    const extension = extname(staged);
    await rename(staged, `${staged.slice(0, -extension.length || undefined)}.failed${extension}`).catch(() => undefined);
  } else {
    await rm(staged, { force: true });
  }
}

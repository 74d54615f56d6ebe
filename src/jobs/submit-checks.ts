// Mistakes refused at submit, not retried three times: a program that is not on the daemon's
// PATH, an input that does not exist, an external job's output that no folder of the daemon's
// covers (nothing would ever report it complete). Each is a 400 naming what is wrong.
import { existsSync } from 'node:fs';
import type { Job } from '../../machines/job-record.js';
import { inputFiles } from '../media/probe.js';
import { findProgram } from '../runner/find-program.js';
import type { ValidationProblem } from '../validation-problem.js';

export interface SubmitCheckOptions {
  /** The PATH encoders start with (the daemon's, under the job's own). */
  path: string;
  /** Whether a watched or report folder covers this output path. */
  coversOutput: (path: string) => boolean;
  /** false: inputs that do not exist yet are accepted (another job makes them). */
  checkInputs: boolean;
}

export function checkRunnable(job: Job, options: SubmitCheckOptions): ValidationProblem | null {
  if (job.external) {
    if (job.output !== null && !options.coversOutput(job.output)) {
      return { field: 'output', message: `output: no watched folder (--watch) or report folder (--report-dir) of this daemon covers ${job.output}, so nothing would ever report it complete` };
    }
    return null;
  }
  // A shell line's programs are the shell's business; the shell itself must be there.
  const program = job.shell ? '/bin/sh' : job.command[0];
  if (program === undefined) return null;
  if (findProgram(program, job.cwd, job.env['PATH'] ?? options.path) === null) {
    return { field: 'command', message: `command: ${program} is not a program on the daemon's machine (${program.includes('/') ? 'no executable file there' : "not found on the daemon's PATH"})` };
  }
  if (options.checkInputs && !job.shell) {
    const missing = inputFiles(job.command, job.cwd).find((file) => !existsSync(file));
    if (missing) return { field: 'command', message: `command: the input ${missing} does not exist on the daemon's machine (submit with checkInputs: false if another job makes it)` };
  }
  return null;
}

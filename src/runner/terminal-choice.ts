// Whether a job's encoder gets a terminal. Encoders and render scripts print live progress only to
// one (ffmpeg and x264 redraw a status line; Python buffers its output on a pipe until it exits),
// so `auto` gives them a pty, and gives one to anything that may run them: an interpreter, a shell,
// a script. A program known to be neither (a compiled tool such as `convert` or `true`) runs on
// plain pipes: no terminal to allocate and no drain to wait out, most of a short job's cost.
import { basename } from 'node:path';
import type { Job } from '../../machines/job-record.js';
import { shellCommands } from '../progress/encode-plan.js';

// Program names (or how they start: ffmpeg-7, python3.11, x265-10bit) that need a terminal.
const NEEDS_TERMINAL = /^(ffmpeg|HandBrakeCLI|x264|x265|SvtAv1EncApp|rav1e|aomenc|vpxenc|av1an|NVEncC|QSVEncC|VCEEncC|blender|gifski|python|pypy|uv|conda|accelerate|node|deno|bun|ruby|perl|sh|bash|dash|zsh|fish|ksh)$|^(ffmpeg|x26[45]|python|pypy|NVEncC)[-.\d]/i;
// Scripts run whatever they contain.
const SCRIPT = /\.(sh|bash|py|js|mjs|ts|rb|pl)$/i;
// A wrapper that runs the program named after it: that program decides.
const WRAPPERS = new Set(['env', 'nice', 'ionice', 'taskset', 'chrt', 'stdbuf', 'timeout', 'time', 'nohup', 'sudo', 'exec', 'xvfb-run', 'command']);

/** What is known of a program file: a compiled executable, a script (`#!`), or not found. */
export type ProgramKind = 'binary' | 'script' | 'unknown';

/**
 * Whether the job runs under a pty. `kindOf` looks at the program file (PATH resolved by the
 * caller): only a compiled program that no list names goes on pipes under `auto`.
 */
export function usesTerminal(job: Pick<Job, 'terminal' | 'command' | 'shell'>, kindOf: (program: string) => ProgramKind): boolean {
  if (job.terminal !== 'auto') return job.terminal === 'pty';
  if (job.shell) {
    // A shell line: any word that names an encoder, interpreter or script, or a line that cannot
    // be read into commands, keeps the terminal.
    const runs = shellCommands(job.command.join(' '));
    return runs.length === 0 || runs.flat().some((word) => NEEDS_TERMINAL.test(basename(word)) || SCRIPT.test(word));
  }
  const program = programOf(job.command);
  if (program === '' || NEEDS_TERMINAL.test(basename(program)) || SCRIPT.test(program)) return true;
  return kindOf(program) !== 'binary';
}

/** The program a command runs, past wrappers, their options and `VAR=value` assignments. */
export function programOf(argv: readonly string[]): string {
  let wrapped = false;
  for (const word of argv) {
    if (wrapped && (word.startsWith('-') || /^[A-Za-z_][A-Za-z0-9_]*=/.test(word) || /^\d+(\.\d+)?[smhd]?$/.test(word))) continue;
    if (WRAPPERS.has(basename(word))) {
      wrapped = true;
      continue;
    }
    return word;
  }
  return '';
}

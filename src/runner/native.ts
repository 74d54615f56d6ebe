// The daemon's own native part (native/posix-spawn.c), built by `npm ci`: posix_spawn for jobs on
// pipes and in terminals. Null where it was not built (no compiler, not Linux, glibc before 2.34):
// the callers fall back, or say what is not covered.
import { createRequire } from 'node:module';
import { packageFile } from '../encsup-package.js';

export interface NativeProcesses {
  /** [readEnd, writeEnd], both close-on-exec. */
  pipe(): [number, number];
  /** The pid of a new session leader running `path` with stdio on the three descriptors, and no other. */
  spawn(path: string, argv: string[], envp: string[], cwd: string, stdin: number, stdout: number, stderr: number): number;
  /**
   * [pid, master, holder]: the program in a new terminal of that size (its stdin, stdout, stderr and
   * controlling terminal), leading a session of its own, as spawn's; the terminal's master, and its
   * program side held open here, both close-on-exec.
   */
  spawnInTerminal(path: string, argv: string[], envp: string[], cwd: string, columns: number, rows: number): [number, number, number];
  /** null while it runs; its exit code or its signal's number once it has ended (and is reaped). */
  reap(pid: number): [number, null] | [null, number] | null;
}

function load(): NativeProcesses | null {
  if (process.platform !== 'linux') return null;
  const path = packageFile('build', 'Release', 'posix_spawn.node');
  if (path === null) return null;
  try {
    return createRequire(import.meta.url)(path) as NativeProcesses;
  } catch {
    return null; // built for another Node or machine: the callers fall back
  }
}

export const nativeProcesses: NativeProcesses | null = load();

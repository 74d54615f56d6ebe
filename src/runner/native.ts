// The daemon's own native part (native/posix-spawn.c), built by `npm ci`: posix_spawn for jobs on
// pipes and in terminals. Null where it was not built (no compiler, not Linux, glibc before 2.34):
// the callers fall back, or say what is not covered.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
  const require = createRequire(import.meta.url);
  // The package's build/, found by walking up from this module: from the sources (src/runner), the
  // build (dist/src/runner) and the bundled executable (dist/bin) alike.
  let folder = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 5; up++) {
    const candidate = join(folder, 'build', 'Release', 'posix_spawn.node');
    if (existsSync(candidate)) {
      try {
        return require(candidate) as NativeProcesses;
      } catch {
        return null; // built for another Node or machine: the callers fall back
      }
    }
    folder = dirname(folder);
  }
  return null;
}

export const nativeProcesses: NativeProcesses | null = load();

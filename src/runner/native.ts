// The daemon's own native part (native/posix-spawn.c), built by `npm ci`: posix_spawn for jobs on
// pipes, and close-on-exec for descriptors made without it. Null where it was not built (no
// compiler, not Linux, glibc before 2.34): the callers fall back, or say what is not covered.
import { createRequire } from 'node:module';

export interface NativeProcesses {
  /** [readEnd, writeEnd], both close-on-exec. */
  pipe(): [number, number];
  /** The pid of a new session leader running `path` with stdio on the three descriptors, and no other. */
  spawn(path: string, argv: string[], envp: string[], cwd: string, stdin: number, stdout: number, stderr: number): number;
  /** null while it runs; its exit code or its signal's number once it has ended (and is reaped). */
  reap(pid: number): [number, null] | [null, number] | null;
  closeOnExec(fd: number): void;
}

function load(): NativeProcesses | null {
  if (process.platform !== 'linux') return null;
  const require = createRequire(import.meta.url);
  // From src/runner (sources) or dist/src/runner (built): the package's build/ either way.
  for (const path of ['../../build/Release/posix_spawn.node', '../../../build/Release/posix_spawn.node']) {
    try {
      return require(path) as NativeProcesses;
    } catch {
      // Not built there (or not loadable here): the next place.
    }
  }
  return null;
}

export const nativeProcesses: NativeProcesses | null = load();

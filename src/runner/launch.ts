// How a job on pipes is started: a process, its two output streams and its exit, through one of
// two launchers. posix_spawn (native/posix-spawn.c) where it was built: no copy of the daemon's page
// tables per job, which is most of what starting a short job costs. child_process.spawn otherwise.
// Both start the child as a session leader (its pid is its group's), stdin on /dev/null.
// posix_spawn gives stdout and stderr one pipe, as a terminal is one: the two arrive in the order
// they were written, and a short job pays for one pipe and one stream instead of two.
import { spawn } from 'node:child_process';
import { closeSync, openSync, statSync } from 'node:fs';
import { Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { findProgram } from './find-program.js';
import type { ProcessExit, SpawnOptions } from './child-process.js';
import { type NativeProcesses, nativeProcesses } from './native.js';
import { whenReaped } from './reaper.js';

export interface LaunchedProcess {
  pid: number;
  /** What it prints: stdout and stderr, as one stream or two. */
  output: Readable[];
  /** Once, when the process has exited (its streams may stay open: something it left holds them). */
  onExit(listener: (exit: ProcessExit) => void): void;
}

/** Starts the program; throws, naming it, when it cannot be started. */
export type Launch = (file: string, args: string[], options: SpawnOptions) => LaunchedProcess;

/** Why a program did not start: its folder first, which both launchers would report as the program's ENOENT. */
function cannotRun(file: string, options: SpawnOptions, why: string): string {
  return `cannot run ${file}: ${isFolder(options.cwd) ? why : `its folder ${options.cwd} does not exist`}`;
}

function isFolder(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

export const launchWithChildProcess: Launch = (file, args, options) => {
  const child = spawn(file, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  // Heard so that it never goes unhandled; a failed start is thrown below, where it is known.
  child.on('error', () => undefined);
  // A program that cannot be started (not found, not executable) has no pid, and no group to end.
  if (child.pid === undefined) throw new Error(cannotRun(file, options, 'not found, or not executable'));
  return {
    pid: child.pid,
    output: [child.stdout, child.stderr],
    onExit: (listener) => void child.once('exit', (exitCode, signal) => listener({ exitCode: signal ? null : exitCode, signal })),
  };
};

let devNull: number | null = null;

/** execvp's search: a name with no slash is looked for on the child's PATH (as at submit). */
function programPath(file: string, options: SpawnOptions): string | null {
  const found = findProgram(file, options.cwd, options.env['PATH'] ?? '/usr/bin:/bin');
  return found === null ? null : resolve(options.cwd, found);
}

/**
 * Starts the program through `start` (a posix_spawn) as execvp would: a name without a slash is
 * looked for on the child's PATH, and a file the kernel cannot run (ENOEXEC: a script with no `#!`
 * line) is run by /bin/sh, as shells, xargs, child_process and node-pty do. Throws, naming the
 * program and what is wrong.
 */
export function spawnAsExecvp<T>(file: string, args: string[], options: SpawnOptions, start: (path: string, argv: string[], envp: string[]) => T): T {
  const envp = Object.entries(options.env).map(([name, value]) => `${name}=${value}`);
  // As child_process refuses them: C strings end at the first NUL, so the child would get less.
  if ([file, options.cwd, ...args, ...envp].some((text) => text.includes('\0'))) throw new Error(`cannot run ${file}: its command, folder or environment holds a NUL character`);
  const path = programPath(file, options);
  if (path === null) throw new Error(cannotRun(file, options, 'not found, or not executable'));
  try {
    try {
      return start(path, [file, ...args], envp);
    } catch (error) {
      if ((error as { errno?: number }).errno !== osConstants.errno.ENOEXEC) throw error;
      return start('/bin/sh', ['/bin/sh', path, ...args], envp);
    }
  } catch (error) {
    throw new Error(cannotRun(file, options, (error as Error).message.replace(/^posix_spawn: /, '')));
  }
}

function launchWithPosixSpawn(native: NativeProcesses): Launch {
  return (file, args, options) => {
    devNull ??= openSync('/dev/null', 'r');
    const input = devNull;
    const [reading, writing] = native.pipe();
    let pid: number;
    try {
      pid = spawnAsExecvp(file, args, options, (path, argv, envp) => native.spawn(path, argv, envp, options.cwd, input, writing, writing));
    } catch (error) {
      closeSync(reading);
      throw error;
    } finally {
      // The child has its own copies of the write end, or there is no child.
      closeSync(writing);
    }
    const exits: ((exit: ProcessExit) => void)[] = [];
    let exit: ProcessExit | null = null;
    whenReaped(native, pid, (ended) => {
      exit = ended;
      for (const listener of exits.splice(0)) listener(ended);
    });
    return {
      pid,
      output: [new Socket({ fd: reading, readable: true, writable: false })],
      onExit: (listener) => {
        if (exit !== null) listener(exit);
        else exits.push(listener);
      },
    };
  };
}

/** posix_spawn where the addon was built (tests hold both launchers to one contract), else child_process.spawn. */
export const launchWithPosixSpawnIfBuilt: Launch | null = nativeProcesses ? launchWithPosixSpawn(nativeProcesses) : null;
export const launchForPipes: Launch = launchWithPosixSpawnIfBuilt ?? launchWithChildProcess;
export const launchedBy: 'posix_spawn' | 'child_process' = launchWithPosixSpawnIfBuilt ? 'posix_spawn' : 'child_process';

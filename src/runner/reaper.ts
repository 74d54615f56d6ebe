// Exits of the processes the daemon started through posix_spawn (native/posix-spawn.c), jobs on
// pipes and in terminals alike: told by SIGCHLD and read with waitpid on each pid, as libuv and
// node-pty read their own children's: never waitpid(-1), which would take theirs.
import { constants as osConstants } from 'node:os';
import { type ProcessExit, signalName } from './child-process.js';
import type { NativeProcesses } from './native.js';

/** The processes not yet reaped, and who to tell. */
const running = new Map<number, (exit: ProcessExit) => void>();
let reaper: NodeJS.Timeout | null = null;
let listening = false;
// A SIGCHLD can stand for several exits; each of ours is asked. The timer holds the event loop open
// while any runs (a signal listener does not), and reaps what a lost signal would leave.
const REAP_EVERY_MS = 1000;

/**
 * Tells `listener` once when the process has exited (and is reaped). Called on the main thread right
 * after the spawn, so no SIGCHLD of this process can be handled before it is known here.
 */
export function whenReaped(native: NativeProcesses, pid: number, listener: (exit: ProcessExit) => void): void {
  if (!listening) {
    process.on('SIGCHLD', () => reapExited(native));
    listening = true;
  }
  running.set(pid, listener);
  reaper ??= setInterval(() => reapExited(native), REAP_EVERY_MS);
}

function reapExited(native: NativeProcesses): void {
  for (const [pid, tell] of running) {
    let status: ReturnType<NativeProcesses['reap']>;
    try {
      status = native.reap(pid);
    } catch {
      status = [null, osConstants.signals.SIGKILL]; // no longer ours to wait for (ECHILD): gone
    }
    if (status === null) continue;
    running.delete(pid);
    tell(status[0] !== null ? { exitCode: status[0], signal: null } : { exitCode: null, signal: signalName(status[1]!, osConstants.signals) });
  }
  if (running.size === 0 && reaper !== null) {
    clearInterval(reaper);
    reaper = null;
  }
}

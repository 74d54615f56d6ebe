// Ending an encoder: SIGTERM to its whole process group (children of a shell or a wrapper too),
// SIGKILL to whatever of the group is left after the grace period.

export interface TerminateOptions {
  graceMs: number;
  /** Resolves when the encoder's leader process has exited. */
  exited: Promise<unknown>;
}

/** Sends `signal` to the group led by `pid`; false when the group no longer exists. */
export function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  // Every job ends here with a group already gone (ESRCH), which Node tells by throwing: without
  // a stack trace, that costs a few microseconds instead of 70.
  const traceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    process.kill(-pid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  } finally {
    Error.stackTraceLimit = traceLimit;
  }
}

export async function terminateGroup(pid: number, options: TerminateOptions): Promise<'terminated' | 'killed'> {
  if (!signalGroup(pid, 'SIGTERM')) return 'terminated';
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'grace-over'>((resolve) => {
    timer = setTimeout(() => resolve('grace-over'), options.graceMs);
  });
  const first = await Promise.race([options.exited.then(() => 'exited' as const), graceOver]);
  clearTimeout(timer);
  // The leader may be gone while a child it started still runs: the group decides, not the leader.
  if (first === 'exited' && !signalGroup(pid, 0)) return 'terminated';
  if (!signalGroup(pid, 'SIGKILL')) return 'terminated';
  await groupGone(pid);
  return 'killed';
}

// A KILLed process lingers until its parent reaps it; wait, so that "terminated" means gone.
const REAP_WAIT_MS = 3000;

async function groupGone(pid: number): Promise<void> {
  const deadline = Date.now() + REAP_WAIT_MS;
  while (signalGroup(pid, 0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

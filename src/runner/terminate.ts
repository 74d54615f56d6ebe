// Ending an encoder: SIGTERM to its whole process group (children of a shell or a wrapper too),
// SIGKILL to whatever of the group is left after the grace period.

export type SendSignal = (pid: number, signal: NodeJS.Signals | 0) => void;

export interface TerminateOptions {
  graceMs: number;
  /** Resolves when the encoder's leader process has exited. */
  exited: Promise<unknown>;
  sendSignal?: SendSignal;
}

/** Sends `signal` to the group led by `pid`; false when the group no longer exists. */
export function signalGroup(pid: number, signal: NodeJS.Signals | 0, sendSignal: SendSignal = process.kill): boolean {
  try {
    sendSignal(-pid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

export async function terminateGroup(pid: number, options: TerminateOptions): Promise<'terminated' | 'killed'> {
  const send = options.sendSignal ?? process.kill;
  if (!signalGroup(pid, 'SIGTERM', send)) return 'terminated';
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'grace-over'>((resolve) => {
    timer = setTimeout(() => resolve('grace-over'), options.graceMs);
  });
  const first = await Promise.race([options.exited.then(() => 'exited' as const), graceOver]);
  clearTimeout(timer);
  // The leader may be gone while a child it started still runs: the group decides, not the leader.
  if (first === 'exited' && !signalGroup(pid, 0, send)) return 'terminated';
  if (!signalGroup(pid, 'SIGKILL', send)) return 'terminated';
  await groupGone(pid, send);
  return 'killed';
}

// A KILLed process lingers until its parent reaps it; wait, so that "terminated" means gone.
const REAP_WAIT_MS = 3000;

async function groupGone(pid: number, send: SendSignal): Promise<void> {
  const deadline = Date.now() + REAP_WAIT_MS;
  while (signalGroup(pid, 0, send) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

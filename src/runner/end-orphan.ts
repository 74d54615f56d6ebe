// Ending an encoder that outlived its daemon (after a `kill -9`): only when the recorded pid is
// still the very process that was started (same start time), or when that process is gone but
// its process group lives on. A pid reused by another process is never signalled.
import { isSameProcess, processStartTicks } from './process-identity.js';
import { signalGroup, terminateGroup } from './terminate.js';

export async function endOrphan(pid: number, pidStartTicks: number | null, graceMs: number): Promise<'ended' | 'gone'> {
  if (isSameProcess(pid, pidStartTicks)) {
    await terminateGroup(pid, { graceMs, exited: whenGone(pid, pidStartTicks) });
    return 'ended';
  }
  // Another process has that pid now: the pid was reused, so the old group is long gone.
  if (processStartTicks(pid) !== null) return 'gone';
  // The leader is gone; a group id can't be reused while a member lives, so members are ours.
  if (!signalGroup(pid, 0)) return 'gone';
  await terminateGroup(pid, { graceMs, exited: Promise.resolve() });
  return 'ended';
}

function whenGone(pid: number, pidStartTicks: number | null): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (isSameProcess(pid, pidStartTicks) ? setTimeout(check, 50) : resolve());
    check();
  });
}

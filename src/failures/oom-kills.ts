// How many processes the kernel has killed for memory in the daemon's cgroup (cgroup v2
// memory.events, or v1 memory.oom_control): read before and after a run, a rise means the
// out-of-memory killer ran while it did. Null where the box does not say.
import { readFileSync } from 'node:fs';

export async function oomKillCount(): Promise<number | null> {
  // Read at every start and end of a run: files of the kernel's, never on a disk, so read at once
  // (a promise-based read costs several trips to the thread pool each).
  const cgroups = readOrNull('/proc/self/cgroup') ?? '';
  const unified = /^0::(.*)$/m.exec(cgroups)?.[1];
  const memoryV1 = /^\d+:(?:[^:]*,)?memory(?:,[^:]*)?:(.*)$/m.exec(cgroups)?.[1];
  const candidates = [
    ...(memoryV1 !== undefined ? [`/sys/fs/cgroup/memory${memoryV1}/memory.oom_control`] : []),
    ...(unified !== undefined ? [`/sys/fs/cgroup${unified}/memory.events`] : []),
  ];
  for (const file of candidates) {
    const text = readOrNull(file);
    const count = text === null ? undefined : /^oom_kill (\d+)$/m.exec(text)?.[1];
    if (count !== undefined) return Number(count);
  }
  return null;
}

function readOrNull(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

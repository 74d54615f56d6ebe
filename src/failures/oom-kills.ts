// How many processes the kernel has killed for memory in the daemon's cgroup (cgroup v2
// memory.events, or v1 memory.oom_control): read before and after a run, a rise means the
// out-of-memory killer ran while it did. Null where the box does not say.
import { readFile } from 'node:fs/promises';

export async function oomKillCount(): Promise<number | null> {
  const cgroups = await readFile('/proc/self/cgroup', 'utf8').catch(() => '');
  const unified = /^0::(.*)$/m.exec(cgroups)?.[1];
  const memoryV1 = /^\d+:(?:[^:]*,)?memory(?:,[^:]*)?:(.*)$/m.exec(cgroups)?.[1];
  const candidates = [
    ...(memoryV1 !== undefined ? [`/sys/fs/cgroup/memory${memoryV1}/memory.oom_control`] : []),
    ...(unified !== undefined ? [`/sys/fs/cgroup${unified}/memory.events`] : []),
  ];
  for (const file of candidates) {
    const text = await readFile(file, 'utf8').catch(() => null);
    const count = text === null ? undefined : /^oom_kill (\d+)$/m.exec(text)?.[1];
    if (count !== undefined) return Number(count);
  }
  return null;
}

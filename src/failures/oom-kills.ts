// How many processes the kernel has killed for memory in the daemon's cgroup (cgroup v2
// memory.events, or v1 memory.oom_control): read before and after a run, a rise means the
// out-of-memory killer ran while it did. Null where the box does not say.
import { readFileSync } from 'node:fs';

// The file that answered last: the daemon's cgroup is found once, not at every run's start (a
// read of /proc/self/cgroup and a second file each time), and looked for again if it stops
// answering.
let answered: string | null = null;

export async function oomKillCount(): Promise<number | null> {
  // Read at every start and end of a run: files of the kernel's, never on a disk, so read at once
  // (a promise-based read costs several trips to the thread pool each).
  const known = answered === null ? null : countIn(answered);
  if (known !== null) return known;
  answered = null;
  for (const file of candidateFiles()) {
    const count = countIn(file);
    if (count === null) continue;
    answered = file;
    return count;
  }
  return null;
}

function candidateFiles(): string[] {
  const cgroups = readOrNull('/proc/self/cgroup') ?? '';
  const unified = /^0::(.*)$/m.exec(cgroups)?.[1];
  const memoryV1 = /^\d+:(?:[^:]*,)?memory(?:,[^:]*)?:(.*)$/m.exec(cgroups)?.[1];
  return [
    ...(memoryV1 !== undefined ? [`/sys/fs/cgroup/memory${memoryV1}/memory.oom_control`] : []),
    ...(unified !== undefined ? [`/sys/fs/cgroup${unified}/memory.events`] : []),
  ];
}

function countIn(file: string): number | null {
  const count = /^oom_kill (\d+)$/m.exec(readOrNull(file) ?? '')?.[1];
  return count === undefined ? null : Number(count);
}

function readOrNull(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

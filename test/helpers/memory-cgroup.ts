// A memory-limited cgroup (v1 or v2) to put a daemon in, so the kernel's out-of-memory killer runs
// for real inside it. Needs root; null where cgroups cannot be made here.
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';

export interface MemoryCgroup {
  add(pid: number): void;
  remove(): void;
}

export function memoryCgroup(name: string, limitBytes: number): MemoryCgroup | null {
  const layouts = [
    { dir: `/sys/fs/cgroup/memory/${name}`, limit: 'memory.limit_in_bytes', parent: '/sys/fs/cgroup/memory' },
    { dir: `/sys/fs/cgroup/${name}`, limit: 'memory.max', parent: '/sys/fs/cgroup/cgroup.controllers' },
  ];
  for (const layout of layouts) {
    if (!existsSync(layout.parent)) continue;
    try {
      mkdirSync(layout.dir, { recursive: true });
      writeFileSync(`${layout.dir}/${layout.limit}`, String(limitBytes));
      return {
        add: (pid) => writeFileSync(`${layout.dir}/cgroup.procs`, String(pid)),
        remove: () => {
          try {
            rmdirSync(layout.dir);
          } catch {
            // still holding a process that is ending; the kernel frees it
          }
        },
      };
    } catch {
      // not allowed here
    }
  }
  return null;
}

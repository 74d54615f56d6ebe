// Small real filesystems for the disk-full and read-only cases: a tmpfs of a given size. Mounting
// needs root (CAP_SYS_ADMIN), as in CI; elsewhere the cases that need one say they were left out.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let mountable: boolean | null = null;

/** Whether this process can mount a tmpfs (tried once). */
export function canMountTmpfs(): boolean {
  if (mountable !== null) return mountable;
  const probe = mkdtempSync(join(tmpdir(), 'encsup-mount-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    mountable = true;
  } catch {
    mountable = false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
  return mountable;
}

/** Mounts a tmpfs at `path` with these options (size=…, ro); returns how to unmount it. */
export function mountTmpfs(path: string, options: string): () => void {
  mkdirSync(path, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', path]);
  return () => execFileSync('umount', ['-l', path]);
}

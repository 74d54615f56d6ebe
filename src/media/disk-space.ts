// Free space where jobs write: for the disk-full evidence of a failure, the start check
// (--min-free) and the health report.
import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Free bytes (to this user) on the filesystem that holds `path`, or its nearest existing parent; null if none can be read. */
export async function freeBytesAt(path: string): Promise<number | null> {
  for (let at = path; ; at = dirname(at)) {
    try {
      const stats = await statfs(at);
      return stats.bavail * stats.bsize;
    } catch {
      if (dirname(at) === at) return null;
    }
  }
}

// Whether a watched folder's writers are all on this machine, where /proc shows them: a local
// filesystem, unless the person said otherwise. A network share (NFS, SMB, sshfs, a cluster
// filesystem) can be written from other machines, which no process table here shows, so there a
// file is complete only once its size has held still for the stability window.
import { readFileSync } from 'node:fs';

export type FolderSharing = 'local' | 'shared';

// Filesystem types (mountinfo's field after the ` - `) that other machines can write to.
const NETWORK_TYPES = new Set(['nfs', 'nfs4', 'cifs', 'smb3', 'smbfs', 'ncpfs', '9p', 'afs', 'ceph', 'glusterfs', 'lustre', 'gpfs', 'beegfs', 'ocfs2', 'gfs2', 'orangefs', 'davfs', 'virtiofs']);
// FUSE filesystems are named `fuse.<program>`; these programs mount remote storage.
const NETWORK_FUSE = /^fuse\.(sshfs|rclone|s3fs|gcsfuse|goofys|glusterfs|ceph-fuse|cephfs|davfs2|mergerfs|juicefs|seaweedfs|geesefs|blobfuse2?|smbnetfs|lizardfs|moosefs|mfs)$/;

export function isNetworkFilesystem(type: string): boolean {
  return NETWORK_TYPES.has(type) || NETWORK_FUSE.test(type);
}

export interface Mount {
  mountPoint: string;
  type: string;
  superOptions: string;
}

/** The mounts of /proc/self/mountinfo (`id parent dev root point options [tags] - type source super`). */
export function parseMountinfo(text: string): Mount[] {
  return text.split('\n').flatMap((line) => {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 5 || fields.length < dash + 3) return [];
    return [{ mountPoint: unescapeOctal(fields[4]!), type: fields[dash + 1]!, superOptions: fields[dash + 3] ?? '' }];
  });
}

/** The mount a path lies on: the last-mounted of the longest mount points that contain it. */
export function mountOf(mounts: readonly Mount[], path: string): Mount | null {
  let best: Mount | null = null;
  for (const mount of mounts) {
    const point = mount.mountPoint;
    const inside = point === '/' || path === point || path.startsWith(`${point}/`);
    if (inside && (best === null || point.length >= best.mountPoint.length)) best = mount;
  }
  return best;
}

/**
 * How each folder is written: shared where the person listed it, where it is polled (polling is
 * for network filesystems), or where it lies on a network filesystem; local otherwise.
 */
export function folderSharing(folders: readonly string[], options: { sharedFolders: readonly string[]; polling: boolean; mounts: readonly Mount[] }): Map<string, FolderSharing> {
  return new Map(
    folders.map((folder) => {
      const listed = options.sharedFolders.some((shared) => folder === shared || folder.startsWith(`${shared}/`));
      const mount = mountOf(options.mounts, folder);
      const network = mount !== null && isNetworkFilesystem(mount.type);
      return [folder, listed || options.polling || network ? 'shared' : 'local'];
    }),
  );
}

/** This machine's mounts; none where /proc is not there to read (not Linux). */
export function readMounts(): Mount[] {
  try {
    return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
  } catch {
    return [];
  }
}

/** /proc mounted with hidepid shows a process that is not root only its own user's processes. */
export function procHidesOtherUsers(mounts: readonly Mount[], uid: number): boolean {
  const proc = mounts.findLast((mount) => mount.mountPoint === '/proc' && mount.type === 'proc');
  return uid !== 0 && proc !== undefined && /(^|,)hidepid=(1|2|invisible|noaccess)(,|$)/.test(proc.superOptions);
}

/** mountinfo writes a space in a path as \040 (and tab, newline, backslash likewise). */
function unescapeOctal(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

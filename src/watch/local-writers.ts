// Which processes on this machine hold a file open for writing, read from /proc: each process's
// `fd/` links name the files it has open, and `fdinfo/N` says how (the access mode in `flags`).
// A render box runs a few hundred processes, so one scan is a few thousand readlinks; a writer
// once found is then watched alone until it lets go.
import { readFile, readdir, readlink } from 'node:fs/promises';

export interface LocalWriter {
  pid: number;
  fd: number;
}

export type WriterScan =
  | { kind: 'held'; writer: LocalWriter }
  | { kind: 'none' }
  /** Some process that could write the file could not be looked into: no proof either way. */
  | { kind: 'unknown'; reason: string };

export interface ScanTarget {
  /** The file's real path (symbolic links resolved), as /proc names it. */
  path: string;
  /** The file's owner: a process running as this user may write it. */
  ownerUid: number;
}

const PROC = '/proc';
// O_ACCMODE of the octal `flags:` in fdinfo: 1 O_WRONLY, 2 O_RDWR.
const ACCESS_MODE = 0o3;

/** Looks through every process for one holding `target` open for writing. */
export async function scanLocalWriters(target: ScanTarget, proc = PROC): Promise<WriterScan> {
  const pids = (await readdir(proc)).filter((name) => /^\d+$/.test(name)).map(Number);
  const hidden: number[] = [];
  const found = await Promise.all(
    pids.map(async (pid) => {
      let fds: string[];
      try {
        fds = await readdir(`${proc}/${pid}/fd`);
      } catch (error) {
        // Gone since the listing: not a writer. Not ours to look into: perhaps one.
        if (isCode(error, 'EACCES') || isCode(error, 'EPERM')) hidden.push(pid);
        return null;
      }
      for (const fd of fds) {
        const writer = { pid, fd: Number(fd) };
        if (await holdsForWriting(writer, target.path, proc)) return writer;
      }
      return null;
    }),
  );
  const writer = found.find((candidate) => candidate !== null);
  if (writer) return { kind: 'held', writer };
  // A process we may not look into can write the file only as its owner (or as root, which this
  // check does not cover: the README says so).
  for (const pid of hidden) {
    const uids = await processUids(pid, proc);
    if (uids.includes(target.ownerUid)) return { kind: 'unknown', reason: `process ${pid} runs as the file's owner (uid ${target.ownerUid}) and cannot be looked into` };
  }
  return { kind: 'none' };
}

/** Whether this process still has this descriptor open for writing on `path`. */
export async function holdsForWriting(writer: LocalWriter, path: string, proc = PROC): Promise<boolean> {
  try {
    if ((await readlink(`${proc}/${writer.pid}/fd/${writer.fd}`)) !== path) return false;
    const info = await readFile(`${proc}/${writer.pid}/fdinfo/${writer.fd}`, 'utf8');
    const flags = /^flags:\s*([0-7]+)/m.exec(info);
    return flags !== null && (Number.parseInt(flags[1]!, 8) & ACCESS_MODE) !== 0;
  } catch {
    return false; // closed, or the process ended, between the listing and this look
  }
}

/** Real, effective, saved and filesystem uids of a process (its status is readable by anyone). */
async function processUids(pid: number, proc: string): Promise<number[]> {
  const status = await readFile(`${proc}/${pid}/status`, 'utf8').catch(() => '');
  const line = /^Uid:\s*(.*)$/m.exec(status);
  return line ? line[1]!.trim().split(/\s+/).map(Number) : [];
}

function isCode(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === code;
}

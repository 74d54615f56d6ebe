// The default store: one append-only file of JSON lines in the data folder (job-file.ts has the
// format). A change is a line; the changes of one batch go out as one write and one fsync (a
// group commit, as the write queue asks with `sync`). Only where each job's latest line lies is
// kept in memory, not the records (the ledger holds those), and the file is rewritten with only
// the latest lines once superseded ones outnumber them: in the background, between writes.
import { appendFile, chmod, type FileHandle, mkdir, open, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Job } from '../../machines/job-record.js';
import { PRIVATE_FILE, PRIVATE_FOLDER, syncToDisk } from '../data-folder.js';
import { LineSplitter, lineId, readLine, recordLine, removalLine } from './job-file.js';
import type { JobStore, LoadedJobs } from './job-store.js';
import { readRecord } from './stored-record.js';

export interface FileStoreOptions {
  /** false: no fsync (only for the benchmark that measures what fsync costs). */
  durable?: boolean;
}

/** Where a job's latest line lies in the file. */
interface Located {
  offset: number;
  length: number;
}

// Rewritten once superseded lines are more than the live ones and at least this many.
const COMPACT_AFTER_LINES = 10_000;
const READ_CHUNK = 4 * 1024 * 1024;
const NEWLINE = Buffer.from('\n');

export async function openFileStore(filename: string, options: FileStoreOptions = {}): Promise<JobStore> {
  const durable = options.durable ?? true;
  // Records hold jobs' environments: the file is the daemon user's alone.
  await mkdir(dirname(filename), { recursive: true, mode: PRIVATE_FOLDER });
  const existed = await stat(filename).then(() => true, () => false);
  await writeFile(filename, '', { flag: 'a', mode: PRIVATE_FILE });
  await chmod(filename, PRIVATE_FILE);
  // The file's name in its folder is durable too (a new file at first start).
  if (durable && !existed) await syncToDisk(dirname(filename));
  // A line cut off by a crash stands alone, so the next one is not glued to it.
  await endTornLine(filename);

  let index = new Map<string, Located>();
  const unreadable: number[] = [];
  let lines = 0;
  await scanFile(filename, (bytes, offset, number) => {
    lines += 1;
    const line = lineId(bytes.toString('utf8'));
    if (line.kind === 'record') index.set(line.id, { offset, length: bytes.length });
    else if (line.kind === 'removed') index.delete(line.id);
    else if (line.kind === 'unreadable') unreadable.push(number);
  });

  let handle: FileHandle = await open(filename, 'a');
  let size = (await handle.stat()).size;
  let pending: { id: string; line: string; removed: boolean }[] = [];
  /** Why changes put since the last good sync were lost, if they were. */
  let lostBy: unknown = null;
  // One write, sync or rewrite at a time, in the order asked.
  let queue: Promise<unknown> = Promise.resolve();
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const done = queue.then(work);
    queue = done.catch(() => undefined);
    return done;
  };

  /** Writes what is pending as one write, then one fsync. A failed write leaves no part of it. */
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    const text = Buffer.from(`${batch.map((each) => each.line).join('\n')}\n`);
    try {
      const { bytesWritten } = await handle.write(text);
      if (bytesWritten !== text.length) throw Object.assign(new Error(`ENOSPC: wrote ${bytesWritten} of ${text.length} bytes to ${filename}`), { code: 'ENOSPC' });
      if (durable) await handle.datasync();
    } catch (error) {
      // Nothing of a failed batch stays, and the next sync says so (whoever's write failed), so
      // the write queue puts the daemon's changes again and tells the clients theirs were not kept.
      await handle.truncate(size).catch(() => undefined);
      lostBy = error;
      throw error;
    }
    let offset = size;
    for (const each of batch) {
      const length = Buffer.byteLength(each.line);
      if (each.removed) index.delete(each.id);
      else index.set(each.id, { offset, length });
      offset += length + 1;
    }
    size = offset;
    lines += batch.length;
  };

  /**
   * The file with only each job's latest line: read through once, in large chunks, the latest
   * lines copied aside; made durable, then renamed over it.
   */
  const compact = async (): Promise<void> => {
    const aside = `${filename}.compacting`;
    const latest = new Map<number, string>();
    for (const [id, at] of index) latest.set(at.offset, id);
    const next = new Map<string, Located>();
    const target = await open(aside, 'w', PRIVATE_FILE);
    try {
      let written = 0;
      // The latest lines' bytes as they are, each with its newline: nothing is decoded.
      let buffered: Buffer[] = [];
      // Each chunk written at its own position: the writes may run in any order.
      let chunkAt = 0;
      const writes: Promise<unknown>[] = [];
      const writeChunk = () => {
        writes.push(target.write(Buffer.concat(buffered), 0, written - chunkAt, chunkAt));
        buffered = [];
        chunkAt = written;
      };
      await scanFile(filename, (bytes, offset) => {
        const id = latest.get(offset);
        if (id === undefined) return;
        next.set(id, { offset: written, length: bytes.length });
        written += bytes.length + 1;
        buffered.push(Buffer.concat([bytes, NEWLINE]));
        if (written - chunkAt >= READ_CHUNK) writeChunk();
      });
      if (buffered.length > 0) writeChunk();
      await Promise.all(writes);
      await target.sync();
    } finally {
      await target.close();
    }
    await rename(aside, filename);
    if (durable) await syncToDisk(dirname(filename));
    await handle.close();
    handle = await open(filename, 'a');
    size = (await handle.stat()).size;
    index = next;
    lines = next.size;
  };

  const worthCompacting = () => lines - index.size > Math.max(index.size, COMPACT_AFTER_LINES);

  return {
    async loadAll(): Promise<LoadedJobs> {
      // What was put and not yet synced is in the store too.
      await serially(flush);
      const jobs: Job[] = [];
      const problems: string[] = unreadable.map((line) => `${filename} line ${line} could not be read (a write cut short?) and was dropped`);
      const quarantine = join(dirname(filename), 'quarantine.jsonl');
      const refused: { id: string; reason: string; json: string }[] = [];
      // Each job's latest line, read where the index says it lies.
      const latest = new Set([...index.values()].map((at) => at.offset));
      await scanFile(filename, (bytes, offset) => {
        if (!latest.has(offset)) return;
        const line = readLine(bytes.toString('utf8'));
        if (line.kind !== 'record') return;
        const checked = readRecord(line.json);
        if (checked.ok) jobs.push(checked.job);
        else refused.push({ id: line.id, reason: checked.reason, json: line.json });
      });
      for (const { id, reason, json } of refused) {
        // Set aside, not dropped: the operator can read it, mend it and submit the job again.
        await appendFile(quarantine, `${JSON.stringify({ at: new Date().toISOString(), id, reason, record: json })}\n`, { mode: PRIVATE_FILE });
        pending.push({ id, line: removalLine(id), removed: true });
        problems.push(`job ${id}: ${reason}; set aside in ${quarantine}`);
      }
      await serially(flush);
      if (worthCompacting()) await serially(compact);
      return { jobs, problems };
    },
    async put(job: Job): Promise<void> {
      // Written by the next sync, with every other change made before it.
      pending.push({ id: job.id, line: recordLine(job.id, job.status, JSON.stringify(job)), removed: false });
    },
    async remove(id: string): Promise<void> {
      // Like a put: written by the next sync.
      pending.push({ id, line: removalLine(id), removed: true });
    },
    async sync(): Promise<void> {
      await serially(async () => {
        try {
          await flush();
        } finally {
          const lost = lostBy;
          lostBy = null;
          if (lost !== null) throw lost;
        }
      });
      if (worthCompacting()) void serially(compact).catch(() => undefined);
    },
    async checkWritable(): Promise<void> {
      // The file itself must open for appending (not read-only), and its folder must take new
      // bytes (not full): a few KiB beside it, written through to the disk, then removed.
      await (await open(filename, 'a')).close();
      const probe = join(dirname(filename), '.write-probe');
      const probeHandle = await open(probe, 'w', PRIVATE_FILE);
      try {
        await probeHandle.write(Buffer.alloc(8192));
        await probeHandle.sync();
      } finally {
        await probeHandle.close();
        await unlink(probe).catch(() => undefined);
      }
    },
    async close(): Promise<void> {
      await serially(flush);
      if (lines > index.size) await serially(compact).catch(() => undefined);
      await handle.close();
    },
  };
}

/** Calls back with every line of the file, read in large chunks. */
async function scanFile(filename: string, onLine: (line: Buffer, offset: number, number: number) => void): Promise<void> {
  const splitter = new LineSplitter(onLine);
  const handle = await open(filename, 'r');
  try {
    const chunk = Buffer.alloc(READ_CHUNK);
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, READ_CHUNK, null);
      if (bytesRead === 0) break;
      splitter.push(chunk.subarray(0, bytesRead));
    }
    splitter.end();
  } finally {
    await handle.close();
  }
}

/** Appends a newline when the file's last byte isn't one, so a cut-off record stands alone. */
export async function endTornLine(filename: string): Promise<void> {
  const handle = await open(filename, 'r');
  let last: number | null = null;
  try {
    const { size } = await handle.stat();
    if (size > 0) {
      const byte = Buffer.alloc(1);
      await handle.read(byte, 0, 1, size - 1);
      last = byte[0]!;
    }
  } finally {
    await handle.close();
  }
  if (last !== null && last !== 0x0a) await appendFile(filename, '\n');
}


// The default store: one append-only file of JSON lines in the data folder (job-file.ts has the
// format). A change is a line; the changes of one batch go out as one write and one fsync (a
// group commit, as the write queue asks with `sync`). Only where each job's latest line lies is
// kept in memory, not the records: a finished job's record is read from there when asked for. A
// start finds each job's latest line and reads the unfinished ones; the finished ones' summaries
// come in a second pass, after the daemon serves (a staged load). The file is rewritten with only
// the latest lines once superseded ones outnumber them: in the background, between writes.
import { appendFile, chmod, type FileHandle, mkdir, open, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FINISHED_STATUSES, type Job, isFinished } from '../../machines/job-record.js';
import { PRIVATE_FILE, PRIVATE_FOLDER, syncToDisk } from '../data-folder.js';
import { LineSplitter, lineId, readLine, recordLine, removalLine, summaryRowOf } from './job-file.js';
import { type JobStore, type LoadedJobs, joinStages } from './job-store.js';
import { type JobSummary, readSummaryRow, summarize } from './job-summary.js';
import { readRecord } from './stored-record.js';

export interface FileStoreOptions {
  /** false: no fsync (only for the benchmark that measures what fsync costs). */
  durable?: boolean;
}

// Rewritten once superseded lines are more than the live ones and at least this many.
const COMPACT_AFTER_LINES = 10_000;
const READ_CHUNK = 1024 * 1024;
// Records a load reads one by one; more are read in one pass through the file.
const FEW_LINES = 1000;
const FINISHED = new Set<string>(FINISHED_STATUSES);
// A read of one line asks for this much at a time (most records fit in one).
const LINE_READ = 16 * 1024;
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

  // Each job's latest line: where it starts (a line is read up to its newline), and whether it is
  // an unfinished job's. Nothing more: the finished jobs' summaries are read by a second pass, which
  // a daemon makes after it serves (the staged load), so a start reads only ids and statuses.
  let index = new Map<string, number>();
  const unfinished = new Set<string>();
  const unreadable: number[] = [];
  let lines = 0;
  await scanFile(filename, (bytes, start, end, offset, number) => {
    lines += 1;
    const line = lineId(bytes, start, end);
    if (line.kind === 'record') {
      index.set(line.id, offset);
      // A status no version knows counts as unfinished: that record is read whole, and set aside.
      if (!FINISHED.has(line.status)) unfinished.add(line.id);
      // Most often empty: a start with no unfinished job looks nothing up here.
      else if (unfinished.size > 0) unfinished.delete(line.id);
    } else if (line.kind === 'removed') {
      index.delete(line.id);
      unfinished.delete(line.id);
    } else if (line.kind === 'unreadable') unreadable.push(number);
  });

  let handle: FileHandle = await open(filename, 'a');
  let size = (await handle.stat()).size;
  // What the opening pass found, until the first load has read it (both stages): the jobs whose
  // latest line is unfinished, the jobs changed since (read whole, or known to the caller), and
  // where the file ended then (every finished job's line it found lies before).
  let opening: { unfinished: Set<string>; changed: Set<string>; size: number } | null = { unfinished, changed: new Set(), size };
  // For reading one job's line; opened at the first read, again after a rewrite.
  let reader: Promise<FileHandle> | null = null;
  let compacting: Promise<void> | null = null;
  // The second stage's pass through the file, while it runs: it finds each job's latest line by its
  // offset, so a rewrite (which moves every line) waits for it, and it for a rewrite.
  let finishedPass: Promise<unknown> | null = null;
  let pending: { id: string; line: string; removed: boolean }[] = [];
  // The batch being written: still what was last put, until the index points into the file.
  let writing: typeof pending = [];
  /** Why changes put since the last good sync were lost, if they were. */
  let lostBy: unknown = null;
  // One write, sync or rewrite at a time, in the order asked.
  let queue: Promise<unknown> = Promise.resolve();
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const done = queue.then(work);
    queue = done.catch(() => undefined);
    return done;
  };

  /**
   * Writes what is pending as one write, then one fsync (unless `toDisk` is false: writeOut). A
   * failed write leaves no part of it.
   */
  const flush = async (toDisk = true): Promise<void> => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    writing = batch;
    const text = Buffer.from(`${batch.map((each) => each.line).join('\n')}\n`);
    try {
      const { bytesWritten } = await handle.write(text);
      if (bytesWritten !== text.length) throw Object.assign(new Error(`ENOSPC: wrote ${bytesWritten} of ${text.length} bytes to ${filename}`), { code: 'ENOSPC' });
      if (durable && toDisk) await handle.datasync();
    } catch (error) {
      writing = [];
      // Nothing of a failed batch stays, and the next sync says so (whoever's write failed), so
      // the write queue puts the daemon's changes again and tells the clients theirs were not kept.
      await handle.truncate(size).catch(() => undefined);
      lostBy = error;
      throw error;
    }
    let offset = size;
    for (const each of batch) {
      if (each.removed) index.delete(each.id);
      else index.set(each.id, offset);
      offset += Buffer.byteLength(each.line) + 1;
    }
    size = offset;
    lines += batch.length;
    writing = [];
  };

  /**
   * The file with only each job's latest line, rewritten while writes go on: the lines the index
   * points to are copied aside in large chunks, nothing decoded, as writes carry on; then, with
   * writes held for a moment, the lines appended meanwhile are copied after them as they are, and
   * the copy is made durable and renamed over the file.
   */
  const compact = (): Promise<void> => {
    compacting ??= (async () => {
      while (finishedPass !== null) await finishedPass.catch(() => undefined);
      await rewrite();
    })().finally(() => {
      compacting = null;
    });
    return compacting;
  };
  const rewrite = async (): Promise<void> => {
    const aside = `${filename}.compacting`;
    const upTo = size;
    const latest = new Map<number, string>();
    for (const [id, offset] of index) latest.set(offset, id);
    const next = new Map<string, number>();
    const target = await open(aside, 'w', PRIVATE_FILE);
    let renamed = false;
    try {
      const copy = new ChunkedCopy(target);
      await scanFile(filename, (bytes, start, end, offset) => {
        const id = latest.get(offset);
        if (id === undefined) return;
        next.set(id, copy.written);
        copy.line(bytes, start, end);
      }, 0, upTo);
      await serially(async () => {
        // Appended since the copy began: copied after it as they are, and indexed there.
        let tailLines = 0;
        await scanFile(filename, (bytes, start, end) => {
          const line = lineId(bytes, start, end);
          if (line.kind === 'record') next.set(line.id, copy.written);
          else if (line.kind === 'removed') next.delete(line.id);
          copy.line(bytes, start, end);
          tailLines++;
        }, upTo, size);
        await copy.done();
        await target.sync();
        await rename(aside, filename);
        renamed = true;
        if (durable) await syncToDisk(dirname(filename));
        await handle.close();
        handle = await open(filename, 'a');
        // A read under way on the old file ends first: close waits for it.
        void reader?.then((old) => old.close()).catch(() => undefined);
        reader = null;
        size = (await handle.stat()).size;
        index = next;
        lines = next.size + tailLines;
      });
    } finally {
      await target.close().catch(() => undefined);
      if (!renamed) await unlink(aside).catch(() => undefined);
    }
  };

  const worthCompacting = () => lines - index.size > Math.max(index.size, COMPACT_AFTER_LINES);

  /** A job's record line, checked, into `into`: unfinished whole, finished as its summary; a record that is no job set aside. */
  const take = async (id: string, text: string, into: LoadedJobs) => {
    const read = await jobOf(id, text);
    if (read.problem !== undefined) into.problems.push(read.problem);
    else if (read.job === undefined) return;
    else if (isFinished(read.job.status)) into.finished.set(id, summarize(read.job));
    else into.active.push(read.job);
  };

  /** These jobs' latest records, read whole into `into`: one by one when few, else in one pass through the file. */
  const readWhole = async (ids: readonly string[], into: LoadedJobs) => {
    if (ids.length <= FEW_LINES) {
      for (const id of ids) {
        const text = await readLineOf(id);
        if (text !== null) await take(id, text, into);
      }
      return;
    }
    // Many (a file an earlier version wrote): one pass through it rather than a read each.
    const wanted = new Map(ids.flatMap((id) => (index.has(id) ? [[index.get(id)!, id] as const] : [])));
    const texts: [string, string][] = [];
    await scanFile(filename, (bytes, start, end, offset) => {
      const id = wanted.get(offset);
      if (id !== undefined) texts.push([id, bytes.toString('utf8', start, end)]);
    });
    for (const [id, text] of texts) await take(id, text, into);
  };

  /** Writes what was put (flush), then starts a compaction where the file is mostly superseded lines. */
  const writeAll = async (toDisk: boolean): Promise<void> => {
    await serially(async () => {
      try {
        await flush(toDisk);
      } finally {
        const lost = lostBy;
        lostBy = null;
        if (lost !== null) throw lost;
      }
    });
    if (worthCompacting()) void compact().catch(() => undefined);
  };

  const emptyLoad = (): LoadedJobs => ({ active: [], finished: new Map(), problems: [] });
  /** After a load: what it set aside is removed from the file, and a file mostly of superseded lines rewritten. */
  const settle = async () => {
    await serially(flush);
    if (worthCompacting()) await compact();
  };

  const staged = {
    /** The jobs unfinished when the file was opened, and those changed since, whole; the file's unreadable lines. */
    async active(): Promise<LoadedJobs> {
      await serially(flush);
      const loaded = emptyLoad();
      loaded.problems.push(...unreadable.map((line) => `${filename} line ${line} could not be read (a write cut short?) and was dropped`));
      if (opening !== null) await readWhole([...new Set([...opening.unfinished, ...opening.changed])], loaded);
      return loaded;
    },
    /**
     * The jobs finished when the file was opened, as the summaries their latest lines carry (a line
     * without one is read whole), in a second pass through what the file held then. A job changed
     * since is left to the caller, who made the change (or to the first stage).
     */
    async finished(): Promise<LoadedJobs> {
      const loaded = emptyLoad();
      if (opening === null) return loaded;
      const { unfinished, changed, size: upTo } = opening;
      while (compacting !== null) await compacting.catch(() => undefined);
      const whole: string[] = [];
      const pass = scanFile(filename, (bytes, start, end, offset) => {
        const line = lineId(bytes, start, end);
        // Only a job's latest line, as the index has it now (a job written since has a later one).
        if (line.kind !== 'record' || index.get(line.id) !== offset || unfinished.has(line.id) || changed.has(line.id)) return;
        const summary = summaryOf(bytes, start, end, line);
        if (summary !== null) loaded.finished.set(line.id, summary);
        else whole.push(line.id);
      }, 0, upTo);
      finishedPass = pass;
      try {
        await pass;
      } finally {
        finishedPass = null;
      }
      await readWhole(whole, loaded);
      opening = null;
      return loaded;
    },
  };

  return {
    staged,
    async load(): Promise<LoadedJobs> {
      if (opening !== null) {
        // The first load: both stages, as a daemon takes them (the first flushes what was put).
        const active = await staged.active();
        const loaded = joinStages(active, await staged.finished());
        await settle();
        return loaded;
      }
      // A later load reads every record whole, what was put and not yet synced too.
      await serially(flush);
      const loaded = emptyLoad();
      await readWhole([...index.keys()], loaded);
      await settle();
      return loaded;
    },
    async read(id: string): Promise<Job | undefined> {
      const put = pending.findLast((each) => each.id === id) ?? writing.findLast((each) => each.id === id);
      const text = put !== undefined ? (put.removed ? null : put.line) : await readLineOf(id);
      return text === null ? undefined : (await jobOf(id, text)).job;
    },
    async put(job: Job): Promise<void> {
      // Written by the next sync, with every other change made before it.
      const summary = isFinished(job.status) ? summarize(job) : null;
      pending.push({ id: job.id, line: recordLine(job.id, job.status, JSON.stringify(job), summary), removed: false });
      // Put before the first load: the load reads it whole.
      opening?.changed.add(job.id);
    },
    async remove(id: string): Promise<void> {
      // Like a put: written by the next sync.
      pending.push({ id, line: removalLine(id), removed: true });
      opening?.changed.add(id);
    },
    sync: () => writeAll(true),
    // An fsync of the file later (any sync) makes these lines durable with the rest.
    writeOut: () => writeAll(false),
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
      await compacting?.catch(() => undefined);
      if (lines > index.size) await compact().catch(() => undefined);
      await handle.close();
      await (await reader?.catch(() => null))?.close();
    },
  };

  /**
   * The job a record line of this id holds, checked; a record that is no job (or another job's) is
   * set aside, and the problem said. Neither, for a line that is no record of this id.
   */
  async function jobOf(id: string, text: string): Promise<{ job?: Job; problem?: string }> {
    const line = readLine(text);
    if (line.kind !== 'record' || line.id !== id) return {};
    const checked = readRecord(line.json);
    if (checked.ok && checked.job.id === id) return { job: checked.job };
    return { problem: await setAside(id, checked.ok ? `its stored record is of job ${checked.job.id}` : checked.reason, line.json) };
  }

  /** Sets a record that is no job aside, where the operator can read and mend it; removed at the next sync. */
  async function setAside(id: string, reason: string, json: string): Promise<string> {
    const quarantine = join(dirname(filename), 'quarantine.jsonl');
    await appendFile(quarantine, `${JSON.stringify({ at: new Date().toISOString(), id, reason, record: json })}\n`, { mode: PRIVATE_FILE });
    pending.push({ id, line: removalLine(id), removed: true });
    opening?.changed.add(id);
    return `job ${id}: ${reason}; set aside in ${quarantine}`;
  }

  /** The text of a job's latest written line; null when the file holds none. */
  async function readLineOf(id: string): Promise<string | null> {
    for (let tries = 0; tries < 3; tries++) {
      const offset = index.get(id);
      if (offset === undefined) return null;
      // A failed open is not kept: the next read tries again.
      reader ??= open(filename, 'r').catch((error: unknown) => {
        reader = null;
        throw error;
      });
      const bytes = await readLineAt(await reader, offset);
      // Another job's line: a rewrite moved the lines between finding this one and reading it.
      const line = lineId(bytes);
      if ((line.kind === 'record' || line.kind === 'removed') && line.id === id) return bytes.toString('utf8');
      await compacting?.catch(() => undefined);
    }
    return null;
  }
}

/** A finished job's summary from the start of its line, checked; null where the line has none (an older version wrote it) or it does not hold. */
function summaryOf(bytes: Buffer, start: number, end: number, line: { id: string; status: string; rest: number }): JobSummary | null {
  const summary = readSummaryRow(summaryRowOf(bytes, line.rest, start, end));
  if (summary === null || summary.id !== line.id || summary.status !== line.status) return null;
  // One string for the id, shared with the index.
  summary.id = line.id;
  return summary;
}

/**
 * Calls back with every line of the file (from byte `from` to `until`), read in large chunks: the
 * next chunk is read while the last one is split. Offsets are the file's.
 */
async function scanFile(filename: string, onLine: (bytes: Buffer, start: number, end: number, offset: number, number: number) => void, from = 0, until = Infinity): Promise<void> {
  const splitter = new LineSplitter((bytes, start, end, offset, number) => onLine(bytes, start, end, from + offset, number));
  const handle = await open(filename, 'r');
  const chunks = [Buffer.allocUnsafe(READ_CHUNK), Buffer.allocUnsafe(READ_CHUNK)];
  let at = from;
  const readNext = (turn: number) => {
    const length = Math.min(READ_CHUNK, until - at);
    const reading = length > 0 ? handle.read(chunks[turn % 2]!, 0, length, at) : Promise.resolve({ bytesRead: 0, buffer: chunks[turn % 2]! });
    at += length;
    return reading;
  };
  let next = readNext(0);
  try {
    for (let turn = 0; ; turn++) {
      const { bytesRead, buffer } = await next;
      if (bytesRead === 0) break;
      next = readNext(turn + 1);
      splitter.push(buffer.subarray(0, bytesRead));
    }
    splitter.end();
  } finally {
    // A read still under way is over before the file closes.
    await next.catch(() => undefined);
    await handle.close();
  }
}

/** The line that starts at `offset`, up to its newline (or the file's end). */
async function readLineAt(file: FileHandle, offset: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let at = offset; ; ) {
    const chunk = Buffer.alloc(LINE_READ);
    const { bytesRead } = await file.read(chunk, 0, LINE_READ, at);
    const newline = chunk.subarray(0, bytesRead).indexOf(0x0a);
    parts.push(chunk.subarray(0, newline >= 0 ? newline : bytesRead));
    if (newline >= 0 || bytesRead === 0) return Buffer.concat(parts);
    at += bytesRead;
  }
}

/** Lines copied into a file in large writes, each at its own position (the writes may finish in any order). */
class ChunkedCopy {
  written = 0;
  #buffered: Buffer[] = [];
  #chunkAt = 0;
  readonly #writes: Promise<unknown>[] = [];

  constructor(private readonly target: FileHandle) {}

  /** A line's bytes as they are, and its newline. */
  line(bytes: Buffer, start: number, end: number): void {
    this.#buffered.push(Buffer.concat([bytes.subarray(start, end), NEWLINE]));
    this.written += end - start + 1;
    if (this.written - this.#chunkAt >= READ_CHUNK) this.#flush();
  }

  async done(): Promise<void> {
    if (this.#buffered.length > 0) this.#flush();
    await Promise.all(this.#writes);
  }

  #flush(): void {
    this.#writes.push(this.target.write(Buffer.concat(this.#buffered), 0, this.written - this.#chunkAt, this.#chunkAt));
    this.#buffered = [];
    this.#chunkAt = this.written;
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


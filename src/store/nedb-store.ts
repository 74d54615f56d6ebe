// The default store: one nedb-promises file in the data folder. The only file that imports nedb.
// Each job is kept as its JSON text, so nedb's rules for field names (no `.`, no leading `$`)
// never meet a job's environment variables.
import { appendFile, chmod, mkdir, open, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import Datastore from 'nedb-promises';
import { PRIVATE_FILE, PRIVATE_FOLDER, syncToDisk } from '../data-folder.js';
import type { Attempt, Job } from '../../machines/job-record.js';
import { DEFAULT_NEEDS } from '../../machines/resources.js';
import { jobKind } from '../forecast/job-kind.js';
import type { JobStore, LoadedJobs } from './job-store.js';
import { checkRecord } from './record-schema.js';

interface JobDocument {
  _id: string;
  status: string;
  json: string;
}

async function unreadableLines(filename: string): Promise<number[]> {
  let text: string;
  try {
    text = await readFile(filename, 'utf8');
  } catch {
    return [];
  }
  const bad: number[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      JSON.parse(line);
    } catch {
      bad.push(index + 1);
    }
  });
  return bad;
}

interface Compaction {
  on(event: 'compaction.done', listener: () => void): void;
  loadDatabaseAsync(): Promise<void>;
  setAutocompactionInterval(ms: number): void;
  stopAutocompaction(): void;
  compactDatafileAsync(): Promise<void>;
}

// nedb rewrites its append-only file on this period, so progress updates don't grow it forever.
const COMPACT_EVERY_MS = 10 * 60 * 1000;

export interface NedbStoreOptions {
  /** false: no fsync (only for the benchmark that measures what fsync costs). */
  durable?: boolean;
}

export async function openNedbStore(filename: string, options: NedbStoreOptions = {}): Promise<JobStore> {
  const durable = options.durable ?? true;
  // Tolerate any number of unreadable lines: losing the good records to refuse one bad line
  // would be worse. Unreadable lines (a write cut short by a crash) are reported by loadAll;
  // nedb drops them when it rewrites the file at load.
  const unreadable = await unreadableLines(filename);
  // Records hold jobs' environments: the file is the daemon user's alone. nedb rewrites it at
  // each compaction (a new file), so the mode is set again after each.
  await mkdir(dirname(filename), { recursive: true, mode: PRIVATE_FOLDER });
  await writeFile(filename, '', { flag: 'a', mode: PRIVATE_FILE });
  // The file's name in its folder is durable too (a new file at first start).
  if (durable) await syncToDisk(dirname(filename));
  const db = Datastore.create({ filename, autoload: false, corruptAlertThreshold: 1 });
  const quarantine = join(dirname(filename), 'quarantine.jsonl');
  await db.load();
  // nedb-promises leaves these out of its types; call them on the wrapped @seald-io/nedb
  // datastore itself, since setting fields through nedb-promises' proxy fails.
  const compaction = (db as unknown as { __original: Compaction }).__original;
  compaction.on('compaction.done', () => void chmod(filename, PRIVATE_FILE).catch(() => undefined));
  await chmod(filename, PRIVATE_FILE);
  compaction.setAutocompactionInterval(COMPACT_EVERY_MS);
  let tailMayBeTorn = false;
  return {
    async loadAll(): Promise<LoadedJobs> {
      const docs = await db.find<JobDocument>({});
      const jobs: Job[] = [];
      const problems: string[] = unreadable.map((line) => `${filename} line ${line} could not be read (a write cut short?) and was dropped`);
      for (const doc of docs) {
        const checked = readRecord(doc.json);
        if (checked.ok) {
          jobs.push(checked.job);
          continue;
        }
        // Set aside, not dropped: the operator can read it, mend it and submit the job again.
        await appendFile(quarantine, `${JSON.stringify({ at: new Date().toISOString(), id: doc._id, reason: checked.reason, record: doc.json })}\n`, { mode: PRIVATE_FILE });
        await db.remove({ _id: doc._id }, {});
        problems.push(`job ${doc._id}: ${checked.reason}; set aside in ${quarantine}`);
      }
      return { jobs, problems };
    },
    async put(job: Job): Promise<void> {
      // A failed append (a full disk) may have left part of a line with no newline: the next
      // record would be glued to it and lost with it. End that line first.
      if (tailMayBeTorn) {
        await endTornLine(filename);
        tailMayBeTorn = false;
      }
      try {
        await db.update<JobDocument>({ _id: job.id }, { _id: job.id, status: job.status, json: JSON.stringify(job) }, { upsert: true });
      } catch (error) {
        tailMayBeTorn = true;
        // nedb changed its memory before the append failed; a later successful write (or the
        // compaction at close) would then store a change that was refused. Reload it from the file.
        await compaction.loadDatabaseAsync().catch(() => undefined);
        throw error;
      }
    },
    async remove(id: string): Promise<void> {
      await db.remove({ _id: id }, {});
    },
    async sync(): Promise<void> {
      if (!durable) return;
      // nedb appends with appendFile and never flushes: the change may sit in the page cache. An
      // fsync of the file makes every append so far durable; one for the whole batch.
      await syncToDisk(filename);
    },
    async checkWritable(): Promise<void> {
      // The file itself must open for appending (not read-only), and its folder must take new
      // bytes (not full): a few KiB beside it, written through to the disk, then removed.
      await (await open(filename, 'a')).close();
      const probe = join(dirname(filename), '.write-probe');
      const handle = await open(probe, 'w', PRIVATE_FILE);
      try {
        await handle.write(Buffer.alloc(8192));
        await handle.sync();
      } finally {
        await handle.close();
        await unlink(probe).catch(() => undefined);
      }
    },
    async close(): Promise<void> {
      compaction.stopAutocompaction();
      await compaction.compactDatafileAsync();
      await chmod(filename, PRIVATE_FILE);
    },
  };
}

/** Names that records written before version 0.2 used. */
interface OldFieldNames {
  attemptsBeforeRetry?: number;
  progressWrites?: number;
}

/** A stored record as a job, upgraded from older versions and checked field by field. */
function readRecord(json: unknown): { ok: true; job: Job } | { ok: false; reason: string } {
  let record: unknown;
  try {
    record = JSON.parse(String(json));
  } catch {
    return { ok: false, reason: 'its stored record is not valid JSON' };
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return { ok: false, reason: 'its stored record is not an object' };
  return checkRecord(upgradeRecord(record as Job & OldFieldNames));
}

function upgradeRecord(record: Job & OldFieldNames): Job {
  const { attemptsBeforeRetry, progressWrites, ...job } = record;
  return {
    ...job,
    attemptsBeforeManualRetry: job.attemptsBeforeManualRetry ?? attemptsBeforeRetry ?? 0,
    progressUpdates: job.progressUpdates ?? progressWrites ?? 0,
    pass: job.pass ?? null,
    passes: job.passes ?? null,
    basis: job.basis ?? null,
    kind: typeof job.kind === 'string' ? job.kind : job.external ? 'external' : jobKind(Array.isArray(job.command) ? job.command.map(String) : [], job.shell === true),
    declaredPasses: job.declaredPasses ?? null,
    clientId: job.clientId ?? null,
    webhook: job.webhook ?? null,
    mediaSeconds: job.mediaSeconds ?? null,
    passStartSeconds: job.passStartSeconds ?? null,
    runSeconds: job.runSeconds ?? null,
    waitForReplacement: job.waitForReplacement ?? false,
    terminal: job.terminal ?? 'auto',
    failureKind: job.failureKind ?? null,
    failureEvidence: job.failureEvidence ?? null,
    history: Array.isArray(job.history) ? job.history.map((attempt: Partial<Attempt>) => ({ ...attempt, failureKind: attempt.failureKind ?? null, evidence: attempt.evidence ?? null }) as Attempt) : job.history,
    needs: job.needs ?? { ...DEFAULT_NEEDS },
    gpus: job.gpus ?? null,
  };
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

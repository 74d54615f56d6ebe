// When a file that is being written is finished. On a local filesystem: once it has stopped
// growing and no process on this machine holds it open for writing (/proc), which is at once when
// its writer closes it, however long the writer paused before. On a shared folder, or where a
// process that may be the writer cannot be looked into: once its size and time have held still
// for the stability window, as chokidar's awaitWriteFinish did. No file is reported while a local
// writer holds it open.
import type { FolderSharing } from './folder-sharing.js';
import type { LocalWriter, ScanTarget, WriterScan } from './local-writers.js';

export interface FileFacts {
  size: number;
  mtimeMs: number;
  uid: number;
}

export interface FinishedFilesDeps {
  /** null when the file is gone. */
  stat(path: string): Promise<FileFacts | null>;
  realpath(path: string): Promise<string>;
  scan(target: ScanTarget): Promise<WriterScan>;
  stillWrites(writer: LocalWriter, path: string): Promise<boolean>;
  nowMs(): number;
  /** Whether processes of other users are hidden from this one (/proc hidepid). */
  othersHidden: boolean;
  ownUid: number;
}

export interface FinishedFilesOptions {
  /** Milliseconds a shared file's size must hold still. */
  windowMs: number;
  /** How often a file being written is looked at. */
  checkMs: number;
  sharingOf(path: string): FolderSharing;
  onFinished(path: string, change: 'created' | 'modified'): void;
  onError(path: string, error: unknown): void;
}

interface TrackedFile {
  change: 'created' | 'modified';
  facts: FileFacts | null;
  /** When its size or time last changed, or an event said it did. */
  changedAtMs: number;
  writer: LocalWriter | null;
  timer: NodeJS.Timeout | null;
  /** When the next look is due. */
  dueAtMs: number;
}

/** What to do after a look at a file that has held still since the last one. */
export function afterQuietLook(sharing: FolderSharing, writers: WriterScan | null, quietMs: number, windowMs: number): { kind: 'finished' } | { kind: 'wait'; ms: number } {
  if (writers?.kind === 'held') return { kind: 'wait', ms: 0 };
  if (sharing === 'local' && writers?.kind === 'none') return { kind: 'finished' };
  return quietMs >= windowMs ? { kind: 'finished' } : { kind: 'wait', ms: windowMs - quietMs };
}

export class FinishedFiles {
  readonly #files = new Map<string, TrackedFile>();
  #closed = false;

  constructor(
    private readonly options: FinishedFilesOptions,
    private readonly deps: FinishedFilesDeps,
  ) {}

  /** A watcher saw the file created or changed. */
  changed(path: string, change: 'created' | 'modified'): void {
    if (this.#closed) return;
    const tracked = this.#files.get(path);
    if (tracked) {
      tracked.changedAtMs = this.deps.nowMs();
      // Waiting out a window: look again soon, to see the growth and start the window over.
      if (tracked.dueAtMs - tracked.changedAtMs > this.options.checkMs) this.#schedule(path, this.options.checkMs);
      return;
    }
    this.#files.set(path, { change, facts: null, changedAtMs: this.deps.nowMs(), writer: null, timer: null, dueAtMs: 0 });
    this.#schedule(path, this.options.checkMs);
  }

  removed(path: string): void {
    const tracked = this.#files.get(path);
    if (tracked?.timer) clearTimeout(tracked.timer);
    this.#files.delete(path);
  }

  close(): void {
    this.#closed = true;
    for (const path of [...this.#files.keys()]) this.removed(path);
  }

  #schedule(path: string, ms: number): void {
    const tracked = this.#files.get(path);
    if (!tracked || this.#closed) return;
    if (tracked.timer) clearTimeout(tracked.timer);
    tracked.dueAtMs = this.deps.nowMs() + ms;
    tracked.timer = setTimeout(() => {
      tracked.timer = null;
      this.#look(path, tracked).catch((error: unknown) => {
        this.options.onError(path, error);
        this.#schedule(path, this.options.windowMs);
      });
    }, ms);
  }

  async #look(path: string, tracked: TrackedFile): Promise<void> {
    const facts = await this.deps.stat(path);
    if (this.#files.get(path) !== tracked) return;
    if (facts === null) return this.removed(path);
    const now = this.deps.nowMs();
    const grew = tracked.facts === null || facts.size !== tracked.facts.size || facts.mtimeMs !== tracked.facts.mtimeMs;
    tracked.facts = facts;
    if (grew) {
      tracked.changedAtMs = now;
      return this.#schedule(path, this.options.checkMs);
    }
    const sharing = this.options.sharingOf(path);
    const writers = sharing === 'local' ? await this.#writers(path, tracked, facts) : null;
    if (this.#files.get(path) !== tracked) return;
    const step = afterQuietLook(sharing, writers, this.deps.nowMs() - tracked.changedAtMs, this.options.windowMs);
    if (step.kind === 'wait') return this.#schedule(path, Math.max(step.ms, this.options.checkMs));
    this.#files.delete(path);
    this.options.onFinished(path, tracked.change);
  }

  /** The writer found last time, if it still writes; else a scan of every process. */
  async #writers(path: string, tracked: TrackedFile, facts: FileFacts): Promise<WriterScan> {
    const real = await this.deps.realpath(path);
    if (tracked.writer && (await this.deps.stillWrites(tracked.writer, real))) return { kind: 'held', writer: tracked.writer };
    tracked.writer = null;
    if (this.deps.othersHidden && facts.uid !== this.deps.ownUid) return { kind: 'unknown', reason: 'processes of other users are hidden (/proc hidepid)' };
    const scan = await this.deps.scan({ path: real, ownerUid: facts.uid });
    if (scan.kind === 'held') tracked.writer = scan.writer;
    return scan;
  }
}

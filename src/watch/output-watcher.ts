// The only door to chokidar. Reports a file in a watched folder once its writer has finished with
// it (FinishedFiles decides when: at once after a local writer closes it, after the stability
// window on a shared folder). A watched folder that disappears is reported and watched again when
// it comes back.
import { EventEmitter } from 'node:events';
import { accessSync, constants, existsSync, realpathSync, statSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { type FSWatcher, watch } from 'chokidar';
import { FinishedFiles } from './finished-files.js';
import { notARealPlace, watchedFolderOf } from './real-places.js';
import { type FolderSharing, folderSharing, procHidesOtherUsers, readMounts } from './folder-sharing.js';
import { holdsForWriting, scanLocalWriters } from './local-writers.js';
import { WatchFolderError } from './watch-folder-error.js';

// A file being written is looked at this often: a local writer's close is noticed within two looks.
const CHECK_MS = 50;

export const DEFAULT_EXTENSIONS = ['.mp4', '.mkv', '.webm', '.mov', '.avi', '.m4v', '.mp3', '.m4a', '.wav', '.gif'];

export interface OutputWatcherOptions {
  folders: string[];
  extensions: string[];
  /** Seconds a file's size must stay the same before it counts as complete. */
  stabilitySec: number;
  /** 0: the OS's change events; else poll every this many seconds (network filesystems). */
  pollIntervalSec: number;
  /** How often to look whether a watched folder disappeared or came back. */
  folderCheckMs?: number;
  /** Folders (or folders above them) whose files other machines or containers may write. */
  sharedFolders?: string[];
}

export type WatchEvent =
  | { kind: 'complete'; path: string; change: 'created' | 'modified'; at: string }
  | { kind: 'folder-missing'; folder: string; at: string }
  | { kind: 'folder-back'; folder: string; at: string }
  | { kind: 'error'; message: string; at: string };

/** Every folder must exist and be readable before watching starts; the error names the folder. */
export function checkFolders(folders: string[]): string[] {
  return folders.map((folder) => {
    const path = resolve(folder);
    if (!existsSync(path)) throw new WatchFolderError(`watched folder ${path} does not exist`);
    if (!statSync(path).isDirectory()) throw new WatchFolderError(`watched folder ${path} is not a folder`);
    try {
      accessSync(path, constants.R_OK | constants.X_OK);
    } catch {
      throw new WatchFolderError(`watched folder ${path} cannot be read (permission denied)`);
    }
    return path;
  });
}

function realpathOrNull(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

export class OutputWatcher extends EventEmitter<{ event: [WatchEvent] }> {
  readonly folders: string[];
  #watcher: FSWatcher | null = null;
  readonly #missing = new Set<string>();
  #folderCheck: NodeJS.Timeout | null = null;
  #finished: FinishedFiles | null = null;
  /** How each watched folder is written: by this machine alone, or maybe by others. */
  readonly sharing: ReadonlyMap<string, FolderSharing>;
  readonly #othersHidden: boolean;

  constructor(private readonly options: OutputWatcherOptions) {
    super();
    this.folders = checkFolders(options.folders);
    const mounts = readMounts();
    this.sharing = folderSharing(this.folders, { sharedFolders: (options.sharedFolders ?? []).map((folder) => resolve(folder)), polling: options.pollIntervalSec > 0, mounts });
    this.#othersHidden = procHidesOtherUsers(mounts, process.getuid?.() ?? 0);
  }

  #sharingOf(path: string): FolderSharing {
    const folder = watchedFolderOf(this.folders, path);
    return folder === undefined ? 'shared' : (this.sharing.get(folder) ?? 'shared');
  }

  /** Resolves once the initial scan is done and new files will be reported. */
  async start(): Promise<void> {
    const extensions = new Set(this.options.extensions.map((ext) => ext.toLowerCase()));
    const polling = this.options.pollIntervalSec > 0;
    const notReal = notARealPlace(this.folders.map((folder) => ({ path: folder, real: realpathOrNull(folder) ?? folder })), realpathOrNull);
    const watcher = watch(this.folders, {
      ignoreInitial: true,
      persistent: true,
      usePolling: polling,
      interval: polling ? this.options.pollIntervalSec * 1000 : undefined,
      binaryInterval: polling ? this.options.pollIntervalSec * 1000 : undefined,
      ignored: (path, stats) => {
        if (stats === undefined) return false; // asked again with its stats
        if (stats.isFile() && !extensions.has(extname(path).toLowerCase())) return true;
        return notReal(resolve(path));
      },
    });
    this.#watcher = watcher;
    const now = () => new Date().toISOString();
    const windowMs = this.options.stabilitySec * 1000;
    const finished = new FinishedFiles(
      {
        windowMs,
        checkMs: Math.min(CHECK_MS, windowMs / 2),
        sharingOf: (path) => this.#sharingOf(path),
        onFinished: (path, change) => this.emit('event', { kind: 'complete', path, change, at: now() }),
        onError: (path, error) => this.emit('event', { kind: 'error', message: `${path}: ${(error as Error).message}`, at: now() }),
      },
      {
        stat: (path) => stat(path).then((info) => (info.isFile() ? { size: info.size, mtimeMs: info.mtimeMs, uid: info.uid } : null), () => null),
        realpath: (path) => realpath(path),
        scan: (target) => scanLocalWriters(target),
        stillWrites: (writer, path) => holdsForWriting(writer, path),
        nowMs: () => performance.now(),
        othersHidden: this.#othersHidden,
        ownUid: process.getuid?.() ?? 0,
      },
    );
    this.#finished = finished;
    watcher.on('add', (path) => finished.changed(resolve(path), 'created'));
    watcher.on('change', (path) => finished.changed(resolve(path), 'modified'));
    watcher.on('unlink', (path) => finished.removed(resolve(path)));
    watcher.on('error', (error) => this.emit('event', { kind: 'error', message: (error as Error).message, at: now() }));
    await new Promise<void>((ready) => watcher.once('ready', () => ready()));
    // chokidar says nothing when a watched root itself goes away (an unmounted share, a deleted
    // folder), so the roots are looked at on a timer.
    this.#folderCheck = setInterval(() => this.#checkFolders(), this.options.folderCheckMs ?? 1000);
    this.#folderCheck.unref();
  }

  async close(): Promise<void> {
    if (this.#folderCheck) clearInterval(this.#folderCheck);
    this.#folderCheck = null;
    this.#finished?.close();
    this.#finished = null;
    await this.#watcher?.close();
    this.#watcher = null;
  }

  #checkFolders(): void {
    const at = new Date().toISOString();
    for (const folder of this.folders) {
      const present = existsSync(folder);
      if (!present && !this.#missing.has(folder)) {
        this.#missing.add(folder);
        this.#watcher?.unwatch(folder);
        this.emit('event', { kind: 'folder-missing', folder, at });
      } else if (present && this.#missing.has(folder)) {
        this.#missing.delete(folder);
        this.#watcher?.add(folder);
        this.emit('event', { kind: 'folder-back', folder, at });
      }
    }
  }
}

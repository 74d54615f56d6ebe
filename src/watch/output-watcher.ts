// The only door to chokidar. Reports a file in a watched folder once its writer has finished with
// it: chokidar's awaitWriteFinish waits until the size has not changed for the stability window, so
// a file written slowly, with shorter pauses, is never reported early. A watched folder that
// disappears is reported and watched again when it comes back.
import { WatchFolderError } from './watch-folder-error.js';
import { EventEmitter } from 'node:events';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { type FSWatcher, watch } from 'chokidar';

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

export class OutputWatcher extends EventEmitter<{ event: [WatchEvent] }> {
  readonly folders: string[];
  #watcher: FSWatcher | null = null;
  readonly #missing = new Set<string>();
  #folderCheck: NodeJS.Timeout | null = null;

  constructor(private readonly options: OutputWatcherOptions) {
    super();
    this.folders = checkFolders(options.folders);
  }

  /** Resolves once the initial scan is done and new files will be reported. */
  async start(): Promise<void> {
    const extensions = new Set(this.options.extensions.map((ext) => ext.toLowerCase()));
    const polling = this.options.pollIntervalSec > 0;
    const watcher = watch(this.folders, {
      ignoreInitial: true,
      persistent: true,
      usePolling: polling,
      interval: polling ? this.options.pollIntervalSec * 1000 : undefined,
      binaryInterval: polling ? this.options.pollIntervalSec * 1000 : undefined,
      awaitWriteFinish: { stabilityThreshold: this.options.stabilitySec * 1000, pollInterval: Math.min(100, this.options.stabilitySec * 500) },
      ignored: (path, stats) => stats?.isFile() === true && !extensions.has(extname(path).toLowerCase()),
    });
    this.#watcher = watcher;
    const now = () => new Date().toISOString();
    watcher.on('add', (path) => this.emit('event', { kind: 'complete', path: resolve(path), change: 'created', at: now() }));
    watcher.on('change', (path) => this.emit('event', { kind: 'complete', path: resolve(path), change: 'modified', at: now() }));
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

// Free space where jobs write, watched: jobs whose folder has less than --min-free wait instead of
// starting (the supervisor is told which folders are short), and start again once space returns.
// Sampled every few seconds, and at once for a folder a job is about to be queued for or has just
// filled, so neither waits for the next round.
import { formatBytes } from '../../machines/resources.js';

export interface DiskMonitorOptions {
  minFreeBytes: number;
  freeBytes: (path: string) => Promise<number | null>;
  /** The folders to sample each round: those waiting jobs write to, and those to report. */
  folders: () => Iterable<string>;
  /** Called when the set of short folders changes, with their free bytes. */
  onChange: (low: Record<string, number>) => void;
  intervalMs: number;
  nowMs: () => number;
}

// A sample this recent stands for a submission's check: a burst of a thousand submissions to one
// folder samples it once, not a thousand times.
const FRESH_MS = 1000;

export interface FolderSpace {
  folder: string;
  freeBytes: number | null;
  /** The same, for people: "76 GiB". */
  free: string | null;
  short: boolean;
}

export class DiskMonitor {
  #low: Record<string, number> = {};
  /** Each folder's free bytes at its last sample, and when that was. */
  readonly #sampled = new Map<string, { freeBytes: number | null; atMs: number }>();
  #timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: DiskMonitorOptions) {}

  start(): void {
    const round = () => void this.check(this.options.folders()).catch(() => undefined);
    round();
    this.#timer = setInterval(round, this.options.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  /** Samples these folders now; tells the supervisor if which are short changed. */
  async check(folders: Iterable<string>): Promise<void> {
    const wanted = new Set([...folders, ...Object.keys(this.#low)]);
    const low = { ...this.#low };
    await Promise.all(
      [...wanted].map(async (folder) => {
        const free = await this.options.freeBytes(folder);
        this.#sampled.set(folder, { freeBytes: free, atMs: this.options.nowMs() });
        if (free !== null && free < this.options.minFreeBytes) low[folder] = free;
        else delete low[folder];
      }),
    );
    const changed = Object.keys(low).length !== Object.keys(this.#low).length || Object.keys(low).some((folder) => this.#low[folder] === undefined);
    this.#low = low;
    if (changed) this.options.onChange(low);
  }

  /** Samples this folder, unless it was a moment ago (a job about to be queued for it). */
  async checkRecent(folder: string): Promise<void> {
    const sample = this.#sampled.get(folder);
    if (sample !== undefined && this.options.nowMs() - sample.atMs < FRESH_MS) return;
    await this.check([folder]);
  }

  /** The folders sampled, with their free space: for health. */
  spaces(): FolderSpace[] {
    return [...this.#sampled].map(([folder, { freeBytes }]) => ({ folder, freeBytes, free: freeBytes === null ? null : formatBytes(freeBytes), short: this.#low[folder] !== undefined }));
  }
}

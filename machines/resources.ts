import { posix } from 'node:path';

// What a daemon has (cpu=2, gpu=2, nvenc=3) and what a job needs (gpu=1, nvenc=1), and which
// waiting jobs may start now. Pure: the supervisor feeds it the line in order and what is free.
//
// Starting: in the line's order (priority, then age), each job starts if its needs fit what is
// free; one that does not fit is passed, so smaller jobs behind it go on (backfill). So that a
// big job is not passed forever, each time a job behind it starts using a resource it waits for,
// it counts one overtake; once it has been overtaken `maxOvertakes` times, what it needs is held
// for it: jobs behind it may use only what is left beyond its needs, and it starts as soon as
// enough has freed up. Jobs that need none of what it waits for still start.

/** Amounts by resource name. A resource the daemon declares no capacity for is unlimited. */
export type Resources = Readonly<Record<string, number>>;

export const DEFAULT_NEEDS: Resources = { cpu: 1 };

/** Resource names: letters, digits, `-` and `_`, starting with a letter. */
export const RESOURCE_NAME = /^[a-z][a-z0-9_-]{0,31}$/;

/** What is free: capacity less what running jobs hold, for declared resources only. */
export function freeResources(capacity: Resources, held: Iterable<Resources>): Record<string, number> {
  const free: Record<string, number> = { ...capacity };
  for (const needs of held) {
    for (const [name, amount] of Object.entries(needs)) if (name in free) free[name] = free[name]! - amount;
  }
  return free;
}

/** The declared resources a job needs more of than exist at all: it can never start here. */
export function beyondCapacity(needs: Resources, capacity: Resources): string[] {
  return Object.entries(needs)
    .filter(([name, amount]) => name in capacity && amount > capacity[name]!)
    .map(([name, amount]) => `${name}=${amount} (this daemon has ${capacity[name]})`);
}

/** Why a job with these needs could never start on this box, or null when it could. */
export function unmetNeeds(needs: Resources, capacity: Resources, gpuDevices: number): string | null {
  const beyond = beyondCapacity(needs, capacity);
  if (beyond.length > 0) return `more than this daemon has: ${beyond.join(', ')}`;
  if ((needs['gpu'] ?? 0) > gpuDevices) return `gpu=${needs['gpu']}, and this daemon has ${gpuDevices === 0 ? 'no GPU' : `${gpuDevices} GPU(s)`} (start it with --resources auto, or gpu=N)`;
  return null;
}

/** The declared resources there is not enough of, by name. */
function shortOf(needs: Resources, free: Resources): string[] {
  return Object.entries(needs)
    .filter(([name, amount]) => amount > 0 && name in free && amount > free[name]!)
    .map(([name]) => name);
}

export interface Candidate {
  id: string;
  needs: Resources;
}

export type Decision = { start: true } | { start: false; reason: string };

/**
 * Decides, one waiting job at a time in the line's order, which start now. Holds what is free as
 * it goes; `overtakes` is the count each waiting job has been overtaken so far (it is updated).
 */
export class StartPlanner {
  readonly #free: Record<string, number>;
  #slots: number;
  /** Jobs passed in this pass, with what they are short of: a later job taking any of it overtakes them. */
  readonly #passed: { id: string; short: string[] }[] = [];

  constructor(
    readonly capacity: Resources,
    free: Resources,
    /** Jobs that may still start under the total cap (Infinity for none). */
    slots: number,
    private readonly maxOvertakes: number,
    private readonly overtakes: Record<string, number>,
  ) {
    this.#free = { ...free };
    this.#slots = slots;
  }

  /** No job can start any more: no slot left. */
  get full(): boolean {
    return this.#slots <= 0;
  }

  consider(job: Candidate): Decision {
    if (this.#slots <= 0) return { start: false, reason: 'every slot is taken (--max-concurrent)' };
    const impossible = beyondCapacity(job.needs, this.capacity);
    if (impossible.length > 0) return { start: false, reason: `needs more than exists: ${impossible.join(', ')}` };
    const short = shortOf(job.needs, this.#free);
    if (short.length === 0) {
      Object.assign(this.#free, freeResources(this.#free, [job.needs]));
      this.#slots--;
      for (const waiting of this.#passed) if (waiting.short.some((name) => (job.needs[name] ?? 0) > 0)) this.overtakes[waiting.id] = (this.overtakes[waiting.id] ?? 0) + 1;
      return { start: true };
    }
    const wanted = short.map((name) => `${name}=${job.needs[name]} (${Math.max(0, this.#free[name]!)} free)`).join(', ');
    const count = this.overtakes[job.id] ?? 0;
    if (count >= this.maxOvertakes) {
      // Held for it from now on: what is free of what it needs goes to it first.
      Object.assign(this.#free, freeResources(this.#free, [job.needs]));
      this.#slots--;
      return { start: false, reason: `waiting for ${wanted}; held for it as it frees up (overtaken ${count} times)` };
    }
    this.#passed.push({ id: job.id, short });
    return { start: false, reason: `waiting for ${wanted}` };
  }
}

/**
 * Which devices of a resource a starting job gets: the least loaded first (ties to the lowest
 * index), avoiding `avoid` (a device it failed on) while others have room. `perDevice` is how
 * many jobs one device may run at once.
 */
export function chooseDevices(devices: readonly number[], load: Readonly<Record<number, number>>, count: number, perDevice: number, avoid: readonly number[] = []): number[] {
  const ranked = [...devices].sort((a, b) => (avoid.includes(a) ? 1 : 0) - (avoid.includes(b) ? 1 : 0) || (load[a] ?? 0) - (load[b] ?? 0) || a - b);
  return ranked.filter((device) => (load[device] ?? 0) < perDevice).slice(0, count);
}

/** The folder whose free space a job needs: its output's, else where it runs. */
export function diskFolderOf(job: { output: string | null; cwd: string }): string {
  return job.output === null ? job.cwd : posix.dirname(job.output);
}

/** 1.5 GiB, 300 MiB, 12 KiB: for the reasons people read. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(value >= 10 ? 0 : 1)} ${units[unit]}`;
}

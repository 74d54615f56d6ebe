// The daemon's side of the guards (guard-process.ts): one guard per encoder run of a claimed job,
// started before the encoder, told the new deadline after each lease renewal, released when the run
// ends by itself. The deadline is the lease's end on this machine's monotonic clock, less the kill
// grace and a margin: by the time another host may take the job, this host's encoders are gone.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface RunGuard {
  /** The run ended by itself: the guard leaves without touching anything. */
  release(): void;
}

// Under tsx (the tests) the guard is the TypeScript file, with the same loader; built, the .js.
const GUARD_SCRIPT = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './guard-process.ts' : './guard-process.js', import.meta.url));

export class RunGuards {
  readonly #guards = new Map<string, ChildProcess>();

  constructor(private readonly graceMs: number) {}

  /** Starts the guard of a run (by its tag) that must be gone by `deadlineNs` (monotonic). */
  start(jobId: string, tag: string, deadlineNs: bigint): RunGuard {
    const child = spawn(process.execPath, [...process.execArgv, GUARD_SCRIPT, tag, String(deadlineNs), String(this.graceMs)], {
      // Its own process group: a signal to the daemon's group (a terminal's Ctrl-C) leaves it be.
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
    });
    child.unref();
    child.stdin!.on('error', () => undefined);
    child.on('error', () => undefined);
    this.#guards.set(jobId, child);
    child.on('exit', () => {
      if (this.#guards.get(jobId) === child) this.#guards.delete(jobId);
    });
    return {
      release: () => {
        child.stdin!.end('release\n');
        if (this.#guards.get(jobId) === child) this.#guards.delete(jobId);
      },
    };
  }

  /** A renewed lease: the run may go on until this new deadline. */
  extend(jobId: string, deadlineNs: bigint): void {
    this.#guards.get(jobId)?.stdin!.write(`extend ${deadlineNs}\n`);
  }

  get count(): number {
    return this.#guards.size;
  }
}

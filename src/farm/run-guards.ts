// The daemon's side of the guards (run-guard.sh): one guard per encoder run of a claimed job,
// started before the encoder, given a new deadline after each lease renewal (a file it reads, moved
// into place whole), released when the run ends by itself (the file removed). The deadline is the
// lease's end on this machine's clock, less the kill grace and a margin (farm-host.ts): by the time
// another host may take the job, this host's encoders are gone.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageFile } from '../encsup-package.js';

export interface RunGuard {
  /** The run ended by itself: the guard leaves without touching anything. */
  release(): void;
}

// The script ships in the package (encsup-package.ts), beside the sources, whatever runs the code.
const GUARD_SCRIPT = packageFile('src', 'farm', 'run-guard.sh') ?? join(dirname(fileURLToPath(import.meta.url)), 'run-guard.sh');

/** /proc/uptime in hundredths of a second (the guard's clock), where a monotonic deadline in ns falls. */
function uptimeDeadline(deadlineNs: bigint): string {
  const uptimeCs = Math.round(Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 100);
  const remainingCs = Number((deadlineNs - process.hrtime.bigint()) / 10_000_000n);
  return String(uptimeCs + remainingCs);
}

export class RunGuards {
  readonly #files = new Map<string, string>();

  constructor(
    /** A private folder for the deadline files. */
    private readonly folder: string,
    private readonly graceMs: number,
  ) {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
  }

  /** Starts the guard of a run (by its tag) that must be gone by `deadlineNs` (process.hrtime). */
  start(jobId: string, tag: string, deadlineNs: bigint): RunGuard {
    const file = join(this.folder, tag.replaceAll('/', '_'));
    this.#write(file, deadlineNs);
    this.#files.set(jobId, file);
    const child = spawn('/bin/sh', [GUARD_SCRIPT, tag, file, String(Math.round(this.graceMs)), String(process.pid)], {
      // Its own process group: a signal to the daemon's group (a terminal's Ctrl-C) leaves it be.
      detached: true,
      stdio: 'ignore',
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
    });
    child.on('error', () => undefined);
    child.unref();
    return {
      release: () => {
        if (this.#files.get(jobId) === file) this.#files.delete(jobId);
        rmSync(file, { force: true });
      },
    };
  }

  /** A renewed lease: the run may go on until this new deadline. */
  extend(jobId: string, deadlineNs: bigint): void {
    const file = this.#files.get(jobId);
    if (file) this.#write(file, deadlineNs);
  }

  #write(file: string, deadlineNs: bigint): void {
    // Whole or not at all: the guard never reads half a number.
    writeFileSync(`${file}.new`, `${uptimeDeadline(deadlineNs)}\n`, { mode: 0o600 });
    renameSync(`${file}.new`, file);
  }
}

// A file that a client says is complete (POST /api/outputs, `encsup watch-output` elsewhere) is
// believed only when it lies inside a folder the daemon accepts reports for (symlinks resolved,
// so `watched/link -> /etc` is outside), and only once the daemon has seen its size and time stay
// still for the stability window itself: a report can't finalize a half-written file.
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, resolve, sep } from 'node:path';

export class ReportRefused extends Error {
  constructor(
    readonly reason: 'outside' | 'missing' | 'not-a-file' | 'still-writing',
    message: string,
  ) {
    super(message);
  }
}

export interface ReportCheckOptions {
  /** Folders whose files may be reported: the watched ones and those named by --report-dir. */
  folders: string[];
  stabilityMs: number;
  /** How long a file may keep changing before the report is refused. */
  maxWaitMs: number;
}

export const MAX_PATH_LENGTH = 4096;

/** Whether a path lies inside a folder (not the folder itself, nor a sibling that starts alike). */
export function isInsideFolder(path: string, folder: string): boolean {
  return path.startsWith(folder.endsWith(sep) ? folder : folder + sep);
}

/** The normalized path once the file is inside an accepted folder and has stopped changing. */
export async function confirmReportedOutput(reported: string, options: ReportCheckOptions): Promise<string> {
  if (!isAbsolute(reported)) throw new ReportRefused('outside', 'path: expected an absolute path');
  const path = resolve(reported);
  if (options.folders.length === 0) {
    throw new ReportRefused('outside', 'path: this daemon accepts reports for no folder: start it with --watch DIR or --report-dir DIR');
  }
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    throw new ReportRefused('missing', `path: ${path} does not exist on the daemon's machine`);
  }
  const roots = await Promise.all(options.folders.map((folder) => realpath(folder).catch(() => null)));
  if (!roots.some((root) => root !== null && isInsideFolder(real, root))) {
    throw new ReportRefused('outside', `path: ${path} is not inside a folder this daemon accepts reports for (${options.folders.join(', ')})`);
  }
  await waitUntilStill(real, options);
  return path;
}

async function waitUntilStill(path: string, options: ReportCheckOptions): Promise<void> {
  const pollMs = Math.max(20, Math.min(250, options.stabilityMs / 5));
  const deadline = Date.now() + options.maxWaitMs;
  let last = await fingerprint(path);
  let stillSince = Date.now();
  for (;;) {
    if (Date.now() - stillSince >= options.stabilityMs) return;
    if (Date.now() > deadline) throw new ReportRefused('still-writing', `path: ${path} is still being written; report it once it is complete`);
    await new Promise((done) => setTimeout(done, pollMs));
    const now = await fingerprint(path);
    if (now !== last) {
      last = now;
      stillSince = Date.now();
    }
  }
}

async function fingerprint(path: string): Promise<string> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new ReportRefused('missing', `path: ${path} disappeared while being checked`);
  }
  if (!info.isFile()) throw new ReportRefused('not-a-file', `path: ${path} is not a regular file`);
  return `${info.size}:${info.mtimeMs}`;
}

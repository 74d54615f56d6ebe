// --keep-finished and --keep-logs, applied by the daemon itself: at start and every ten minutes
// (finished jobs age by hours, not seconds), one sweep at a time. Which jobs are due is decided in
// retention.ts; removing them goes through the same requests an operator's `encsup clean` uses.
import type { Logger } from '../logger.js';
import type { JobLedger } from '../store/job-ledger.js';
import type { JobRequests } from './job-requests.js';
import { finishedBefore } from './retention.js';

const RETENTION_EVERY_MS = 10 * 60 * 1000;

export interface RetentionOptions {
  /** 0: keep forever. */
  keepFinishedSec: number;
  keepLogsSec: number;
  requests: JobRequests;
  ledger: JobLedger;
  nowMs: () => number;
  log: Logger;
}

/** Starts the sweeps; returns the stop. */
export function startRetention(options: RetentionOptions): () => void {
  const { keepFinishedSec, keepLogsSec, requests, ledger, nowMs, log } = options;
  if (keepFinishedSec === 0 && keepLogsSec === 0) return () => undefined;
  let running: Promise<void> | null = null;
  const sweep = async () => {
    // Every finished job is a candidate: after a start, once they have all been read.
    await ledger.whenWhole();
    if (keepFinishedSec > 0) {
      const removed = await requests.removeFinished(finishedBefore(ledger.list(), nowMs(), keepFinishedSec));
      if (removed.length > 0) log.info({ removed: removed.length, keepFinishedSec }, 'removed finished jobs past their retention');
    }
    if (keepLogsSec > 0) await requests.removeLogs(finishedBefore(ledger.list(), nowMs(), keepLogsSec));
  };
  const run = () => {
    running ??= sweep()
      .catch((error: unknown) => log.error({ err: error }, 'retention sweep failed; it runs again later'))
      .finally(() => (running = null));
  };
  run();
  const timer = setInterval(run, RETENTION_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}

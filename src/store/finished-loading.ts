// The second part of a staged load (job-store.ts): the finished jobs, read while the daemon already
// runs and serves, join the ledger when they come. A read that fails (the database restarting) is
// tried again until it succeeds or the daemon stops; until then the book is not whole, and what
// needs every job (the API's requests, metrics, the retention sweep) waits for it.
import type { Logger } from '../logger.js';
import type { JobLedger } from './job-ledger.js';
import type { StagedLoad } from './job-store.js';

const RETRY_MS = 2000;

export interface FinishedLoading {
  /** Stops trying; resolves once no read is under way (the store may then close). */
  stop(): Promise<void>;
}

/** Reads the finished jobs into a ledger that expects them (recover-store.ts marked it so, as it adopted the rest). */
export function loadFinishedInBackground(
  staged: StagedLoad,
  ledger: JobLedger,
  options: { log: Logger; nowMs: () => number; onProblems: (problems: string[]) => void; retryMs?: number },
): FinishedLoading {
  const { log } = options;
  let stopped = false;
  let wake: (() => void) | null = null;
  const run = async () => {
    const started = options.nowMs();
    for (let attempt = 1; !stopped; attempt++) {
      try {
        const loaded = await staged.finished();
        if (stopped) return;
        for (const problem of loaded.problems) log.warn({ problem }, 'a stored record could not be read');
        options.onProblems(loaded.problems);
        ledger.adoptFinished(loaded);
        log.info({ finished: loaded.finished.size, ms: options.nowMs() - started }, 'finished jobs loaded');
        return;
      } catch (error) {
        if (stopped) return;
        log.warn({ err: error, attempt }, 'could not read the finished jobs from the store; trying again');
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, options.retryMs ?? RETRY_MS).unref();
        });
      }
    }
  };
  const running = run();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await running;
    },
  };
}

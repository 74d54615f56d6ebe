// What a start does with the store before anything runs: load the records (or, from a store that
// reads its finished jobs apart, the unfinished ones), adopt them, end the
// encoders a previous daemon left running (recovery.ts decides which), write the changed records
// back, and say what happened. Returns the waiting line to start with.
import type { Job } from '../machines/job-record.js';
import type { LifecycleEvent } from '../machines/lifecycle.js';
import type { Logger } from './logger.js';
import { recoverJobs } from './recovery.js';
import { endOrphan } from './runner/end-orphan.js';
import { endTagged } from './runner/process-tag.js';
import { discardStaged, writesStaged } from './media/staged-output.js';
import type { JobLedger } from './store/job-ledger.js';
import type { JobStore } from './store/job-store.js';

export interface RecoveredStore {
  /** Jobs to put in line, oldest first. */
  queued: Job[];
  /** Records that could not be read, described (reported on /healthz). */
  problems: string[];
}

export async function recoverStore(options: {
  store: JobStore;
  ledger: JobLedger;
  log: Logger;
  killGraceMs: number;
  nowIso: () => string;
  /** The data folder's process tag: every tagged process found is a previous daemon's. */
  folderTag: string;
  keepFailedOutputs: boolean;
  announce: (event: LifecycleEvent) => void;
  /**
   * 'farm': the records are the farm's, and this host's earlier claims are taken back by the farm
   * (lease-rescue.ts); here only the processes this data folder's daemons started are ended.
   */
  scope?: 'box' | 'farm';
}): Promise<RecoveredStore> {
  const { store, ledger, log } = options;
  // A store that reads its finished jobs apart gives the unfinished ones now; the daemon reads the
  // rest while it serves (finished-loading.ts). Recovery needs only these.
  if (store.staged) ledger.expectFinished();
  const loaded = store.staged ? await store.staged.active() : await store.load();
  for (const problem of loaded.problems) log.warn({ problem }, 'a stored record could not be read');
  ledger.adopt(loaded.active, loaded.finished);
  const at = options.nowIso();
  // Finished jobs need nothing: only those that were waiting or running when it stopped.
  const recovery = options.scope === 'farm' ? { changed: [], queued: [], orphans: [] } : recoverJobs(loaded.active, at);
  for (const orphan of recovery.orphans) {
    const result = await endOrphan(orphan.pid, orphan.pidStartTicks, options.killGraceMs);
    if (result === 'ended') log.warn({ jobId: orphan.jobId, pid: orphan.pid }, 'ended an encoder left running by the previous daemon');
  }
  // This daemon holds the folder's lock and has started nothing yet: every process tagged with
  // this folder is a previous daemon's, found even where no pid was stored (a crash right after
  // a spawn) or where it left its process group (setsid).
  const prefix = `${options.folderTag}/`;
  for (const found of await endTagged((tag) => tag.startsWith(prefix), options.killGraceMs)) {
    log.warn({ jobId: found.tag.split('/')[1], attempt: Number(found.tag.split('/')[2]), pid: found.pid }, 'ended a process a previous daemon started, found by its run tag');
  }
  // An interrupted attempt's staged output is as good as a failed one's: never published.
  for (const job of options.scope === 'farm' ? [] : loaded.active) {
    if ((job.status === 'encoding' || job.status === 'finalizing') && writesStaged(job)) await discardStaged(job, options.keepFailedOutputs).catch(() => undefined);
  }
  for (const job of recovery.changed) {
    void ledger.record(job);
    options.announce(job.status === 'queued' ? { kind: 'requeued', jobId: job.id, at, reason: 'recovery' } : { kind: 'failed', jobId: job.id, at, reason: job.error ?? 'interrupted', failureKind: job.failureKind });
  }
  await ledger.whenIdle();
  return { queued: recovery.queued, problems: loaded.problems };
}

// Wiring of a daemon that is a host of a farm (its store is PostgreSQL): the host (claims, leases,
// heartbeat, rescue), the change feed from the other hosts, the guards of its encoder runs, live
// progress shared through NOTIFY, and the farm's way of changing waiting jobs. The daemon calls
// `start` once it listens, and `leave` after its supervisor has stopped.
import type { Actor } from 'xstate';
import type { Job } from '../../machines/job-record.js';
import type { LifecycleEvent } from '../../machines/lifecycle.js';
import type { supervisorMachine } from '../../machines/supervisor-machine.js';
import type { JobQueueing } from '../jobs/job-requests.js';
import type { Logger } from '../logger.js';
import type { LiveProgress } from '../runner/runner-actor.js';
import type { JobLedger } from '../store/job-ledger.js';
import type { PostgresStore } from '../store/postgres-store.js';
import { FarmFeed } from './farm-feed.js';
import { FarmHost, type HostRow } from './farm-host.js';
import { hostView } from './host-view.js';
import type { FarmHosts } from '../api/server.js';
import { farmQueueing } from './farm-queueing.js';
import { SQL } from './farm-sql.js';
import { type RunGuard, RunGuards } from './run-guards.js';

export interface FarmParts {
  store: PostgresStore;
  supervisor: Actor<typeof supervisorMachine>;
  ledger: JobLedger;
  labels: string[];
  leaseSec: number;
  killGraceSec: number;
  /** A private folder for the guards' deadline files. */
  guardFolder: string;
  log: Logger;
  nowIso: () => string;
  announce: (event: LifecycleEvent, job: Job) => void;
  /** Where other hosts' progress goes: this daemon's live views. */
  showLive: (live: LiveProgress) => void;
}

// Another host's views need no more than this of a running job's progress.
const LIVE_SHARE_MS = 1000;

export interface Farm {
  host: FarmHost;
  /** The farm's hosts for the API. */
  hosts: FarmHosts;
  queueing: JobQueueing;
  /** The guard of a run, started before its encoder. */
  guardRun(job: Job, tag: string): RunGuard;
  /** This host's own encoder's progress, shared with the other hosts (at most once a second a job). */
  shareLive(live: LiveProgress): void;
  /** Listeners of jobs changed by other hosts (for the event stream). */
  onJob(listener: (job: Job) => void): () => void;
  start(apiUrl: string): Promise<void>;
  /** After the supervisor stopped: what it still held goes back to the farm's line; then stop. */
  leave(): Promise<void>;
}

export function prepareFarm(parts: FarmParts): Farm {
  const { store, ledger, log } = parts;
  const guards = new RunGuards(parts.guardFolder, parts.killGraceSec * 1000);
  const host = new FarmHost({ ...parts, guards, leaseMs: parts.leaseSec * 1000, killGraceMs: parts.killGraceSec * 1000 });
  const jobListeners = new Set<(job: Job) => void>();
  const feed = new FarmFeed({
    store,
    ledger,
    log,
    onJob: (job) => jobListeners.forEach((listener) => listener(job)),
    onLive: ({ host: _host, ...live }) => parts.showLive(live),
    onCancelRequested: (id) => host.leases.cancelRequested(id),
    onWaiting: () => host.wake(),
  });
  const lastShared = new Map<string, number>();
  const view = (row: HostRow) => hostView(row, parts.leaseSec);
  return {
    host,
    hosts: {
      list: async () => (await host.hosts()).map(view),
      setDraining: async (name, draining) => {
        if (!(await host.setDraining(name, draining))) return null;
        const row = (await host.hosts()).find((each) => each.name === name);
        return row ? view(row) : null;
      },
    },
    queueing: farmQueueing({ ...parts, wake: () => host.wake(), hostCapacities: async () => (await host.hosts()).filter((each) => each.stopped_at === null).map((each) => each.capacity) }),
    guardRun: (job, tag) => guards.start(job.id, tag, store.claims.get(job.id)?.deadlineNs ?? process.hrtime.bigint()),
    shareLive(live) {
      // Only this host's own runs: progress heard from other hosts is theirs to share.
      if (!store.claims.has(live.jobId)) return;
      const now = Date.now();
      if (now - (lastShared.get(live.jobId) ?? 0) < LIVE_SHARE_MS) return;
      lastShared.set(live.jobId, now);
      if (lastShared.size > 10_000) lastShared.clear();
      void store.pool.query(SQL.notifyLive, [JSON.stringify({ host: store.hostName, ...live })]).catch(() => undefined);
    },
    onJob(listener) {
      jobListeners.add(listener);
      return () => jobListeners.delete(listener);
    },
    async start(apiUrl) {
      await feed.start();
      await host.start(apiUrl).catch(async (error: unknown) => {
        await feed.stop();
        throw error;
      });
    },
    async leave() {
      // Claimed as the shutdown began, or waiting out a retry's backoff: back in line for any host.
      for (const id of [...store.claims.keys()]) {
        const job = ledger.latest(id);
        if (job?.status === 'queued') void ledger.record({ ...job, retryDelayMs: null });
      }
      await ledger.whenIdle();
      await host.stop();
      await feed.stop();
    },
  };
}

// Wiring only: store → ledger → machines (with the pty runner) → API. `close()` is the shutdown:
// stop starting jobs, end every encoder's process group, make every job durable, close the store.
import type { AddressInfo } from 'node:net';
import { extname, join, sep } from 'node:path';
import { createActor, fromPromise, waitFor } from 'xstate';
import { jobMachine } from '../machines/job-machine.js';
import { supervisorMachine } from '../machines/supervisor-machine.js';
import { EventHub } from './api/event-stream.js';
import { hostPolicy } from './api/host-names.js';
import { createApiServer } from './api/server.js';
import { loadOrCreateToken } from './api/token.js';
import { ConfigError, type DaemonConfig, watchedFolders } from './config.js';
import { makePrivate, preparePrivateFolder } from './data-folder.js';
import { OutputWatcher } from './watch/output-watcher.js';
import { startInspection } from './inspect.js';
import { TransitionLog } from './jobs/transition-log.js';
import { createMetrics } from './metrics.js';
import type { Deps } from './deps.js';
import { JobControl, type RuntimeSettings } from './jobs/job-control.js';
import { mediaToolPath } from './media/binaries.js';
import { checkOutput } from './media/output-check.js';
import { inputOf, probeTotals } from './media/probe.js';
import { recoverJobs } from './recovery.js';
import { endOrphan } from './runner/end-orphan.js';
import { LiveRuns, createRunnerActor, jobLogPath } from './runner/runner-actor.js';
import { JobLedger } from './store/job-ledger.js';

export interface Daemon {
  url: string;
  port: number;
  control: JobControl;
  ledger: JobLedger;
  /** Encoders running right now. */
  liveEncoders: () => number;
  /** The API token; null when the daemon runs with --no-auth. */
  token: string | null;
  /** The dashboard's address with the token, which logs a browser in; null without auth. */
  loginUrl: string | null;
  /** The Stately inspector page (with the token), when --inspect is on. */
  inspectorUrl: string | null;
  close(): Promise<void>;
}

export async function startDaemon(config: DaemonConfig, deps: Deps): Promise<Daemon> {
  const log = deps.logger;
  const folders = watchedFolders(config);
  if (config.fileWatcher && folders.length === 0) {
    throw new ConfigError('VIDEO_PROCESSING_FILE_WATCHER', 'true', 'the watcher is on but has no folder: set ENCSUP_OUTPUT_DIR or ENCSUP_WATCH_DIRS (or --watch)');
  }
  // Checked before anything starts: a watched folder that is missing or unreadable stops the start.
  const watcher =
    folders.length === 0
      ? null
      : new OutputWatcher({ folders, extensions: config.watchExtensions, stabilitySec: config.watchStabilitySec, pollIntervalSec: config.watcherIntervalSec });
  const logDir = join(config.dataDir, 'logs');
  await preparePrivateFolder(config.dataDir, log);
  await preparePrivateFolder(logDir, log);
  const token = config.auth ? await loadOrCreateToken(config.dataDir, config.token) : null;
  if (token === null) log.warn({ host: config.host }, 'running with --no-auth: every local user and program can run commands through this daemon');
  const storePath = join(config.dataDir, 'jobs.db');
  const store = await deps.openStore(storePath);
  await makePrivate(storePath);
  const nowIso = () => new Date(deps.nowMs()).toISOString();

  const ledger = new JobLedger(store, {
    nowIso,
    onWriteError: (job, error) => log.error({ jobId: job.id, err: error }, 'could not write the job to the store; retrying'),
  });
  const loaded = await store.loadAll();
  for (const problem of loaded.problems) log.warn({ problem }, 'a stored record could not be read');
  ledger.adopt(loaded.jobs);
  const recovery = recoverJobs(loaded.jobs, nowIso());
  for (const orphan of recovery.orphans) {
    const result = await endOrphan(orphan.pid, orphan.pidStartTicks, config.killGraceSec * 1000);
    if (result === 'ended') log.warn({ jobId: orphan.jobId, pid: orphan.pid }, 'ended an encoder left running by the previous daemon');
  }
  await Promise.all(recovery.changed.map((job) => ledger.record(job)));
  for (const job of recovery.changed) {
    log.info({ jobId: job.id, attempts: job.attempts, status: job.status }, job.status === 'queued' ? 'job was running when the daemon stopped; queued again' : job.error ?? 'job failed');
  }

  // Without any ffprobe, totals come only from what encoders print.
  const ffprobe = (() => {
    try {
      return mediaToolPath('ffprobe');
    } catch {
      return null;
    }
  })();
  const settings: RuntimeSettings = { maxConcurrent: config.maxConcurrent, progressThreshold: config.progressThreshold };
  const live = new LiveRuns();
  const runner = createRunnerActor(
    {
      spawnPty: deps.spawnPty,
      nowMs: deps.nowMs,
      graceMs: config.killGraceSec * 1000,
      baseEnv: deps.baseEnv,
      logDir,
      maxLogBytes: config.maxLogBytes,
      throttle: () => ({
        // With progress tracking off, only the first and the final update are written.
        progressThreshold: config.trackProgress ? settings.progressThreshold : Number.POSITIVE_INFINITY,
        heartbeatMs: config.trackProgress ? config.progressHeartbeatSec * 1000 : Number.POSITIVE_INFINITY,
      }),
      whenDurable: (id) => ledger.whenDurable(id),
      onError: (jobId, error) => log.error({ jobId, err: error }, 'runner error'),
      probeInput: async (job) => {
        const input = inputOf(job);
        return input && ffprobe ? probeTotals(input, ffprobe) : null;
      },
    },
    live,
  );
  const jobLogic = jobMachine.provide({
    actors: {
      runner,
      outputCheck: fromPromise(({ input }) => checkOutput(input.job, { ffprobe, durationTolerancePct: config.durationTolerancePct })),
    },
    actions: { recordJob: ({ context }) => void ledger.record(context.job) },
    guards: { outputIsWatched: ({ context }) => watcher !== null && watches(watcher.folders, config.watchExtensions, context.job.output) },
    // The watcher reports a file a stability window after its last write (and, polling, up to one
    // interval later); past that, finalizing checks the output anyway.
    delays: { outputWait: (config.watchStabilitySec + config.watcherIntervalSec + 10) * 1000 },
  });
  const inspection = config.inspectPort > 0 ? await startInspection(config.inspectPort, token) : null;
  if (inspection) log.info({ inspector: inspection.url }, 'Stately inspector: open this page in a browser on this machine');
  const supervisor = createActor(
    supervisorMachine.provide({
      actors: { job: jobLogic },
      actions: { recordJob: (_, job) => void ledger.record(job) },
    }),
    { input: { maxConcurrent: settings.maxConcurrent, queued: recovery.queued }, ...(inspection ? { inspect: inspection.inspect } : {}) },
  );
  const unsubscribeLog = ledger.onCommitted((job) =>
    log.debug({ jobId: job.id, status: job.status, progress: job.progress }, 'job recorded'),
  );
  supervisor.start();

  const control = new JobControl({
    ledger,
    supervisor,
    settings,
    newId: deps.newId,
    nowIso,
    defaultCwd: process.cwd(),
    cancelWaitMs: config.killGraceSec * 1000 + 2000,
    jobDefaults: { timeoutSec: config.timeoutSec, stallTimeoutSec: config.stallTimeoutSec, maxAttempts: config.maxAttempts, retryBackoffSec: config.retryBackoffSec },
    reports: {
      folders: [...folders, ...config.reportDirs],
      stabilityMs: config.watchStabilitySec * 1000,
      // A file still changing after this long is refused; its writer reports it again when done.
      maxWaitMs: Math.max(30_000, config.watchStabilitySec * 10_000),
    },
  });
  if (watcher) {
    watcher.on('event', (event) => {
      if (event.kind !== 'complete') return log.warn({ watch: event }, 'output watcher');
      const routed = control.outputComplete(event.path, event.at);
      log.info({ jobId: 'jobId' in routed ? routed.jobId : undefined, path: event.path, match: routed.kind }, 'output complete');
    });
    await watcher.start();
    log.info({ folders: watcher.folders }, 'watching output folders');
  }
  const transitions = new TransitionLog();
  const stopTransitions = ledger.onCommitted((job) => transitions.observe(job));
  for (const job of ledger.list()) transitions.observe(job);
  const metrics = createMetrics(ledger, () => live.count);
  metrics.countRestarts(recovery.changed.filter((job) => job.status === 'queued').length);
  const events = new EventHub({ onJob: (listener) => ledger.onCommitted(listener), onOutput: (listener) => control.onOutput(listener) });
  const server = createApiServer({
    control,
    ledger,
    events,
    metrics: metrics.registry,
    transitions,
    guard: { hosts: hostPolicy(config.host, config.allowedHosts), token },
    logPath: (id) => jobLogPath(logDir, id),
    health: () => ({
      ok: ledger.failure === null,
      accepting: control.accepting,
      store: ledger.failure === null ? { writable: true, problemsAtLoad: loaded.problems.length } : { writable: false, ...ledger.failure },
    }),
    onError: (error, request) => log.error({ err: error, ...request }, 'a request failed inside the daemon; answered 500'),
  });
  // What the daemon holds once nothing runs any more: listeners, the inspector, the store.
  const release = async () => {
    supervisor.stop();
    unsubscribeLog();
    stopTransitions();
    metrics.close();
    events.close();
    await inspection?.stop();
    await watcher?.close();
    await ledger.whenIdle();
    await store.close();
  };
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
  } catch (error) {
    // Nothing has run yet: give the store back so a second try (another port) can open it.
    await release();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const url = addressOf(port, config.host);
  log.info({ url, dataDir: config.dataDir, maxConcurrent: settings.maxConcurrent, queued: recovery.queued.length }, 'encsup daemon started');
  // As Jupyter does: the link that logs a browser in, ready to open.
  const loginUrl = token === null ? null : `${url}/?token=${encodeURIComponent(token)}`;
  if (loginUrl) log.info({ dashboard: loginUrl }, 'dashboard ready: open this link to log in');

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      await watcher?.close();
      if (config.drainSec > 0) {
        log.info({ drainSec: config.drainSec }, 'draining: no new jobs start; waiting for running ones');
        supervisor.send({ type: 'DRAIN' });
        await waitFor(supervisor, (snapshot) => snapshot.context.running.length === 0, { timeout: config.drainSec * 1000 }).catch(() => undefined);
      }
      log.info('shutting down: ending encoders and requeuing their jobs');
      supervisor.send({ type: 'SHUTDOWN' });
      await waitFor(supervisor, (snapshot) => snapshot.status === 'done', { timeout: Infinity });
      await live.whenAllExited();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await release();
      log.info('encsup daemon stopped');
    })());

  return { url, port, control, ledger, liveEncoders: () => live.count, token, loginUrl, inspectorUrl: inspection?.url ?? null, close };
}

function watches(folders: string[], extensions: string[], output: string | null): boolean {
  if (output === null || !extensions.includes(extname(output).toLowerCase())) return false;
  return folders.some((folder) => output.startsWith(folder.endsWith(sep) ? folder : folder + sep));
}

export function addressOf(port: number, host: string): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

// Wiring only: data folder and token → store and recovery → machines (with the pty runner, the
// output check and the lifecycle feed) → views of the lifecycle (log, metrics, transitions, event
// stream) → API. `close()` is shutdownDaemon: stop starting jobs, end every encoder's process group,
// make every job durable, close the store.
import { rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { dirname, extname, join } from 'node:path';
import { type Actor, createActor, waitFor } from 'xstate';
import { describeJobGraph } from '../machines/job-graph.js';
import { supervisorMachine } from '../machines/supervisor-machine.js';
import { deviceIndices, detectGpus, detectedCapacity } from './resources/gpu-detect.js';
import { oomKillCount } from './failures/oom-kills.js';
import { classifyCheckFailure, fullDiskAtExit } from './failures/classify.js';
import { freeBytesAt } from './media/disk-space.js';
import { DiskMonitor } from './media/disk-monitor.js';
import { isInsideFolder } from './watch/reported-output.js';
import { redactedUrl } from './store/store-url.js';
import { BoxHealth } from './health/box-health.js';
import { diskFolderOf } from '../machines/resources.js';
import { EventHub } from './api/event-stream.js';
import { hostPolicy } from './api/host-names.js';
import { addressOf, listen, stopListening } from './api/listen.js';
import { createApiServer } from './api/server.js';
import { loadOrCreateSecret, loadOrCreateToken } from './api/token.js';
import type { LifecycleKind } from '../machines/lifecycle.js';
import { postJson } from './webhooks/post-json.js';
import { WebhookOutbox } from './webhooks/webhook-outbox.js';
import { type DaemonConfig, watchedFolders } from './config.js';
import { preparePrivateFolder } from './data-folder.js';
import { type FolderLock, lockDataFolder } from './folder-lock.js';
import type { Deps } from './deps.js';
import { createJobLogic } from './jobs/job-logic.js';
import { JobRequests, supervisorQueueing } from './jobs/job-requests.js';
import type { Farm } from './farm/join-farm.js';
import type { Job } from '../machines/job-record.js';
import { startRetention } from './jobs/retention-sweep.js';
import { TransitionLog } from './jobs/transition-log.js';
import { LifecycleFeed } from './lifecycle/lifecycle-feed.js';
import { logLifecycle } from './lifecycle/log-entries.js';
import type { Logger } from './logger.js';
import { mediaToolPath } from './media/binaries.js';
import { checkOutput } from './media/output-check.js';
import { publishStaged, writesStaged } from './media/staged-output.js';
import { inputsOf, probeInputs } from './media/probe.js';
import { Forecaster } from './forecast/forecaster.js';
import { runsToLearnFrom } from './forecast/run-history.js';
import { launchedBy } from './runner/launch.js';
import { collectGarbageNow, withYoungGenerationHeld } from './young-generation.js';
import { createJobViews } from './forecast/job-view.js';
import { LiveBoard } from './forecast/live-board.js';
import { planOf } from './progress/encode-plan.js';
import { createMetrics } from './metrics.js';
import { recoverStore } from './recover-store.js';
import { folderTag } from './runner/process-tag.js';
import { LiveRuns, type LiveProgress, createRunnerActor, jobLogPath } from './runner/runner-actor.js';
import { JobLedger } from './store/job-ledger.js';
import { type FinishedLoading, loadFinishedInBackground } from './store/finished-loading.js';
import { OutputWatcher } from './watch/output-watcher.js';

export interface Daemon {
  url: string;
  port: number;
  requests: JobRequests;
  ledger: JobLedger;
  /** Encoders running right now. */
  liveEncoders: () => number;
  /** Clients following /api/events right now. */
  eventStreams: () => number;
  /** The API token; null when the daemon runs with --no-auth. */
  token: string | null;
  /** The dashboard's address with the token, which logs a browser in; null without auth. */
  loginUrl: string | null;
  /** The Stately inspector page (with the token), when --inspect is on. */
  inspectorUrl: string | null;
  close(): Promise<void>;
}

// In a farm, events after which this host may claim another job.
const FREES_A_SLOT = new Set<LifecycleKind>(['attempt-ended', 'done', 'failed', 'cancelled', 'requeued']);

// How often free space is sampled where waiting and running jobs write.
const DISK_CHECK_MS = 5000;

export async function startDaemon(config: DaemonConfig, deps: Deps): Promise<Daemon> {
  const folders = watchedFolders(config);
  // Checked before anything starts: a watched folder that is missing or unreadable stops the start.
  const watcher = folders.length === 0 ? null : new OutputWatcher({ folders, extensions: config.watchExtensions, stabilitySec: config.watchStabilitySec, pollIntervalSec: config.watcherIntervalSec, sharedFolders: config.sharedWatchDirs });
  await preparePrivateFolder(config.dataDir, deps.logger);
  // One owner per data folder, before the store is opened or any process is touched: a second
  // daemon stops here, having changed nothing.
  const lock = await lockDataFolder(config.dataDir, () => new Date(deps.nowMs()).toISOString());
  try {
    return await startOwnedDaemon(config, deps, watcher, folders, lock);
  } catch (error) {
    await lock.release();
    throw error;
  }
}

async function startOwnedDaemon(config: DaemonConfig, deps: Deps, watcher: OutputWatcher | null, folders: string[], lock: FolderLock): Promise<Daemon> {
  const log = deps.logger;
  const logDir = join(config.dataDir, 'logs');
  await preparePrivateFolder(logDir, log);
  const token = config.auth ? await loadOrCreateToken(config.dataDir, config.token) : null;
  if (token === null) log.warn({ host: config.host }, 'running with --no-auth: every local user and program can run commands through this daemon');
  // The PostgreSQL client and the farm's machinery load only for a farm: 15 MB a daemon on its file does not need.
  const farmStore = config.store === '' ? null : await (await import('./store/postgres-store.js')).openPostgresStore(config.store, { hostName: config.hostName, pathMaps: config.pathMaps });
  const joinFarm = farmStore === null ? null : await import('./farm/join-farm.js');
  const store = farmStore ?? (await withYoungGenerationHeld(() => deps.openStore(join(config.dataDir, 'jobs.db'))));
  const nowIso = () => new Date(deps.nowMs()).toISOString();
  // Assigned once the supervisor exists: in a farm, what a host learns when it lost a job.
  let farm: Farm | null = null;

  const ledger = new JobLedger(store, {
    nowIso,
    onWriteError: (job, error) => log.error({ jobId: job.id, err: error }, 'could not write the job to the store; retrying'),
    onRefused: (job, refusal) => farm?.host.leases.lose(job.id, refusal.message),
  });
  // A lost job's events are not told: another host runs it now.
  const feed = new LifecycleFeed((id) => ledger.whenDurable(id).then(() => !farm?.host.lost.has(id)), (error) => log.error({ err: error }, 'a lifecycle listener failed'));
  const transitions = new TransitionLog();
  const live = new LiveRuns();
  // Assigned once the parts it reads exist; /metrics asks it only when scraped.
  let health: BoxHealth | null = null;
  const metrics = createMetrics(ledger, () => live.count, () => health?.report() ?? Promise.resolve(null));
  const stopFeeds = [feed.subscribe(logLifecycle(log)), feed.subscribe((event, job) => metrics.observe(event, job)), feed.subscribe((event) => transitions.observe(event))];
  // Every process this folder's daemons ever started carries this in its tag.
  const runsOf = folderTag(config.dataDir);
  const recovered = await withYoungGenerationHeld(() => recoverStore({ store, ledger, log, killGraceMs: config.killGraceSec * 1000, nowIso, folderTag: runsOf, keepFailedOutputs: config.keepFailedOutputs, announce: (event) => feed.announce(event, ledger.latest(event.jobId)), scope: farmStore ? 'farm' : 'box' }));
  // A farm's table of a hundred thousand finished jobs is read once the daemon serves (below).
  let finishedLoading: FinishedLoading | null = null;

  const ffprobe = optionalTool('ffprobe');
  // Progress as it is now, for the event stream only: never stored, so never throttled by the store.
  const liveViews = new Set<(update: LiveProgress) => void>();
  const board = new LiveBoard(deps.nowMs);
  liveViews.add((update) => board.record(update));
  const forecaster = new Forecaster({
    nowMs: deps.nowMs,
    probeMediaSeconds: async (job) => {
      const plan = planOf(job.command, job.shell);
      const probed = ffprobe ? await probeInputs(inputsOf(plan.inputs, job.cwd), ffprobe) : null;
      return probed ? plan.outputDuration(probed.inputDurations) : null;
    },
  });
  // Learned from the latest done jobs of each kind the store holds, oldest first: at once where
  // the book is whole, else once it is (until then, jobs start with what the book has).
  const learnFromStore = async () => {
    for (const summary of runsToLearnFrom(ledger.list('done'))) {
      const job = await ledger.read(summary.id);
      if (job !== undefined) forecaster.observe(job);
    }
  };
  // Where the finished jobs come after the start, once they are in. Listing every done job is a
  // burst too; after it, what the finished jobs' read left behind is collected.
  const learnOnceWhole = async () => {
    await ledger.whenWhole();
    await withYoungGenerationHeld(learnFromStore);
    collectGarbageNow();
  };
  if (ledger.whole) await learnFromStore();
  else void learnOnceWhole().catch((error: unknown) => log.warn({ err: error }, 'could not learn run times from the finished jobs'));
  stopFeeds.push(
    feed.subscribe((event, job) => {
      if (event.kind === 'attempt-ended' || event.kind === 'requeued') board.forget(event.jobId);
      if ((event.kind === 'done' || event.kind === 'failed' || event.kind === 'cancelled') && job) forecaster.observe(job);
    }),
  );
  // What the box has: declared, and with --resources auto, the GPUs found.
  const gpuDevices = config.resources.auto ? await detectGpus(deps.gpuProbe) : [];
  const capacity = { ...(config.resources.auto ? detectedCapacity(gpuDevices) : {}), ...config.resources.declared };
  if (config.resources.auto) log.info({ gpus: gpuDevices, capacity }, gpuDevices.length > 0 ? `found ${gpuDevices.length} GPU(s)` : 'found no GPU');
  const runner = createRunnerActor(
    {
      gpuDevices,
      oomKills: oomKillCount,
      freeBytes: freeBytesAt,
      spawnPty: deps.spawnPty,
      spawnPipes: deps.spawnPipes,
      nowMs: deps.nowMs,
      graceMs: config.killGraceSec * 1000,
      baseEnv: deps.baseEnv,
      logDir,
      maxLogBytes: config.maxLogBytes,
      trackProgress: config.trackProgress,
      heartbeatMs: config.progressHeartbeatSec * 1000,
      onError: (jobId, error) => log.error({ jobId, err: error }, 'runner error'),
      onLive: (update) => liveViews.forEach((view) => view(update)),
      probeInputs: async (inputs) => (ffprobe ? probeInputs(inputs, ffprobe) : null),
      folderTag: runsOf,
      keepFailedOutputs: config.keepFailedOutputs,
      faultPoint: deps.faultPoint,
      priorFor: (job, mediaSeconds) => forecaster.priorFor(job, mediaSeconds),
      ...(farmStore ? { guardRun: (job: Job, tag: string) => farm!.guardRun(job, tag) } : {}),
    },
    live,
  );
  const jobLogic = createJobLogic({
    clock: { now: deps.nowMs },
    runner,
    // A staged output is checked under its temporary name and renamed into place only then.
    checkOutput: async (job) => {
      const options = { ffprobe, durationTolerancePct: config.durationTolerancePct };
      // The free space where it wrote, as the encoder left it: sampled once, for both questions below.
      const free = job.output === null ? null : await freeBytesAt(dirname(job.output));
      const full = job.output === null ? null : fullDiskAtExit(job.output, free);
      if (full !== null) throw Object.assign(new Error(`output ${job.output} was written to a full disk`), { failure: full });
      try {
        return await (writesStaged(job) ? publishStaged(job, (path) => checkOutput({ ...job, output: path }, options), config.keepFailedOutputs) : checkOutput(job, options));
      } catch (error) {
        // Which kind of failure: a bad output, or a disk that filled under an encoder that exited 0.
        const failure = classifyCheckFailure(error instanceof Error ? error.message : String(error), free);
        throw Object.assign(error instanceof Error ? error : new Error(String(error)), { failure });
      }
    },
    ledger,
    feed,
    // A staged output appears at its path only after the check: nothing to wait for.
    isWatchedOutput: (job) => watcher !== null && !writesStaged(job) && watches(watcher.folders, config.watchExtensions, job.output),
    // The watcher reports a file a stability window after its last write (and, polling, up to one
    // interval later); past that, finalizing checks the output anyway.
    outputWaitMs: (config.watchStabilitySec + config.watcherIntervalSec + 10) * 1000,
  });
  // The inspector's libraries (a WebSocket server and its serializer) load only where it is asked for.
  const inspection = config.inspectPort > 0 ? await (await import('./inspect.js')).startInspection(config.inspectPort, token) : null;
  if (inspection) log.info({ inspector: inspection.url }, 'Stately inspector: open this page in a browser on this machine');
  const supervisor = createActor(
    supervisorMachine.provide({
      actors: { job: jobLogic },
      actions: { recordJob: (_, job) => void ledger.record(job), announce: (_, event) => feed.announce(event, ledger.latest(event.jobId)) },
    }),
    {
      input: {
        maxConcurrent: config.maxConcurrent,
        progressThreshold: config.progressThreshold,
        queued: recovered.queued,
        capacity,
        gpuDevices: deviceIndices(gpuDevices, capacity),
        maxOvertakes: config.maxOvertakes,
        retryRules: config.retryRules,
        minFreeBytes: config.minFreeBytes,
      },
      ...(inspection ? { inspect: inspection.inspect } : {}),
    },
  );
  supervisor.start();
  farm = joinFarm && farmStore
    ? joinFarm.prepareFarm({
        store: farmStore,
        supervisor,
        ledger,
        labels: config.labels,
        leaseSec: config.leaseSec,
        killGraceSec: config.killGraceSec,
        guardFolder: join(config.dataDir, 'guards'),
        log,
        nowIso,
        announce: (event, job) => feed.announce(event, job),
        showLive: (update) => liveViews.forEach((view) => view(update)),
      })
    : null;
  if (farm) {
    const joined = farm;
    liveViews.add((update) => joined.shareLive(update));
    // Another host's run ended: its live progress is no longer the job's truth here either.
    stopFeeds.push(
      joined.onJob((job) => {
        if (job.status !== 'encoding') board.forget(job.id);
      }),
    );
    // A slot freed or a job back in line: this host may claim the next one.
    stopFeeds.push(
      feed.subscribe((event) => {
        if (FREES_A_SLOT.has(event.kind)) joined.host.wake();
      }),
    );
  }

  // Free space where jobs write: short folders make their jobs wait (--min-free).
  const disks = new DiskMonitor({
    minFreeBytes: config.minFreeBytes,
    freeBytes: freeBytesAt,
    folders: () => new Set([config.dataDir, ...folders, ...ledger.active('queued').map(diskFolderOf), ...ledger.active('encoding').map(diskFolderOf)]),
    onChange: (low) => supervisor.send({ type: 'SET_LOW_DISK', folders: low }),
    intervalMs: DISK_CHECK_MS,
    nowMs: deps.nowMs,
  });
  disks.start();
  // A disk that just filled under a job: its retry waits for space, not for the next round.
  stopFeeds.push(
    feed.subscribe((event, job) => {
      if (event.kind === 'attempt-ended' && event.failureKind === 'disk-full' && job) void disks.check([diskFolderOf(job)]);
    }),
  );
  const outbox = new WebhookOutbox(join(config.dataDir, 'webhooks.db'), {
    nowMs: deps.nowMs,
    secret: await loadOrCreateSecret(join(config.dataDir, 'webhook-secret'), config.webhookSecret),
    log,
    post: postJson,
    retryMs: config.webhookRetrySec * 1000,
    subscriptionOf: (job) => (job.webhook ? { url: job.webhook.url, events: job.webhook.events as LifecycleKind[] } : config.webhookUrl ? { url: config.webhookUrl, events: config.webhookEvents as LifecycleKind[] } : null),
  });
  const removeLog = (jobId: string) => rm(jobLogPath(logDir, jobId), { force: true });
  // Where complete outputs may be reported from: the watched folders and the report folders.
  const reportFolders = [...folders, ...config.reportDirs];
  const requests = new JobRequests({
    ledger,
    supervisor,
    queueing: farm ? farm.queueing : supervisorQueueing(supervisor, ledger, nowIso),
    newId: deps.newId,
    nowIso,
    defaultCwd: process.cwd(),
    cancelWaitMs: config.killGraceSec * 1000 + 2000,
    gpuDevicesFor: (resources) => deviceIndices(gpuDevices, resources),
    checkDisk: (job) => disks.checkRecent(diskFolderOf(job)),
    searchPath: deps.baseEnv['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
    coversOutput: (path) => reportFolders.some((folder) => isInsideFolder(path, folder)),
    jobDefaults: { timeoutSec: config.timeoutSec, stallTimeoutSec: config.stallTimeoutSec, maxAttempts: config.maxAttempts, retryBackoffSec: config.retryBackoffSec },
    removeLog,
    removeDeliveries: (jobIds) => outbox.forget(jobIds),
    nowMs: deps.nowMs,
    reports: {
      folders: reportFolders,
      stabilityMs: config.watchStabilitySec * 1000,
      // A file still changing after this long is refused; its writer reports it again when done.
      maxWaitMs: Math.max(30_000, config.watchStabilitySec * 10_000),
    },
  });
  if (watcher) {
    const routeOutput = (event: { path: string; at: string }) => {
      const routed = requests.outputComplete(event.path, event.at);
      log.info({ jobId: 'jobId' in routed ? routed.jobId : undefined, path: event.path, match: routed.kind }, 'output complete');
    };
    watcher.on('event', (event) => {
      if (event.kind !== 'complete') return log.warn({ watch: event }, 'output watcher');
      // Whose file it is asks every job, the finished too.
      if (ledger.whole) routeOutput(event);
      else void ledger.whenWhole().then(() => routeOutput(event));
    });
    await watcher.start();
    log.info({ folders: watcher.folders }, 'watching output folders');
  }
  await outbox.start();
  stopFeeds.push(feed.subscribe((event, job) => outbox.enqueue(event, job)));
  const stopRetention = startRetention({ keepFinishedSec: config.keepFinishedSec, keepLogsSec: config.keepLogsSec, requests, ledger, nowMs: deps.nowMs, log });
  // The box: free space, load, memory, resources, GPUs, store latency, failures by kind.
  health = new BoxHealth({
    base: () => ({
      ok: ledger.failure === null,
      accepting: requests.accepting,
      store: ledger.failure === null ? { writable: true, problemsAtLoad: recovered.problems.length } : { writable: false, ...ledger.failure },
    }),
    commitTimes: () => ledger.commitTimes(),
    disks: () => disks.spaces(),
    minFreeBytes: config.minFreeBytes,
    resources: () => {
      const { capacity, holding } = supervisor.getSnapshot().context;
      const inUse: Record<string, number> = {};
      for (const hold of Object.values(holding)) for (const [name, amount] of Object.entries(hold.needs)) inUse[name] = (inUse[name] ?? 0) + amount;
      return { capacity: { ...capacity }, inUse };
    },
    encodersRunning: () => live.count,
    gpuDevices,
    gpuProbe: deps.gpuProbe,
    nowMs: deps.nowMs,
  });
  stopFeeds.push(feed.subscribe((event) => health!.observe(event)));
  const events = new EventHub({
    onLifecycle: (listener) => feed.subscribe(listener),
    onLive: (listener) => (liveViews.add(listener), () => void liveViews.delete(listener)),
    onOutput: (listener) => requests.onOutput(listener),
    onJob: (listener) => farm?.onJob(listener) ?? (() => undefined),
  });
  const server = createApiServer({
    requests,
    ledger,
    views: createJobViews({
      forecaster,
      board,
      activeJobs: () => ledger.active(),
      maxConcurrent: () => requests.settings().maxConcurrent,
      nowMs: deps.nowMs,
      waitingFor: (jobId) => {
        const { paused, waitReasons } = supervisor.getSnapshot().context;
        return paused ? 'the queue is paused' : (waitReasons[jobId] ?? null);
      },
    }),
    kinds: () => forecaster.history.kinds(),
    deliveries: (jobId) => outbox.deliveriesOf(jobId),
    events,
    metrics: metrics.registry,
    transitions,
    jobGraph: describeJobGraph(jobLogic),
    guard: { hosts: hostPolicy(config.host, config.allowedHosts), token },
    logPath: (id) => jobLogPath(logDir, id),
    health: () => health!.report(),
    hosts: farm?.hosts ?? null,
    onError: (error, request) => log.error({ err: error, ...request }, 'a request failed inside the daemon; answered 500'),
  });
  // What the daemon holds once nothing runs any more: listeners, the inspector, the store.
  const release = async () => {
    stopRetention();
    disks.stop();
    supervisor.stop();
    events.close();
    await inspection?.stop();
    await watcher?.close();
    await finishedLoading?.stop();
    await ledger.whenIdle();
    await feed.whenPublished();
    stopFeeds.forEach((stop) => stop());
    await outbox.close();
    await store.close();
    await lock.release();
  };
  let port: number;
  try {
    port = await listen(server, config.port, config.host);
  } catch (error) {
    // Nothing has run yet: give the store back so a second try (another port) can open it.
    await release();
    throw error;
  }
  const url = addressOf(port, config.host);
  if (farm) {
    try {
      await farm.start(url);
    } catch (error) {
      await stopListening(server);
      await release();
      throw error;
    }
    log.info({ host: config.hostName, labels: config.labels, leaseSec: config.leaseSec }, 'joined the farm');
  }
  log.info({ url, dataDir: config.dataDir, store: config.store === '' ? join(config.dataDir, 'jobs.db') : redactedUrl(config.store), maxConcurrent: config.maxConcurrent, queued: recovered.queued.length, finishedJobs: store.staged ? 'loading' : ledger.size - ledger.active().length, pipesLauncher: launchedBy }, 'encsup daemon started');
  // As Jupyter does: the link that logs a browser in, ready to open.
  const loginUrl = token === null ? null : `${url}/?token=${encodeURIComponent(token)}`;
  if (loginUrl) log.info({ dashboard: loginUrl }, 'dashboard ready: open this link to log in');
  // Only now: read alongside the start, its pages would hold up every step of it.
  const staged = store.staged;
  if (staged) {
    const finished = () => withYoungGenerationHeld(() => staged.finished());
    finishedLoading = loadFinishedInBackground({ ...staged, finished }, ledger, { log, nowMs: deps.nowMs, onProblems: (problems) => recovered.problems.push(...problems) });
  }

  let closing: Promise<void> | null = null;
  const close = () => (closing ??= shutdownDaemon({ config, log, watcher, supervisor, live, server, release, farm }));
  return { url, port, requests, ledger, liveEncoders: () => live.count, eventStreams: () => events.clients, token, loginUrl, inspectorUrl: inspection?.url ?? null, close };
}

/** The shutdown: drain if asked, then end every encoder (their jobs are requeued), then let go. */
async function shutdownDaemon(parts: {
  config: DaemonConfig;
  log: Logger;
  watcher: OutputWatcher | null;
  supervisor: Actor<typeof supervisorMachine>;
  live: LiveRuns;
  server: Server;
  release: () => Promise<void>;
  farm: Farm | null;
}): Promise<void> {
  const { config, log, supervisor } = parts;
  await parts.watcher?.close();
  if (config.drainSec > 0) {
    log.info({ drainSec: config.drainSec }, 'draining: no new jobs start; waiting for running ones');
    supervisor.send({ type: 'DRAIN' });
    // A job past its encoder (checking its output) is let finish too.
    await waitFor(supervisor, (snapshot) => snapshot.context.running.length === 0 && snapshot.context.finishing.length === 0, { timeout: config.drainSec * 1000 }).catch(() => undefined);
  }
  log.info('shutting down: ending encoders and requeuing their jobs');
  supervisor.send({ type: 'SHUTDOWN' });
  await waitFor(supervisor, (snapshot) => snapshot.status === 'done', { timeout: Infinity });
  await parts.live.whenAllExited();
  await parts.farm?.leave();
  await stopListening(parts.server);
  await parts.release();
  log.info('encsup daemon stopped');
}

/** Without any ffprobe, totals come only from what encoders print, and outputs aren't probed. */
function optionalTool(tool: 'ffprobe'): string | null {
  try {
    return mediaToolPath(tool);
  } catch {
    return null;
  }
}

function watches(folders: string[], extensions: string[], output: string | null): boolean {
  if (output === null || !extensions.includes(extname(output).toLowerCase())) return false;
  return folders.some((folder) => isInsideFolder(output, folder));
}

// GET /metrics in Prometheus text format, through prom-client. Job counts are read from the ledger
// when scraped; the counters count lifecycle events, which are published once durable.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { FAILURE_KINDS } from '../machines/failure-kinds.js';
import { JOB_STATUSES, type Job } from '../machines/job-record.js';
import type { LifecycleEvent, LifecycleEventOf, LifecycleKind } from '../machines/lifecycle.js';
import { registerEventLoopDelay } from './health/event-loop-delay.js';
import type { HealthReport } from './health/health-report.js';
import type { JobLedger } from './store/job-ledger.js';

export interface Metrics {
  registry: Registry;
  /** Counts what the machines announce (after it is durable); `job` is the record as it is then. */
  observe(event: LifecycleEvent, job?: Job): void;
}

/** The failure kind an attempt's end counts under; null for an attempt that did not fail. */
export function failureKind(event: LifecycleEventOf<'attempt-ended'>): string | null {
  if (event.outcome === 'done' || event.outcome === 'cancelled') return null;
  if (event.outcome === 'interrupted') return 'interrupted';
  return event.failureKind ?? 'unknown';
}

const EVENT_LOOP_SAMPLE_MS = 250;
const DAY_MS = 24 * 60 * 60 * 1000;

const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export function createMetrics(ledger: JobLedger, encodersRunning: () => number, health: () => Promise<HealthReport | null> = async () => null): Metrics {
  const registry = new Registry();
  // The process's own memory, CPU, event-loop lag and handles (process_*, nodejs_*). The lag is
  // sampled every 250 ms, not prom-client's default 10 ms: each sample wakes the event loop, and a
  // hundred wakes a second were most of an idle daemon's CPU (9 ms a second; now about 1). A late
  // sample measures how late it was. The figures are ours (health/event-loop-delay.ts:
  // prom-client's would count the 250 ms as lag); its own sampler is set to a day, so it never wakes.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: DAY_MS });
  // Gauges that prom-client names with `_total`, which Prometheus keeps for counters (`promtool
  // check metrics` refuses them); the same numbers by type stay (nodejs_active_handles, …).
  for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(name);
  registerEventLoopDelay(registry, EVENT_LOOP_SAMPLE_MS);
  new Gauge({
    name: 'encsup_jobs',
    help: 'Jobs in the store, by status',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      const counts = ledger.counts();
      for (const status of JOB_STATUSES) this.set({ status }, counts[status]);
    },
  });
  new Gauge({ name: 'encsup_encoders_running', help: 'Encoder processes running now', registers: [registry], collect() { this.set(encodersRunning()); } });
  registerHealthGauges(registry, health);
  new Gauge({ name: 'encsup_queue_depth', help: 'Jobs waiting to start', registers: [registry], collect() { this.set(ledger.active('queued').length); } });
  const durations = new Histogram({
    name: 'encsup_encode_duration_seconds',
    help: 'Encoding time of finished jobs (all attempts), by how they ended',
    labelNames: ['outcome'],
    buckets: [10, 30, 60, 300, 600, 1800, 3600, 7200, 14400],
    registers: [registry],
  });
  const queueWait = new Histogram({
    name: 'encsup_queue_wait_seconds',
    help: 'Time from joining the waiting line (submitted or queued again) to starting',
    buckets: [1, 5, 30, 60, 300, 900, 1800, 3600, 7200, 21600, 86400],
    registers: [registry],
  });
  const submitted = new Counter({ name: 'encsup_jobs_submitted_total', help: 'Jobs accepted', registers: [registry] });
  const finished = new Counter({ name: 'encsup_jobs_finished_total', help: 'Jobs that ended, by outcome', labelNames: ['outcome'], registers: [registry] });
  const failures = new Counter({ name: 'encsup_failures_total', help: 'Attempts that failed, by failure kind (input-missing, corrupt-input, disk-full, hardware-busy, …)', labelNames: ['kind'], registers: [registry] });
  for (const kind of FAILURE_KINDS) failures.inc({ kind }, 0);
  for (const outcome of ['done', 'failed', 'cancelled']) finished.inc({ outcome }, 0);
  // When each waiting job joined the line, for the queue-wait histogram.
  const waitingSince = new Map<string, number>();
  const progressUpdates = new Counter({ name: 'encsup_progress_updates_total', help: 'Progress updates stored (after the throttle)', registers: [registry] });
  const stalls = new Counter({ name: 'encsup_stalls_total', help: 'Encoders ended because they stalled', registers: [registry] });
  const timeouts = new Counter({ name: 'encsup_timeouts_total', help: 'Encoders ended because they ran past timeoutSec', registers: [registry] });
  const retries = new Counter({ name: 'encsup_retries_total', help: 'Automatic retries scheduled after a failed attempt', registers: [registry] });
  const restarts = new Counter({ name: 'encsup_restarts_total', help: 'Jobs queued again because the daemon stopped while they ran', registers: [registry] });

  const ended = (outcome: string, jobId: string, job: Job | undefined) => {
    finished.inc({ outcome });
    if (job) durations.observe({ outcome }, job.elapsedSeconds);
    waitingSince.delete(jobId);
  };
  const counted: { [K in LifecycleKind]?: (event: LifecycleEventOf<K>, job: Job | undefined) => void } = {
    submitted: (event) => {
      submitted.inc();
      waitingSince.set(event.jobId, Date.parse(event.at));
    },
    started: (event) => {
      const since = waitingSince.get(event.jobId);
      if (since !== undefined && !event.external) queueWait.observe(Math.max(0, (Date.parse(event.at) - since) / 1000));
      waitingSince.delete(event.jobId);
    },
    progress: () => progressUpdates.inc(),
    stalled: () => stalls.inc(),
    'timed-out': () => timeouts.inc(),
    'attempt-ended': (event) => {
      const kind = failureKind(event);
      if (kind) failures.inc({ kind });
    },
    'retry-scheduled': (event) => {
      retries.inc();
      waitingSince.set(event.jobId, Date.parse(event.at) + event.delayMs);
    },
    done: (event, job) => ended('done', event.jobId, job),
    failed: (event, job) => ended('failed', event.jobId, job),
    cancelled: (event, job) => ended('cancelled', event.jobId, job),
    requeued: (event) => {
      if (event.reason === 'recovery') restarts.inc();
      if (!waitingSince.has(event.jobId)) waitingSince.set(event.jobId, Date.parse(event.at));
    },
  };
  return { registry, observe: (event, job) => (counted[event.kind] as ((event: LifecycleEvent, job: Job | undefined) => void) | undefined)?.(event, job) };
}

/** The box's health as gauges: one read of the report per scrape, shared by all of them. */
function registerHealthGauges(registry: Registry, health: () => Promise<HealthReport | null>): void {
  let scrape: { atMs: number; report: Promise<HealthReport | null> } | null = null;
  const report = () => {
    if (scrape === null || Date.now() - scrape.atMs > 1000) scrape = { atMs: Date.now(), report: health() };
    return scrape.report;
  };
  const gauge = (name: string, help: string, labelNames: string[], fill: (set: (labels: Record<string, string>, value: number) => void, report: HealthReport) => void) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        const now = await report();
        if (now) fill((labels, value) => this.set(labels, value), now);
      },
    });
  gauge('encsup_disk_free_bytes', 'Free bytes where jobs write and the daemon keeps its data, by folder', ['folder'], (set, r) => {
    for (const disk of r.disks) if (disk.freeBytes !== null) set({ folder: disk.folder }, disk.freeBytes);
  });
  gauge('encsup_resource_capacity', 'What the box has, by resource (declared or detected)', ['resource'], (set, r) => {
    for (const [resource, amount] of Object.entries(r.resources.capacity)) set({ resource }, amount);
  });
  gauge('encsup_resource_in_use', 'What running jobs hold, by resource', ['resource'], (set, r) => {
    for (const [resource, amount] of Object.entries(r.resources.inUse)) set({ resource }, amount);
  });
  gauge('encsup_gpu_utilization_ratio', 'GPU utilisation (0-1), as nvidia-smi reports it', ['gpu'], (set, r) => {
    for (const gpu of r.gpus) if (gpu.utilizationPct !== null) set({ gpu: String(gpu.index) }, gpu.utilizationPct / 100);
  });
  gauge('encsup_gpu_temperature_celsius', 'GPU temperature, as nvidia-smi reports it', ['gpu'], (set, r) => {
    for (const gpu of r.gpus) if (gpu.temperatureC !== null) set({ gpu: String(gpu.index) }, gpu.temperatureC);
  });
  gauge('encsup_gpu_present', 'Detected GPUs that nvidia-smi still lists (0: gone)', ['gpu'], (set, r) => {
    for (const gpu of r.gpus) set({ gpu: String(gpu.index) }, gpu.present ? 1 : 0);
  });
  gauge('encsup_host_load1', 'Load average over one minute', [], (set, r) => set({}, r.host.load[0] ?? 0));
  gauge('encsup_host_memory_free_bytes', 'Free memory of the host', [], (set, r) => set({}, r.host.memoryFreeBytes));
  gauge('encsup_store_commit_seconds', 'How long the latest store commit (writes and their fsync) took', [], (set, r) => {
    if (r.store.commitMs.lastMs !== null) set({}, r.store.commitMs.lastMs / 1000);
  });
  gauge('encsup_health_warnings', 'Warnings the health report gives now (see /healthz)', [], (set, r) => set({}, r.warnings.length));
}

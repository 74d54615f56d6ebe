// GET /metrics in Prometheus text format, through prom-client. Job counts are read from the ledger
// when scraped; the counters follow durable job changes, so they count what the store saw.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { JOB_STATUSES, type Job } from '../machines/job-record.js';
import type { JobLedger } from './store/job-ledger.js';

export interface Metrics {
  registry: Registry;
  /** Jobs that a start found interrupted and queued again (after a stop or a crash). */
  countRestarts(jobs: number): void;
  close(): void;
}

export function createMetrics(ledger: JobLedger, encodersRunning: () => number): Metrics {
  const registry = new Registry();
  new Gauge({
    name: 'encsup_jobs',
    help: 'Jobs in the store, by status',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      const counts = Object.fromEntries(JOB_STATUSES.map((status) => [status, 0]));
      for (const job of ledger.list()) counts[job.status]!++;
      for (const status of JOB_STATUSES) this.set({ status }, counts[status]!);
    },
  });
  new Gauge({ name: 'encsup_encoders_running', help: 'Encoder processes running now', registers: [registry], collect() { this.set(encodersRunning()); } });
  new Gauge({ name: 'encsup_queue_depth', help: 'Jobs waiting to start', registers: [registry], collect() { this.set(ledger.list('queued').length); } });
  const durations = new Histogram({
    name: 'encsup_encode_duration_seconds',
    help: 'Encoding time of finished jobs (all attempts)',
    buckets: [10, 30, 60, 300, 600, 1800, 3600, 7200, 14400],
    registers: [registry],
  });
  const progressWrites = new Counter({ name: 'encsup_progress_writes_total', help: 'Progress updates written to the store', registers: [registry] });
  const stalls = new Counter({ name: 'encsup_stalls_total', help: 'Encoders ended because they stalled', registers: [registry] });
  const timeouts = new Counter({ name: 'encsup_timeouts_total', help: 'Encoders ended because they ran past timeoutSec', registers: [registry] });
  const retries = new Counter({ name: 'encsup_retries_total', help: 'Automatic retries scheduled after a failed attempt', registers: [registry] });
  const restarts = new Counter({ name: 'encsup_restarts_total', help: 'Jobs queued again because the daemon stopped while they ran', registers: [registry] });

  const seen = new Map<string, Job>();
  const stop = ledger.onCommitted((job) => {
    const before = seen.get(job.id);
    seen.set(job.id, job);
    const writes = job.progressWrites - (before?.progressWrites ?? 0);
    if (writes > 0) progressWrites.inc(writes);
    if (job.timedOutAt && job.timedOutAt !== before?.timedOutAt) (job.terminationReason === 'stall' ? stalls : timeouts).inc();
    if (job.status === 'queued' && job.retryDelayMs !== null && before?.status !== 'queued') retries.inc();
    if (job.status === 'done' && before?.status !== 'done') durations.observe(job.elapsedSeconds);
  });
  return { registry, countRestarts: (jobs) => restarts.inc(jobs), close: stop };
}

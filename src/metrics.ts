// GET /metrics in Prometheus text format, through prom-client. Job counts are read from the ledger
// when scraped; the counters count lifecycle events, which are published once durable.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { JOB_STATUSES } from '../machines/job-record.js';
import type { LifecycleEvent, LifecycleEventOf, LifecycleKind } from '../machines/lifecycle.js';
import type { JobLedger } from './store/job-ledger.js';

export interface Metrics {
  registry: Registry;
  /** Counts what the machines announce (after it is durable). */
  observe(event: LifecycleEvent): void;
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
  const progressUpdates = new Counter({ name: 'encsup_progress_updates_total', help: 'Progress updates stored (after the throttle)', registers: [registry] });
  const stalls = new Counter({ name: 'encsup_stalls_total', help: 'Encoders ended because they stalled', registers: [registry] });
  const timeouts = new Counter({ name: 'encsup_timeouts_total', help: 'Encoders ended because they ran past timeoutSec', registers: [registry] });
  const retries = new Counter({ name: 'encsup_retries_total', help: 'Automatic retries scheduled after a failed attempt', registers: [registry] });
  const restarts = new Counter({ name: 'encsup_restarts_total', help: 'Jobs queued again because the daemon stopped while they ran', registers: [registry] });

  const counted: { [K in LifecycleKind]?: (event: LifecycleEventOf<K>) => void } = {
    progress: () => progressUpdates.inc(),
    stalled: () => stalls.inc(),
    'timed-out': () => timeouts.inc(),
    'retry-scheduled': () => retries.inc(),
    done: (event) => durations.observe(event.elapsedSeconds),
    requeued: (event) => {
      if (event.reason === 'recovery') restarts.inc();
    },
  };
  return { registry, observe: (event) => (counted[event.kind] as ((event: LifecycleEvent) => void) | undefined)?.(event) };
}

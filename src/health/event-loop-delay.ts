// The event loop's delay for /metrics, under the names prom-client gives it
// (nodejs_eventloop_lag_{min,max,mean,stddev,p50,p90,p99}_seconds). Node's monitorEventLoopDelay
// records the whole time between two runs of its timer, the sampling interval included
// (nodejs/node#34661): sampled every 250 ms, as the daemon does to stay asleep when idle, its raw
// figures read 250 ms of lag on a daemon that has none. Here each figure is the delay past the
// interval. Reset at every scrape, as prom-client does: each scrape tells of the time since the last.
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

const NANOSECONDS_PER_SECOND = 1e9;

/** What each gauge reads from the histogram, in nanoseconds, before the interval is taken off. */
const FIGURES: Record<string, { help: string; read: (histogram: IntervalHistogram) => number; isSpread?: true }> = {
  nodejs_eventloop_lag_min_seconds: { help: 'The minimum recorded event loop delay.', read: (h) => h.min },
  nodejs_eventloop_lag_max_seconds: { help: 'The maximum recorded event loop delay.', read: (h) => h.max },
  nodejs_eventloop_lag_mean_seconds: { help: 'The mean of the recorded event loop delays.', read: (h) => h.mean },
  // A spread, not a delay: the interval is not in it.
  nodejs_eventloop_lag_stddev_seconds: { help: 'The standard deviation of the recorded event loop delays.', read: (h) => h.stddev, isSpread: true },
  nodejs_eventloop_lag_p50_seconds: { help: 'The 50th percentile of the recorded event loop delays.', read: (h) => h.percentile(50) },
  nodejs_eventloop_lag_p90_seconds: { help: 'The 90th percentile of the recorded event loop delays.', read: (h) => h.percentile(90) },
  nodejs_eventloop_lag_p99_seconds: { help: 'The 99th percentile of the recorded event loop delays.', read: (h) => h.percentile(99) },
};

/** Each figure in seconds, from a histogram sampled every `intervalMs`: the delay past the interval. */
export function eventLoopDelayFigures(histogram: IntervalHistogram, intervalMs: number): Record<string, number> {
  // Before the first interval has ended there is no sample: no delay seen (not the histogram's sentinels).
  const sampled = histogram.count > 0;
  const figures: Record<string, number> = {};
  for (const [name, figure] of Object.entries(FIGURES)) {
    const rawNs = sampled ? figure.read(histogram) : 0;
    figures[name] = (figure.isSpread ? rawNs : Math.max(0, rawNs - intervalMs * 1e6)) / NANOSECONDS_PER_SECOND;
  }
  return figures;
}

/** Samples the event loop every `intervalMs` and serves the figures on `registry`, in place of any gauges of those names there. */
export function registerEventLoopDelay(registry: Registry, intervalMs: number): void {
  for (const name of Object.keys(FIGURES)) registry.removeSingleMetric(name);
  const histogram = monitorEventLoopDelay({ resolution: intervalMs });
  histogram.enable();
  // The first gauge reads all seven and starts a fresh histogram: the registry collects it before
  // it reads the others.
  const readAll = () => {
    const figures = eventLoopDelayFigures(histogram, intervalMs);
    for (const [name, gauge] of gauges) gauge.set(figures[name]!);
    histogram.reset();
  };
  const gauges = Object.entries(FIGURES).map(([name, figure], at) => [name, new Gauge({ name, help: figure.help, registers: [registry], ...(at === 0 ? { collect: readAll } : {}) })] as const);
}

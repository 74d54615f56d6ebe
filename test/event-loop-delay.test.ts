// The event loop's delay as /metrics tells it: the delay past the sampling interval, from Node's
// own histogram, whose raw samples include the interval (an idle loop would read as lagging by it).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Registry } from 'prom-client';
import { eventLoopDelayFigures, registerEventLoopDelay } from '../src/health/event-loop-delay.js';
import { until } from './helpers/wait.js';

const INTERVAL_MS = 50;

test('an idle loop reads as no delay, not as the sampling interval', async () => {
  const histogram = monitorEventLoopDelay({ resolution: INTERVAL_MS });
  histogram.enable();
  try {
    const none = eventLoopDelayFigures(histogram, INTERVAL_MS);
    assert.is(none['nodejs_eventloop_lag_min_seconds'], 0, 'no sample yet: no delay, not the histogram sentinel');
    assert.is(none['nodejs_eventloop_lag_max_seconds'], 0);
    await until(() => histogram.count >= 3, 'three samples');
    const idle = eventLoopDelayFigures(histogram, INTERVAL_MS);
    assert.ok(histogram.min >= (INTERVAL_MS - 5) * 1e6, `the raw samples include the interval (min ${histogram.min / 1e6} ms)`);
    assert.ok(idle['nodejs_eventloop_lag_min_seconds']! < (INTERVAL_MS / 1000) / 2, `an idle loop's smallest delay is not the interval: ${idle['nodejs_eventloop_lag_min_seconds']} s`);
  } finally {
    histogram.disable();
  }
});

test('the registry serves the seven figures under prom-client names, read once per scrape', async () => {
  const registry = new Registry();
  registerEventLoopDelay(registry, INTERVAL_MS);
  const text = await registry.metrics();
  for (const figure of ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99']) assert.match(text, new RegExp(`^nodejs_eventloop_lag_${figure}_seconds \\d`, 'm'));
});

test.run();

// Telling the job machine that the encoder printed something new: at most once per twentieth of
// the stall timeout, a change inside an interval told at its end (never dropped, never early), and
// nothing told once the run has ended or where no stall clock runs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { activityIntervalMs, activityReport } from '../src/runner/activity-report.js';

const now = () => performance.now();

/** A report on a stall timeout of 2 s (a 100 ms interval), with each telling's time. */
function recorded(startMs: number, stallTimeoutSec = 2) {
  const told: number[] = [];
  let wake: (() => void) | null = null;
  const report = activityReport(stallTimeoutSec, startMs, () => {
    told.push(now());
    wake?.();
  });
  const nextTelling = () => new Promise<void>((resolve) => (wake = resolve));
  return { report, told, nextTelling };
}

test('the interval is a twentieth of the stall timeout, at least 100 ms; with no stall timeout nothing is told', () => {
  assert.is(activityIntervalMs(300), 15_000);
  assert.is(activityIntervalMs(1), 100);
  assert.is(activityIntervalMs(0), null);
  const { report, told } = recorded(now() - 60_000, 0);
  report.changed(now());
  report.stop();
  assert.equal(told, []);
});

test('a change after a quiet interval is told at once', () => {
  const { report, told } = recorded(now() - 1000);
  report.changed(now());
  assert.is(told.length, 1);
  report.stop();
});

test('changes inside an interval are told once, at its end, not before', async () => {
  const start = now();
  const { report, told, nextTelling } = recorded(start);
  const told1 = nextTelling();
  for (let i = 0; i < 5; i++) report.changed(now());
  assert.is(told.length, 0, 'the run just started: its stall clock did too');
  await told1;
  assert.is(told.length, 1);
  assert.ok(told[0]! - start >= 99, `told ${told[0]! - start} ms after the start`);
  // Right after a telling, a change waits for the next interval's end.
  const told2 = nextTelling();
  report.changed(now());
  assert.is(told.length, 1);
  await told2;
  assert.is(told.length, 2);
  assert.ok(told[1]! - told[0]! >= 99, `told again ${told[1]! - told[0]!} ms later`);
  report.stop();
});

test('a change still to be told when the run ends is not told', async () => {
  const { report, told } = recorded(now());
  report.changed(now());
  report.stop();
  await new Promise((resolve) => setTimeout(resolve, 250));
  assert.equal(told, []);
});

test.run();

// Telling the job machine that the encoder printed something new: at most once per twentieth of
// the stall timeout, a change inside an interval told at its end (never dropped, never early), the
// same line again not told, and nothing told once the run has ended or where no stall clock runs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Observable } from '../src/progress/rx.js';
import { activityIntervalMs, activityTellings } from '../src/runner/activity-report.js';

const now = () => performance.now();

// A stall timeout of 4 s: a 200 ms interval, wide enough that a busy test machine's pauses don't
// end an interval the test means to be inside.
const STALL_TIMEOUT_SEC = 4;
const INTERVAL_MS = 200;

/** A run's batches, pushed by hand, with each telling's time. */
function recorded(startMs: number, stallTimeoutSec = STALL_TIMEOUT_SEC) {
  const told: number[] = [];
  let wake: (() => void) | null = null;
  let push!: (batch: readonly string[]) => void;
  let end!: () => void;
  const batches = new Observable<readonly string[]>((subscriber) => {
    push = (batch) => subscriber.next(batch);
    end = () => subscriber.complete();
  });
  const tellings = activityTellings(batches, stallTimeoutSec, startMs, now);
  tellings?.subscribe(() => {
    told.push(now());
    wake?.();
  });
  let line = 0;
  const report = { changed: () => push([`frame=${++line}`]), same: () => push([`frame=${line}`]), stop: () => end() };
  const nextTelling = () => new Promise<void>((resolve) => (wake = resolve));
  return { report, told, nextTelling, tellings };
}

test('the interval is a twentieth of the stall timeout, at least 100 ms; with no stall timeout nothing is told', () => {
  assert.is(activityIntervalMs(300), 15_000);
  assert.is(activityIntervalMs(1), 100);
  assert.is(activityIntervalMs(0), null);
  const { told, tellings } = recorded(now() - 60_000, 0);
  assert.is(tellings, null, 'no stall clock: nothing to tell it');
  assert.equal(told, []);
});

test('a change after a quiet interval is told at once', () => {
  const { report, told } = recorded(now() - 1000);
  report.changed();
  assert.is(told.length, 1);
  report.stop();
});

test('the same line again (a frozen status) is no new output', async () => {
  const { report, told } = recorded(now() - 1000);
  report.changed();
  await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS + 50));
  report.same();
  assert.is(told.length, 1, 'a quiet interval has passed, yet the repeated line is not told');
  report.changed();
  assert.is(told.length, 2, 'a new line now is');
  report.stop();
});

test('changes inside an interval are told once, at its end, not before', async () => {
  const start = now();
  const { report, told, nextTelling } = recorded(start);
  const told1 = nextTelling();
  for (let i = 0; i < 5; i++) report.changed();
  assert.is(told.length, 0, 'the run just started: its stall clock did too');
  await told1;
  assert.is(told.length, 1);
  assert.ok(told[0]! - start >= INTERVAL_MS - 1, `told ${told[0]! - start} ms after the start`);
  // Right after a telling, a change waits for the next interval's end.
  const told2 = nextTelling();
  report.changed();
  assert.is(told.length, 1);
  await told2;
  assert.is(told.length, 2);
  assert.ok(told[1]! - told[0]! >= INTERVAL_MS - 1, `told again ${told[1]! - told[0]!} ms later`);
  report.stop();
});

test('a change still to be told when the run ends is not told', async () => {
  const { report, told } = recorded(now());
  report.changed();
  report.stop();
  await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS + 150));
  assert.equal(told, []);
});

test.run();

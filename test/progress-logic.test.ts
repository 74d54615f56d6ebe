import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NO_PROGRESS } from '../machines/job-record.js';
import { INITIAL_ETA, nextEta } from '../src/progress/eta.js';
import { applySample, initialProgress } from '../src/progress/progress-state.js';
import { shouldWrite } from '../src/progress/throttle.js';

const options = { progressThreshold: 1, heartbeatMs: 5000 };

test('throttle: the first update is written, then only a move of the threshold', () => {
  assert.ok(shouldWrite(null, NO_PROGRESS, 0, options));
  const last = { fields: { ...NO_PROGRESS, progress: 10 }, atMs: 0 };
  assert.not.ok(shouldWrite(last, { ...NO_PROGRESS, progress: 10.5 }, 100, options));
  assert.ok(shouldWrite(last, { ...NO_PROGRESS, progress: 11 }, 100, options));
});

test('throttle: after the heartbeat interval any change is written, no change is not', () => {
  const last = { fields: { ...NO_PROGRESS, progress: 10, fps: 20 }, atMs: 0 };
  assert.ok(shouldWrite(last, { ...NO_PROGRESS, progress: 10, fps: 21 }, 5000, options));
  assert.not.ok(shouldWrite(last, { ...NO_PROGRESS, progress: 10, fps: 20 }, 60_000, options));
  assert.not.ok(shouldWrite(last, { ...NO_PROGRESS, progress: 10, fps: 21 }, 4999, options));
});

test('percent comes from frames over the declared total, never goes back and never passes 100', () => {
  let state = initialProgress({ totalFrames: 100 });
  state = applySample(state, { format: 'ffmpeg', frame: 50 });
  assert.is(state.fields.progress, 50);
  state = applySample(state, { format: 'ffmpeg', frame: 40 });
  assert.is(state.fields.progress, 50);
  state = applySample(state, { format: 'ffmpeg', frame: 130 });
  assert.is(state.fields.progress, 100);
});

test('without frames, percent comes from time over the Duration header', () => {
  let state = initialProgress({ totalFrames: null });
  state = applySample(state, { format: 'ffmpeg-header', durationSeconds: 200 });
  state = applySample(state, { format: 'ffmpeg', timeSeconds: 50, frame: null });
  assert.is(state.fields.progress, 25);
  state = applySample(state, { format: 'ffmpeg-header', durationSeconds: 9 });
  assert.is(state.detail.durationSeconds, 200, 'a later input header does not replace the first');
});

test('Duration × frame rate gives the total frames when the job states none', () => {
  let state = initialProgress({ totalFrames: null });
  state = applySample(state, { format: 'ffmpeg-header', durationSeconds: 10 });
  state = applySample(state, { format: 'ffmpeg-header', frameRate: 24 });
  state = applySample(state, { format: 'ffmpeg', frame: 60 });
  assert.is(state.fields.totalFrames, 240);
  assert.is(state.fields.progress, 25);
});

test('ETA: none before there is evidence, then the remaining work over the rate, 0 at the end', () => {
  let eta = nextEta(INITIAL_ETA, 1, 0.5);
  assert.is(eta.etaSeconds, null);
  eta = nextEta(eta.state, 10, 10);
  assert.ok(eta.etaSeconds !== null && Math.abs(eta.etaSeconds - 90) <= 10, `about 90 s, got ${eta.etaSeconds}`);
  assert.is(nextEta(eta.state, 20, 100).etaSeconds, 0);
});

test('ETA: a slow start drops out of the estimate, and a change of speed takes over', () => {
  let state = INITIAL_ETA;
  let percent = 0;
  let eta: number | null = null;
  for (let t = 1; t <= 60; t++) {
    percent += t <= 10 ? 0.1 : 1;
    ({ state, etaSeconds: eta } = nextEta(state, t, percent));
  }
  assert.ok(eta !== null && Math.abs(eta - 49) <= 3, `about 49 s at 1 %/s, got ${eta}`);
  for (let t = 61; t <= 90; t++) {
    percent += 0.5;
    ({ state, etaSeconds: eta } = nextEta(state, t, percent));
  }
  assert.ok(eta !== null && Math.abs(eta - (100 - percent) / 0.5) <= 5, `at 0.5 %/s about ${(100 - percent) / 0.5} s, got ${eta}`);
});

test('ETA never goes negative', () => {
  let state = INITIAL_ETA;
  for (let t = 1; t <= 50; t++) {
    const step = nextEta(state, t, Math.min(99.9, t * 2.5));
    state = step.state;
    assert.ok(step.etaSeconds === null || step.etaSeconds >= 0);
  }
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NO_PROGRESS } from '../machines/job-record.js';
import { INITIAL_ETA, nextEta } from '../src/progress/eta.js';
import { createParser } from '../src/progress/parsers/index.js';
import { applySample, initialProgress } from '../src/progress/progress-state.js';
import { planOf } from '../src/progress/encode-plan.js';
import { shouldWrite } from '../src/progress/throttle.js';
import { mergedSamples } from '../src/progress/sample.js';
import { latestEvery } from '../src/progress/pipeline.js';
import { Observable } from '../src/progress/rx.js';

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

test('live updates: the first of a quiet spell passes at once, the last of a busy interval at its end, a held one at completion', async () => {
  let now = 0;
  const passed: string[] = [];
  let push!: (value: string) => void;
  let end!: () => void;
  let wake: (() => void) | null = null;
  new Observable<string>((subscriber) => {
    push = (value) => subscriber.next(value);
    end = () => subscriber.complete();
  })
    .pipe(latestEvery(50, () => now))
    .subscribe((value) => {
      passed.push(value);
      wake?.();
    });
  push('a');
  assert.equal(passed, ['a']);
  now = 10;
  const heldPassed = new Promise<void>((resolve) => (wake = resolve));
  push('b');
  push('c');
  assert.equal(passed, ['a'], 'held inside the interval');
  now = 50;
  await heldPassed;
  assert.equal(passed, ['a', 'c'], 'the last of the interval, at its end');
  now = 1000;
  push('d');
  assert.equal(passed, ['a', 'c', 'd'], 'after a quiet spell, at once');
  now = 1010;
  push('e');
  end();
  assert.equal(passed, ['a', 'c', 'd', 'e'], 'a held update is not lost at the end of the run');
});

test('live updates: a timer that fires before the clock says the interval ended waits out the rest', async () => {
  // A clock that falls behind the timers after the value is held, as performance.now can behind
  // Node's whole-millisecond timers: the held value waits until the clock says the interval ended.
  let lagMs = 0;
  const clock = () => performance.now() - lagMs;
  const passedAt: number[] = [];
  let push!: (value: string) => void;
  let wake: (() => void) | null = null;
  new Observable<string>((subscriber) => {
    push = (value) => subscriber.next(value);
  })
    .pipe(latestEvery(50, clock))
    .subscribe(() => {
      passedAt.push(clock());
      wake?.();
    });
  push('a');
  const heldPassed = new Promise<void>((resolve) => (wake = resolve));
  push('b');
  lagMs = 30;
  await heldPassed;
  assert.is(passedAt.length, 2);
  assert.ok(passedAt[1]! - passedAt[0]! >= 50, `passed ${passedAt[1]! - passedAt[0]!} ms into the interval by the clock`);
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

test('ETA: a source that reports ten times a second still gets an estimate, and keeps few points', () => {
  let state = INITIAL_ETA;
  let eta: number | null = null;
  for (let tenth = 1; tenth <= 200; tenth++) ({ state, etaSeconds: eta } = nextEta(state, tenth / 10, tenth / 4));
  // 2.5 % a second at 20 s (50 %): 20 s left.
  assert.ok(eta !== null && Math.abs(eta - 20) <= 1, `about 20 s, got ${eta}`);
  assert.ok(state.points.length <= 30, `points spaced out in the 5 s window (50 samples), ${state.points.length} kept`);
});

test('ETA never goes negative', () => {
  let state = INITIAL_ETA;
  for (let t = 1; t <= 50; t++) {
    const step = nextEta(state, t, Math.min(99.9, t * 2.5));
    state = step.state;
    assert.ok(step.etaSeconds === null || step.etaSeconds >= 0);
  }
});

test('unnamed counters are read while no encoder format has been seen, and never over an encoder', () => {
  const auto = createParser({ parser: 'auto' });
  for (const [line, percent] of [['Processing 12/120', 10], ['[30/120] frames', 25], ['item 60 of 120', 50], ['(90/120)', 75]] as const) {
    assert.is(auto(line)?.percent, percent, line);
  }
  assert.is(auto('backup of 2026/11/26 done'), null, 'a date is no counter');
  assert.is(auto('using SAR=1/1'), null, 'nor a ratio');
  assert.is(auto('30000/1001 fps'), null, 'nor a frame rate');
  assert.is(auto('13/12 done'), null, 'a count over its total is no counter');
  const ffmpeg = createParser({ parser: 'auto' });
  assert.ok(ffmpeg('frame=   10 fps=5.0 q=28.0 size=  1kB time=00:00:00.40 bitrate=1.0kbits/s speed=1x'));
  assert.is(ffmpeg('[3/4] writing trailer'), null, 'once ffmpeg is recognised, its incidental counters are not progress');
});

test('HandBrake --json: a Rate far below any frame rate is unknown, not an fps of 2.3e-7', () => {
  const handbrake = createParser({ parser: 'handbrake' });
  const block = (rate: number) => ['Progress: {', '    "State": "WORKING",', '    "Working": {', `        "Progress": 0.5,`, `        "Rate": ${rate},`, '        "ETASeconds": 10,', '        "Hours": 0', '    }', '}'];
  let sample = null;
  for (const line of block(2.3e-7)) sample = handbrake(line) ?? sample;
  assert.is(sample?.fps, null);
  for (const line of block(41.5)) sample = handbrake(line) ?? sample;
  assert.is(sample?.fps, 41.5);
});


test('the basis says what the percent is measured on; -r counts output frames; a frame cap shortens the time basis', () => {
  const plan = (command: string[]) => planOf(command, false);
  let state = initialProgress({ totalFrames: null, durationSeconds: 10, frameRate: 25, plan: plan(['ffmpeg', '-i', 'a.mp4', '-r', '10', 'b.mp4']) });
  state = applySample(state, { format: 'ffmpeg', frame: 50, timeSeconds: 5 });
  assert.equal([state.fields.totalFrames, state.fields.progress, state.fields.basis], [100, 50, 'frames']);
  state = initialProgress({ totalFrames: null, durationSeconds: 10, frameRate: 25, plan: plan(['ffmpeg', '-ss', '2', '-i', 'a.mp4', '-frames:v', '50', 'b.mp4']) });
  state = applySample(state, { format: 'ffmpeg', frame: 25, timeSeconds: 1 });
  assert.equal([state.fields.totalFrames, state.fields.progress, state.fields.basis], [50, 50, 'frames'], 'the output holds 50 frames, not the 8 s left of the input');
  state = initialProgress({ totalFrames: null, durationSeconds: 10, frameRate: 25, plan: plan(['ffmpeg', '-i', 'a.mp4', '-vf', "select='gt(scene,0.3)'", '-frames:v', '50', 'b.mp4']) });
  state = applySample(state, { format: 'ffmpeg', frame: 25, timeSeconds: 1 });
  assert.equal([state.fields.progress, state.fields.basis], [50, 'time'], 'on the time basis, a frame cap ends the output early: 2 s, not 10');
  state = initialProgress({ totalFrames: null, durationSeconds: 10, frameRate: 25, plan: plan(['ffmpeg', '-i', 'a.mp4', '-vf', "select='not(mod(n,2))'", 'b.mp4']) });
  state = applySample(state, { format: 'ffmpeg', frame: 60, timeSeconds: 5 });
  assert.equal([state.fields.totalFrames, state.fields.progress, state.fields.basis], [null, 50, 'time'], 'frames a select keeps are not counted against the input');
  state = initialProgress({ totalFrames: null });
  state = applySample(state, { format: 'handbrake', percent: 40 });
  assert.equal([state.fields.progress, state.fields.basis], [40, 'percent']);
  state = applySample(state, { format: 'steps', step: 5, totalSteps: 10, percent: 50 });
  assert.is(state.fields.basis, 'steps');
});

test('samples that say different things are read as one; another value, format or a header is not', () => {
  const block = ['frame=120', 'fps=24.0', 'out_time_us=5000000', 'out_time_ms=5000000', 'speed=1.5x', 'progress=continue'].map(createParser({ parser: 'ffmpeg-progress' }));
  const merged = block.reduce((held, sample) => held && mergedSamples(held, sample!));
  assert.equal(merged, { format: 'ffmpeg-progress', frame: 120, fps: 24, timeSeconds: 5, speed: 1.5 });
  assert.is(mergedSamples(merged!, { format: 'ffmpeg-progress', frame: 144 }), null, 'the next block');
  assert.is(mergedSamples({ format: 'steps', step: 1 }, { format: 'tqdm', fps: 3 }), null, 'another format');
  assert.is(mergedSamples({ format: 'ffmpeg-header', header: true, durationSeconds: 10 }, { format: 'ffmpeg-header', frameRate: 25 }), null, 'headers are taken in one by one');
  const first = { format: 'tqdm' as const, step: 5, totalSteps: 10 };
  assert.is(mergedSamples(first, { format: 'tqdm', step: 5, fps: undefined }), first, 'nothing new: the first as it was');
});

test.run();

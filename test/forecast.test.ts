// Forecasts from history: what finished jobs teach about the next of their kind, when waiting jobs
// start and end, the prior's ETA before anything is measured, and an ETA that counts down.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { jobKind } from '../src/forecast/job-kind.js';
import { LiveBoard } from '../src/forecast/live-board.js';
import { forecastQueue } from '../src/forecast/queue-forecast.js';
import { RunHistory } from '../src/forecast/run-history.js';
import { blendEta } from '../src/progress/pipeline.js';
import { aJob } from './helpers/jobs.js';

const done = (id: string, runSeconds: number, mediaSeconds: number | null, extra: Parameters<typeof aJob>[1] = {}) => aJob(id, { status: 'done', runSeconds, mediaSeconds, ...extra });

test('a kind is the program, codec, preset, output size and passes; not the files or the length', () => {
  const a = jobKind(['ffmpeg', '-i', 'a.mp4', '-c:v', 'libx264', '-preset', 'slow', '-vf', 'scale=1280:720', 'a.mkv'], false);
  const b = jobKind(['/usr/bin/ffmpeg', '-y', '-i', 'other.mov', '-t', '30', '-c:v', 'libx264', '-preset', 'slow', '-vf', 'scale=1280:720', 'b.mkv'], false);
  assert.is(a, b);
  assert.is(a, 'ffmpeg libx264 slow 720p 1pass');
  assert.is.not(a, jobKind(['ffmpeg', '-i', 'a.mp4', '-c:v', 'libx264', '-preset', 'fast', '-vf', 'scale=1280:720', 'a.mkv'], false));
  assert.is(jobKind(['ffmpeg -i a.mp4 -c:v libx265 -pass 1 -f null - && ffmpeg -i a.mp4 -c:v libx265 -pass 2 out.mp4'], true), 'ffmpeg libx265 - - 2pass');
  assert.is(jobKind(['HandBrakeCLI', '-i', 'a.mkv', '-o', 'b.mp4', '-e', 'x264', '--preset', 'Fast 1080p30'], false), 'HandBrakeCLI x264 Fast 1080p30 - 1pass');
});

test('history: seconds of run per second of media, a median that one odd run does not swing', () => {
  const history = new RunHistory();
  for (const [id, run] of [['a', 20], ['b', 22], ['c', 21], ['d', 400]] as const) history.observe(done(id, run, 10));
  history.observe(aJob('failed', { status: 'failed', runSeconds: 1, mediaSeconds: 10 }));
  const kind = aJob('x').kind;
  const estimate = history.estimate(kind)!;
  assert.is(estimate.runs, 4, 'only done jobs teach');
  assert.is(estimate.secondsPerMediaSecond!.toFixed(2), '2.15');
  assert.is(Math.round(history.expectedRunSeconds(kind, 100)!), 215, 'a longer input takes longer in proportion');
  assert.is(history.expectedRunSeconds(kind, null), 21.5, 'an unknown length: the median run');
  assert.is(history.expectedRunSeconds('never seen', 100), null);
});

test("history: a first pass's share, learned from when the second began", () => {
  const history = new RunHistory();
  history.observe(done('a', 30, 10, { passStartSeconds: [6] }));
  history.observe(done('b', 40, 10, { passStartSeconds: [10] }));
  assert.is(history.estimate(aJob('x').kind)!.firstPassShare, 0.225);
});

test('the waiting line: each job takes the first slot free, in start order, for its expected run', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const at = (seconds: number) => new Date(now + seconds * 1000).toISOString();
  const forecasts = forecastQueue(
    [{ id: 'r1', remainingSeconds: 30 }, { id: 'r2', remainingSeconds: 10 }],
    [{ id: 'w1', expectedRunSeconds: 60 }, { id: 'w2', expectedRunSeconds: 5 }, { id: 'w3', expectedRunSeconds: 100 }],
    2,
    now,
  );
  assert.equal(forecasts.get('r1'), { expectedRunSeconds: null, startsAt: at(0), finishesAt: at(30) });
  assert.equal(forecasts.get('w1'), { expectedRunSeconds: 60, startsAt: at(10), finishesAt: at(70) });
  assert.equal(forecasts.get('w2'), { expectedRunSeconds: 5, startsAt: at(30), finishesAt: at(35) });
  assert.equal(forecasts.get('w3'), { expectedRunSeconds: 100, startsAt: at(35), finishesAt: at(135) });
});

test('the waiting line: free slots start now; unknown runs make later starts unknown, not guessed; a lowered cap waits', () => {
  const now = 0;
  const free = forecastQueue([], [{ id: 'w1', expectedRunSeconds: null }, { id: 'w2', expectedRunSeconds: 10 }, { id: 'w3', expectedRunSeconds: 10 }], 2, now);
  assert.equal([free.get('w1')!.startsAt, free.get('w1')!.finishesAt], [new Date(0).toISOString(), null]);
  assert.is(free.get('w2')!.startsAt, new Date(0).toISOString());
  assert.is(free.get('w3')!.startsAt, new Date(10_000).toISOString(), 'the known slot frees first');
  const stuck = forecastQueue([{ id: 'r', remainingSeconds: null }], [{ id: 'w', expectedRunSeconds: 10 }], 1, now);
  assert.equal([stuck.get('w')!.startsAt, stuck.get('w')!.finishesAt], [null, null]);
  const lowered = forecastQueue([{ id: 'a', remainingSeconds: 10 }, { id: 'b', remainingSeconds: 20 }, { id: 'c', remainingSeconds: 30 }], [{ id: 'w', expectedRunSeconds: 1 }], 2, now);
  assert.is(lowered.get('w')!.startsAt, new Date(20_000).toISOString(), 'over the cap, the first to end frees no slot');
});

test('the ETA starts from the prior, fades to the measured rate by 10 %, and is 0 at 100', () => {
  assert.is(blendEta(null, null, 5, 3), null, 'nothing known, nothing said');
  assert.is(blendEta(null, 100, 5, null), 95, 'before any percent: what remains of the expected run');
  assert.is(blendEta(null, 100, 5, 2), 98, 'a percent, no rate yet: the expected run less what is done');
  assert.is(blendEta(50, 100, 5, 5), 73, 'half way to 10 %: half each');
  assert.is(blendEta(50, 100, 30, 10), 50, 'from 10 %: the measured rate alone');
  assert.is(blendEta(40, null, 30, 50), 40);
  assert.is(blendEta(40, 100, 30, 100), 0);
});

test('a running job read between reports: live progress over the stored record, its ETA counted down', () => {
  let now = Date.parse('2026-01-01T00:01:00Z');
  const board = new LiveBoard(() => now);
  const job = aJob('j', { status: 'encoding', progress: 10, etaSeconds: 90, updatedAt: '2026-01-01T00:01:00.000Z' });
  now += 4000;
  assert.is(board.current(job).etaSeconds, 86, 'the stored ETA counts down too');
  board.record({ jobId: 'j', at: '', runSeconds: 20, progress: { ...job, progress: 20, etaSeconds: 80, fps: 31 } });
  now += 5000;
  const current = board.current(job);
  assert.equal([current.progress, current.fps, current.etaSeconds], [20, 31, 75]);
  now += 600_000;
  assert.is(board.current(job).etaSeconds, 0, 'never below 0');
  assert.is(board.current({ ...job, status: 'done', etaSeconds: 0 }).progress, 10, 'a finished job is its record');
  board.forget('j');
  assert.is(board.size, 0);
});

test.run();

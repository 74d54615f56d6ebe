// The job machine's graph, driven by events. The runner here is a scripted actor that stands in
// for the pty (which test/runner.test.ts and the end-to-end tests run for real).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedClock, createActor, fromCallback, fromPromise, waitFor } from 'xstate';
import { type Clock, type RunnerCommand, type RunnerInput, createJobMachine } from '../machines/job-machine.js';
import type { EncoderOutcome } from '../machines/job-updates.js';
import { NO_PROGRESS, type Job } from '../machines/job-record.js';
import { aJob } from './helpers/jobs.js';

const wallClock: Clock = { now: () => Date.now() };
const jobMachine = createJobMachine(wallClock);
const input = (job: Job) => ({ job, progressThreshold: 1 });
/** The attempt is durable and its runner invoked: the encode timers are running. */
const encoding = (actor: { getSnapshot(): { matches(state: unknown): boolean } }) => waitFor(actor as never, (s: { matches(state: unknown): boolean }) => s.matches({ running: { working: 'encoding' } }));

interface Script {
  terminations: RunnerCommand[];
  exitWith?: Omit<EncoderOutcome, 'at' | 'runSeconds' | 'logTail'>;
  /** How the encoder exits when told to end: 255 (ffmpeg's) unless said. */
  exitOnTerminate?: Omit<EncoderOutcome, 'at' | 'runSeconds' | 'logTail'>;
}

function scriptedRunner(script: Script) {
  return fromCallback<RunnerCommand, RunnerInput>(({ sendBack, receive }) => {
    sendBack({ type: 'ENCODER_STARTED', pid: 4242, at: '2026-01-01T00:00:01.000Z' });
    sendBack({ type: 'PROGRESS', progress: { ...NO_PROGRESS, progress: 40, frame: 40, totalFrames: 100 }, runSeconds: 4 });
    const exit = (outcome: Script['exitWith']) =>
      sendBack({ type: 'ENCODER_EXITED', outcome: { ...outcome!, logTail: ['last line'], runSeconds: 5, at: '2026-01-01T00:00:06.000Z' } });
    receive((command) => {
      script.terminations.push(command);
      exit(script.exitOnTerminate ?? { exitCode: 255, signal: null });
    });
    if (script.exitWith) setTimeout(() => exit(script.exitWith), 0);
  });
}

function run(script: Script, job: Job = aJob('j1'), outputCheck = fromPromise<void, { job: Job }>(async () => {})) {
  const recorded: Job[] = [];
  const actor = createActor(jobMachine.provide({ actors: { runner: scriptedRunner(script), outputCheck } }), { input: input(job) });
  actor.on('jobChanged', (event) => recorded.push(event.job));
  actor.start();
  actor.send({ type: 'START' });
  return { actor, recorded };
}

const withOutput = (id: string) => aJob(id, { output: `/renders/${id}.mp4` });

test('a clean exit goes through finalizing to done at 100 %', async () => {
  const { actor, recorded } = run({ terminations: [], exitWith: { exitCode: 0, signal: null } }, withOutput('j1'));
  const final = await waitFor(actor, (s) => s.status === 'done');
  assert.ok(final.matches('done'));
  const job = final.output!;
  assert.is(job.status, 'done');
  assert.is(job.progress, 100);
  assert.is(job.attempts, 1);
  assert.is(job.pid, null);
  assert.is(job.elapsedSeconds, 5);
  assert.equal(recorded.map((each) => each.status), ['encoding', 'encoding', 'encoding', 'finalizing', 'done']);
});

test('a clean exit of a job that names no output is done at the exit: there is nothing to finalize', async () => {
  let checked = 0;
  const check = fromPromise<void, { job: Job }>(async () => void (checked += 1));
  const { actor, recorded } = run({ terminations: [], exitWith: { exitCode: 0, signal: null } }, aJob('j0'), check);
  const job = (await waitFor(actor, (s) => s.status === 'done')).output!;
  assert.is(job.status, 'done');
  assert.is(job.progress, 100);
  assert.is(job.finishedAt, '2026-01-01T00:00:06.000Z', 'done when the encoder exited');
  assert.equal(job.history.map((attempt) => [attempt.outcome, attempt.endedAt]), [['done', '2026-01-01T00:00:06.000Z']]);
  assert.equal(recorded.map((each) => each.status), ['encoding', 'encoding', 'encoding', 'done']);
  assert.is(checked, 0);
});

test('a non-zero exit fails the job with the exit code and the tail of the output', async () => {
  const { actor } = run({ terminations: [], exitWith: { exitCode: 1, signal: null } });
  const job = (await waitFor(actor, (s) => s.status === 'done')).output!;
  assert.is(job.status, 'failed');
  assert.is(job.exitCode, 1);
  assert.is(job.error, 'ffmpeg exited with code 1');
  assert.equal(job.logTail, ['last line']);
});

test('a signal fails the job with the signal named', async () => {
  const { actor } = run({ terminations: [], exitWith: { exitCode: null, signal: 'SIGKILL' } });
  const job = (await waitFor(actor, (s) => s.status === 'done')).output!;
  assert.is(job.error, 'ffmpeg was killed by SIGKILL');
  assert.is(job.signal, 'SIGKILL');
});

test('cancel asks the runner to terminate, and the job ends cancelled once the encoder is gone', async () => {
  const script: Script = { terminations: [] };
  const { actor } = run(script);
  await encoding(actor);
  actor.send({ type: 'CANCEL', at: '2026-01-01T00:00:03.000Z' });
  const job = (await waitFor(actor, (s) => s.status === 'done')).output!;
  assert.equal(script.terminations, [{ type: 'TERMINATE', reason: 'cancel' }]);
  assert.is(job.status, 'cancelled');
  assert.is(job.terminationReason, 'cancel');
});

test('a shutdown ends the encoder and leaves the job queued for the next start', async () => {
  const script: Script = { terminations: [] };
  const { actor } = run(script, aJob('j2', { elapsedSeconds: 10, attempts: 1 }));
  await encoding(actor);
  actor.send({ type: 'SHUTDOWN' });
  const job = (await waitFor(actor, (s) => s.status === 'done')).output!;
  assert.equal(script.terminations, [{ type: 'TERMINATE', reason: 'shutdown' }]);
  assert.is(job.status, 'queued');
  assert.is(job.attempts, 2);
  assert.is(job.elapsedSeconds, 15, 'elapsed time adds up over attempts');
});

test('no encoder starts before the attempt is durable; a cancel meanwhile ends the job without one', async () => {
  let runnerStarted = false;
  // A store that has not yet said the record is durable: PERSISTED is never sent.
  const runner = fromCallback<RunnerCommand, RunnerInput>(() => void (runnerStarted = true));
  const actor = createActor(jobMachine.provide({ actors: { runner }, actions: { awaitDurable: () => undefined } }), { input: input(aJob('p1')) });
  const announced: string[] = [];
  actor.on('lifecycle', ({ event }) => announced.push(event.kind));
  actor.start();
  actor.send({ type: 'START' });
  await waitFor(actor, (s) => s.matches({ running: 'persisting' }));
  assert.is(runnerStarted, false, 'the runner waits for the store');
  actor.send({ type: 'CANCEL', at: '2026-01-01T00:00:02.000Z' });
  const job = (await waitFor(actor, (s) => s.status === 'done')).output!;
  actor.send({ type: 'PERSISTED' });
  assert.is(runnerStarted, false);
  assert.is(job.status, 'cancelled');
  assert.equal(job.history.map((attempt) => attempt.outcome), ['cancelled']);
  assert.equal(announced, ['started', 'attempt-ended', 'cancelled']);
});

test('each step is announced as a lifecycle event, in order, with the record change already made', async () => {
  const events: { kind: string; status: string }[] = [];
  const machine = jobMachine.provide({ actors: { runner: scriptedRunner({ terminations: [], exitWith: { exitCode: 0, signal: null } }) } });
  const actor = createActor(machine, { input: input(withOutput('l1')) });
  actor.on('lifecycle', ({ event }) => events.push({ kind: event.kind, status: actor.getSnapshot().context.job.status }));
  actor.start();
  actor.send({ type: 'START' });
  await waitFor(actor, (s) => s.status === 'done');
  assert.equal(events.map((each) => each.kind), ['started', 'encoder-started', 'progress', 'finalized', 'attempt-ended', 'done']);
  const bare = createActor(machine, { input: input(aJob('l2')) });
  const bareEvents: string[] = [];
  bare.on('lifecycle', ({ event }) => bareEvents.push(event.kind));
  bare.start();
  bare.send({ type: 'START' });
  await waitFor(bare, (s) => s.status === 'done');
  assert.equal(bareEvents, ['started', 'encoder-started', 'progress', 'attempt-ended', 'done'], 'no output, no finalizing');
});

test('an output that fails its check fails the job with the reason', async () => {
  const check = fromPromise<void, { job: Job }>(async () => {
    throw new Error('the output is empty');
  });
  const { actor } = run({ terminations: [], exitWith: { exitCode: 0, signal: null } }, withOutput('j3'), check);
  const job = (await waitFor(actor, (s) => s.status === 'done')).output!;
  assert.is(job.status, 'failed');
  assert.is(job.error, 'the output is empty');
});

test('an external job waits in encoding, runs nothing, and finalizes when its output is reported complete', async () => {
  const actor = createActor(jobMachine, { input: input(aJob('ext', { external: true, command: [], output: '/renders/a.mp4' })) });
  actor.start();
  actor.send({ type: 'START' });
  assert.ok(actor.getSnapshot().matches('awaitingExternalOutput'));
  assert.is(actor.getSnapshot().context.job.status, 'encoding');
  actor.send({ type: 'OUTPUT_READY', path: '/renders/a.mp4', at: '2026-01-01T00:01:00.000Z' });
  const job = (await waitFor(actor, (s) => s.status === 'done')).output!;
  assert.is(job.status, 'done');
  assert.is(job.outputReadyAt, '2026-01-01T00:01:00.000Z');
});

test('with a watched output, finalizing waits for the watcher, and checks the output anyway once the wait is over', async () => {
  const clock = new SimulatedClock();
  const machine = createJobMachine(clock).provide({
    actors: { runner: scriptedRunner({ terminations: [], exitWith: { exitCode: 0, signal: null } }) },
    guards: { outputIsWatched: () => true },
    delays: { outputWait: 5000 },
  });
  const actor = createActor(machine, { input: input(aJob('w1')), clock });
  actor.start();
  actor.send({ type: 'START' });
  await waitFor(actor, (s) => s.matches('waitingForOutput'));
  assert.is(actor.getSnapshot().context.job.status, 'finalizing');
  clock.increment(4999);
  assert.ok(actor.getSnapshot().matches('waitingForOutput'));
  clock.increment(1);
  assert.is((await waitFor(actor, (s) => s.status === 'done')).output!.status, 'done');

  const second = createActor(machine, { input: input(aJob('w2')), clock: new SimulatedClock() });
  second.start();
  second.send({ type: 'START' });
  await waitFor(second, (s) => s.matches('waitingForOutput'));
  second.send({ type: 'OUTPUT_READY', path: 'out.mp4', at: '2026-01-01T00:00:07.000Z' });
  assert.is((await waitFor(second, (s) => s.status === 'done')).output!.outputReadyAt, '2026-01-01T00:00:07.000Z');
});

test('the stall clock restarts on new output, and fires after stallTimeoutSec of silence', async () => {
  const clock = new SimulatedClock();
  const script: Script = { terminations: [] };
  clock.set(Date.parse('2026-01-01T00:00:00.000Z'));
  const actor = createActor(createJobMachine(clock).provide({ actors: { runner: scriptedRunner(script) } }), {
    input: input(aJob('s1', { stallTimeoutSec: 10, timeoutSec: 100 })),
    clock,
  });
  actor.start();
  actor.send({ type: 'START' });
  await encoding(actor);
  clock.increment(9000);
  actor.send({ type: 'ACTIVITY' });
  clock.increment(9000);
  assert.equal(script.terminations, [], 'output 9 s ago: not stalled');
  clock.increment(1000);
  assert.equal(script.terminations, [{ type: 'TERMINATE', reason: 'stall' }]);
  const job = (await waitFor(actor, (s) => s.status === 'done')).output!;
  assert.is(job.status, 'failed');
  assert.match(job.error!, /^stalled: ffmpeg printed nothing new/);
  assert.is(job.timedOutAt, '2026-01-01T00:00:19.000Z', 'the time comes from the injected clock');
});

test('the whole-encode timeout fires even while output keeps coming', async () => {
  const clock = new SimulatedClock();
  const script: Script = { terminations: [] };
  const actor = createActor(createJobMachine(clock).provide({ actors: { runner: scriptedRunner(script) } }), {
    input: input(aJob('t1', { stallTimeoutSec: 10, timeoutSec: 30 })),
    clock,
  });
  actor.start();
  actor.send({ type: 'START' });
  await encoding(actor);
  for (let second = 0; second < 29; second++) {
    clock.increment(1000);
    actor.send({ type: 'ACTIVITY' });
  }
  assert.equal(script.terminations, []);
  clock.increment(1000);
  assert.equal(script.terminations, [{ type: 'TERMINATE', reason: 'timeout' }]);
  assert.match((await waitFor(actor, (s) => s.status === 'done')).output!.error!, /^timed out/);
});

test('an encoder that answers the timeout\'s SIGTERM by exiting 0 still fails as timed out, or stalled: its output is cut short', async () => {
  for (const [reason, job] of [['timeout', aJob('t2', { output: '/renders/t2.mp4', stallTimeoutSec: 100, timeoutSec: 5, maxAttempts: 1 })], ['stall', aJob('s2', { output: '/renders/s2.mp4', stallTimeoutSec: 5, timeoutSec: 100, maxAttempts: 1 })]] as const) {
    const clock = new SimulatedClock();
    const script: Script = { terminations: [], exitOnTerminate: { exitCode: 0, signal: null } };
    let checked = false;
    const outputCheck = fromPromise<void, { job: Job }>(async () => {
      checked = true;
    });
    const actor = createActor(createJobMachine(clock).provide({ actors: { runner: scriptedRunner(script), outputCheck } }), { input: input(job), clock });
    actor.start();
    actor.send({ type: 'START' });
    await encoding(actor);
    clock.increment(5000);
    assert.equal(script.terminations, [{ type: 'TERMINATE', reason }]);
    const ended = (await waitFor(actor, (s) => s.status === 'done')).output!;
    assert.is(ended.status, 'failed', `${reason}: ${ended.status}`);
    assert.match(ended.error!, reason === 'timeout' ? /^timed out/ : /^stalled/);
    assert.is(ended.exitCode, 0, 'the exit itself is kept as it was');
    assert.is(checked, false, 'the cut-short output is not checked as if it were finished');
  }
});

test.run();

// The supervisor on its own: its job actors are stand-ins (provided with .provide()) that end when
// the test says, and delays run on a SimulatedClock, so ordering, caps, drain, backoff, cancel and
// shutdown are checked exactly, with no processes and no waiting on real time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type Actor, SimulatedClock, assign, createActor, sendParent, setup } from 'xstate';
import type { Job } from '../machines/job-record.js';
import type { LifecycleEvent } from '../machines/lifecycle.js';
import { supervisorMachine } from '../machines/supervisor-machine.js';
import { aJob } from './helpers/jobs.js';

type StandInEvent =
  | { type: 'START' }
  | { type: 'CANCEL'; at: string }
  | { type: 'SHUTDOWN' }
  | { type: 'OUTPUT_READY'; path: string; at: string }
  /** Test only: the encode ends; `retryDelayMs` set means it failed with attempts left. */
  | { type: 'END'; status: 'done' | 'failed' | 'queued'; retryDelayMs?: number }
  /** Test only: the encoder exits and the job checks its output (or waits for the watcher). */
  | { type: 'ENCODER_EXITS' };

/** A job actor that records its start and ends when told, as the real one ends when its encoder does. */
function standIn(started: string[]) {
  return setup({
    types: { context: {} as { job: Job }, input: {} as { job: Job; progressThreshold: number }, events: {} as StandInEvent, output: {} as Job },
  }).createMachine({
    context: ({ input }) => ({ job: input.job }),
    output: ({ context }) => context.job,
    initial: 'waiting',
    states: {
      waiting: { on: { START: { target: 'running', actions: ({ context }) => started.push(context.job.id) } } },
      running: {
        on: {
          END: { target: 'ended', actions: assign(({ context, event }) => ({ job: { ...context.job, status: event.status, retryDelayMs: event.retryDelayMs ?? null } })) },
          CANCEL: { target: 'ended', actions: assign(({ context }) => ({ job: { ...context.job, status: 'cancelled' as const } })) },
          SHUTDOWN: { target: 'ended', actions: assign(({ context }) => ({ job: { ...context.job, status: 'queued' as const, retryDelayMs: null } })) },
          ENCODER_EXITS: 'checking',
        },
        // As the job machine's running state does, whichever way it is left.
        exit: sendParent(({ context }) => ({ type: 'ENCODER_ENDED', id: context.job.id })),
      },
      checking: {
        on: {
          END: { target: 'ended', actions: assign(({ context, event }) => ({ job: { ...context.job, status: event.status } })) },
          CANCEL: { target: 'ended', actions: assign(({ context }) => ({ job: { ...context.job, status: 'cancelled' as const } })) },
          SHUTDOWN: { target: 'ended', actions: assign(({ context }) => ({ job: { ...context.job, status: 'queued' as const, retryDelayMs: null } })) },
          OUTPUT_READY: { actions: assign(({ context, event }) => ({ job: { ...context.job, outputReadyAt: event.at } })) },
        },
      },
      ended: { type: 'final' },
    },
  });
}

function supervise(maxConcurrent: number, queued: Job[] = [], capacity: Record<string, number> = {}) {
  const clock = new SimulatedClock();
  const started: string[] = [];
  const recorded: Job[] = [];
  const announced: LifecycleEvent[] = [];
  const actor = createActor(supervisorMachine.provide({ actors: { job: standIn(started) as never } }), { input: { maxConcurrent, progressThreshold: 1, queued, capacity, gpuDevices: capacity['gpu'] ? Array.from({ length: capacity['gpu'] }, (_, i) => i) : [] }, clock });
  actor.on('jobChanged', ({ job }) => recorded.push(job));
  actor.on('lifecycle', ({ event }) => announced.push(event));
  actor.start();
  const end = (id: string, status: 'done' | 'failed' | 'queued' = 'done', retryDelayMs?: number) =>
    (actor.getSnapshot().children[id] as Actor<ReturnType<typeof standIn>> | undefined)!.send({ type: 'END', status, ...(retryDelayMs === undefined ? {} : { retryDelayMs }) });
  const submit = (job: Job) => actor.send({ type: 'SUBMIT', job, at: job.createdAt });
  const running = () => [...actor.getSnapshot().context.running].sort();
  const child = (id: string) => (actor.getSnapshot().children[id] as Actor<ReturnType<typeof standIn>> | undefined)!;
  return { actor, clock, started, recorded, announced, end, submit, running, child };
}

const at = (second: number) => `2026-01-01T00:00:${String(second).padStart(2, '0')}.000Z`;
const job = (id: string, priority: number, second: number) => aJob(id, { priority, createdAt: at(second) });

test('higher priority first, and oldest first within a priority, one slot at a time', () => {
  const s = supervise(1);
  s.submit(job('first', 0, 0));
  s.submit(job('low', -10, 1));
  s.submit(job('high-a', 10, 2));
  s.submit(job('normal', 0, 3));
  s.submit(job('high-b', 10, 4));
  assert.equal(s.started, ['first'], 'one slot: the rest wait');
  for (const id of ['first', 'high-a', 'high-b', 'normal']) s.end(id);
  assert.equal(s.started, ['first', 'high-a', 'high-b', 'normal', 'low']);
  assert.equal(s.announced.filter((e) => e.kind === 'submitted').map((e) => e.jobId), ['first', 'low', 'high-a', 'normal', 'high-b']);
});

test('a raised cap starts waiting jobs at once; a lowered one lets running jobs finish and starts nothing until below it', () => {
  const s = supervise(1, [job('a', 0, 0), job('b', 0, 1), job('c', 0, 2), job('d', 0, 3)]);
  assert.equal(s.running(), ['a']);
  s.actor.send({ type: 'SET_MAX_CONCURRENT', maxConcurrent: 3 });
  assert.equal(s.running(), ['a', 'b', 'c']);
  s.actor.send({ type: 'SET_MAX_CONCURRENT', maxConcurrent: 1 });
  assert.equal(s.running(), ['a', 'b', 'c'], 'nothing is stopped');
  s.end('a');
  s.end('b');
  assert.equal(s.running(), ['c'], 'still at the cap: d waits');
  s.end('c');
  assert.equal(s.running(), ['d']);
  s.actor.send({ type: 'SET_MAX_CONCURRENT', maxConcurrent: 0 });
  assert.is(s.actor.getSnapshot().context.maxConcurrent, 0, '0 is no cap');
});

test('a failed job with attempts left rejoins the line after its backoff, on the clock, not before', () => {
  const s = supervise(2, [job('flaky', 0, 0)]);
  s.end('flaky', 'queued', 5000);
  assert.equal(s.running(), [], 'in its backoff it holds no slot');
  s.clock.increment(4999);
  assert.equal(s.started, ['flaky']);
  s.clock.increment(1);
  assert.equal(s.started, ['flaky', 'flaky'], 'requeued and started again');
  assert.ok(s.announced.some((e) => e.kind === 'requeued' && e.reason === 'backoff-over'));
});

test('cancelling a waiting job takes it out of line, stores it cancelled and announces it; a running one is told to cancel', () => {
  const s = supervise(1, [job('running', 0, 0), job('waiting', 0, 1)]);
  s.actor.send({ type: 'CANCEL', id: 'waiting', at: at(9) });
  assert.is(s.actor.getSnapshot().context.queue.size, 0);
  const stored = s.recorded.find((each) => each.id === 'waiting')!;
  assert.equal([stored.status, stored.terminationReason, stored.finishedAt], ['cancelled', 'cancel', at(9)]);
  assert.ok(s.announced.some((e) => e.kind === 'cancelled' && e.jobId === 'waiting'));
  s.actor.send({ type: 'CANCEL', id: 'running', at: at(10) });
  assert.equal(s.running(), [], 'the running one ended');
  assert.equal(s.started, ['running'], 'the cancelled waiting job never started');
});

test('a waiting job moves to its new place in line when its priority changes; a running one does not', () => {
  const s = supervise(1, [job('busy', 0, 0), job('a', 0, 1), job('b', 0, 2)]);
  s.actor.send({ type: 'REPRIORITIZE', id: 'b', priority: 5, at: at(5) });
  s.actor.send({ type: 'REPRIORITIZE', id: 'busy', priority: 99, at: at(5) });
  assert.equal(s.recorded.map((each) => [each.id, each.priority]), [['b', 5]], 'only the waiting job changed');
  s.end('busy');
  assert.equal(s.started, ['busy', 'b']);
});

test('drain lets running jobs finish and starts no waiting one; shutdown ends the running ones and stops', () => {
  const s = supervise(1, [job('a', 0, 0), job('b', 0, 1)]);
  s.actor.send({ type: 'DRAIN' });
  s.end('a');
  assert.equal(s.started, ['a'], 'b did not start while draining');
  const t = supervise(2, [job('x', 0, 0), job('y', 0, 1), job('z', 0, 2)]);
  t.actor.send({ type: 'SHUTDOWN' });
  assert.is(t.actor.getSnapshot().status, 'done', 'every job actor ended, so the supervisor stopped');
  assert.equal(t.started, ['x', 'y']);
});

test('a job past its encoder gives its slot and what it held to the next one, and is still told of cancels, outputs and shutdowns', () => {
  const s = supervise(1, [job('a', 0, 0), job('b', 0, 1), job('c', 0, 2)]);
  s.child('a').send({ type: 'ENCODER_EXITS' });
  assert.equal(s.started, ['a', 'b'], 'b starts while a checks its output');
  assert.equal(s.running(), ['b'], 'the cap counts encoders');
  assert.equal(s.actor.getSnapshot().context.finishing, ['a']);
  s.actor.send({ type: 'OUTPUT_READY', id: 'a', path: '/out/a.mp4', at: at(9) });
  assert.is(s.child('a').getSnapshot().context.job.outputReadyAt, at(9), 'the watcher still reaches it');
  s.actor.send({ type: 'CANCEL', id: 'a', at: at(10) });
  assert.equal(s.actor.getSnapshot().context.finishing, [], 'cancelled, it is let go');
  assert.is(s.child('a'), undefined);
  assert.equal(s.started, ['a', 'b'], 'its end frees no second slot');
  s.end('b');
  assert.equal(s.started, ['a', 'b', 'c']);

  // A GPU is free for the next job once the encoder that used it has ended.
  const g = supervise(2, [aJob('g1', { needs: { gpu: 1 }, createdAt: at(0) }), aJob('g2', { needs: { gpu: 1 }, createdAt: at(1) })], { gpu: 1 });
  assert.equal(g.started, ['g1']);
  g.child('g1').send({ type: 'ENCODER_EXITS' });
  assert.equal(g.started, ['g1', 'g2']);
  assert.equal(Object.keys(g.actor.getSnapshot().context.holding), ['g2']);

  // Draining waits for a job that checks its output; a shutdown ends it too.
  const d = supervise(1, [job('x', 0, 0)]);
  d.child('x').send({ type: 'ENCODER_EXITS' });
  d.actor.send({ type: 'DRAIN' });
  assert.ok(d.actor.getSnapshot().matches('draining'));
  d.actor.send({ type: 'SHUTDOWN' });
  assert.is(d.actor.getSnapshot().status, 'done', 'the finishing job ended, so the supervisor stopped');
});

test('a finished job leaves the supervisor: its actor is let go, so a long-running daemon holds only the running ones', () => {
  const s = supervise(2);
  for (let i = 0; i < 50; i++) s.submit(job(`j${i}`, 0, i % 60));
  for (let i = 0; i < 48; i++) s.end(`j${i}`, i % 2 === 0 ? 'done' : 'failed');
  assert.equal(Object.keys(s.actor.getSnapshot().children).sort(), ['j48', 'j49']);
  s.end('j48', 'queued', 1000);
  assert.equal(Object.keys(s.actor.getSnapshot().children), ['j49'], 'in its backoff a job has no actor');
  s.clock.increment(1000);
  assert.equal(Object.keys(s.actor.getSnapshot().children).sort(), ['j48', 'j49'], 'started again under its own id');
  s.end('j48');
  s.end('j49');
  assert.equal(Object.keys(s.actor.getSnapshot().children), []);
  assert.is(s.started.length, 51);
});

test.run();

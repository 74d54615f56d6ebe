// The supervisor: owns the waiting line, starts the best waiting job whenever a slot is free, and
// spawns one job actor per running job. Waiting jobs are plain records in the queue, not actors,
// so a queue of a hundred thousand costs memory for records only.
import { assign, enqueueActions, emit, setup } from 'xstate';
import { JobQueue, freeSlots } from './job-queue.js';
import type { Job } from './job-record.js';
import { jobMachine } from './job-machine.js';

export type SupervisorEvent =
  /** A job that is already durable as queued joins the line. */
  | { type: 'SUBMIT'; job: Job }
  | { type: 'CANCEL'; id: string; at: string }
  | { type: 'SET_MAX_CONCURRENT'; maxConcurrent: number }
  /** Stop starting jobs and end the running ones (they are requeued). */
  | { type: 'SHUTDOWN' }
  /** Stop starting jobs; let the running ones finish. */
  | { type: 'DRAIN' }
  /** A waiting job's priority changed: it moves to its new place in line. */
  | { type: 'REPRIORITIZE'; job: Job }
  /** A failed job's backoff is over: back in line. */
  | { type: 'REQUEUE'; job: Job }
  /** The watcher saw the output of job `id` complete. */
  | { type: 'OUTPUT_READY'; id: string; path: string; at: string }
  /** Sent by XState when a job actor reaches a final state. */
  | { type: `xstate.done.actor.${string}`; actorId: string; output: Job };

export interface SupervisorContext {
  // Mutated in place by the actions below: copying a 100k-entry line on every submission
  // would make submissions O(n). Nothing outside the actions holds a reference to it.
  queue: JobQueue<Job>;
  /** Ids of the spawned job actors whose encoders take a slot. */
  running: string[];
  /** Ids of external jobs waiting for their output: no encoder here, so no slot. */
  external: string[];
  maxConcurrent: number;
  /** External jobs found in the store at start, spawned on entry. */
  pendingExternal: Job[];
}

export const supervisorMachine = setup({
  types: {
    context: {} as SupervisorContext,
    events: {} as SupervisorEvent,
    input: {} as { maxConcurrent: number; queued?: Job[] },
    emitted: {} as { type: 'jobChanged'; job: Job },
  },
  actors: { job: jobMachine },
  actions: {
    recordJob: emit((_, job: Job) => ({ type: 'jobChanged' as const, job })),
    // A job that ended `queued` failed with attempts left: it rejoins the line after its backoff.
    retryLater: enqueueActions(({ event, enqueue }) => {
      const job = 'output' in event ? (event.output as Job | undefined) : undefined;
      if (job?.status === 'queued') enqueue.raise({ type: 'REQUEUE', job }, { delay: job.retryDelayMs ?? 0 });
    }),
    forgetFinished: assign(({ context, event }) => {
      const id = 'actorId' in event ? event.actorId : undefined;
      return { running: without(context.running, id), external: without(context.external, id) };
    }),
    startExternal: enqueueActions(({ enqueue }, jobs: Job[]) => {
      for (const job of jobs) {
        enqueue.spawnChild('job', { id: job.id, input: { job } });
        enqueue.sendTo(job.id, { type: 'START' });
      }
      enqueue.assign(({ context }) => ({ external: [...context.external, ...jobs.map((job) => job.id)], pendingExternal: [] }));
    }),
    startWhatFits: enqueueActions(({ context, enqueue }) => {
      const running = context.running.length;
      let slots = freeSlots(running, context.maxConcurrent, context.queue.size);
      const started: string[] = [];
      while (slots-- > 0) {
        const job = context.queue.dequeue()!;
        enqueue.spawnChild('job', { id: job.id, input: { job } });
        enqueue.sendTo(job.id, { type: 'START' });
        started.push(job.id);
      }
      if (started.length > 0) {
        enqueue.assign(({ context: current }) => ({ running: [...current.running, ...started] }));
      }
    }),
  },
  guards: {
    nothingRunning: ({ context }) => context.running.length === 0 && context.external.length === 0,
  },
}).createMachine({
  id: 'supervisor',
  context: ({ input }) => {
    const queue = new JobQueue<Job>();
    for (const job of input.queued ?? []) if (!job.external) queue.enqueue(job);
    return { queue, running: [], external: [], maxConcurrent: input.maxConcurrent, pendingExternal: (input.queued ?? []).filter((job) => job.external) };
  },
  initial: 'accepting',
  states: {
    accepting: {
      entry: [{ type: 'startExternal', params: ({ context }) => context.pendingExternal }, 'startWhatFits'],
      on: {
        SUBMIT: [
          { guard: ({ event }) => event.job.external, actions: { type: 'startExternal', params: ({ event }) => [event.job] } },
          { actions: [({ context, event }) => context.queue.enqueue(event.job), 'startWhatFits'] },
        ],
        SET_MAX_CONCURRENT: {
          actions: [assign({ maxConcurrent: ({ event }) => event.maxConcurrent }), 'startWhatFits'],
        },
        'xstate.done.actor.*': { actions: ['forgetFinished', 'retryLater', 'startWhatFits'] },
        REQUEUE: { actions: [({ context, event }) => context.queue.enqueue(event.job), 'startWhatFits'] },
        REPRIORITIZE: {
          actions: ({ context, event }) => {
            if (context.queue.remove(event.job.id)) context.queue.enqueue(event.job);
          },
        },
        SHUTDOWN: 'stopping',
        DRAIN: 'draining',
      },
    },
    /** Running jobs finish; nothing new starts. A job that ends `queued` runs after the next start. */
    draining: {
      on: {
        'xstate.done.actor.*': { actions: 'forgetFinished' },
        SHUTDOWN: 'stopping',
      },
    },
    stopping: {
      entry: enqueueActions(({ context, enqueue }) => {
        for (const id of [...context.running, ...context.external]) enqueue.sendTo(id, { type: 'SHUTDOWN' });
      }),
      always: { guard: 'nothingRunning', target: 'stopped' },
      on: {
        'xstate.done.actor.*': { actions: 'forgetFinished' },
      },
    },
    stopped: { type: 'final' },
  },
  on: {
    OUTPUT_READY: {
      actions: enqueueActions(({ context, event, enqueue }) => {
        if (context.running.includes(event.id) || context.external.includes(event.id)) {
          enqueue.sendTo(event.id, { type: 'OUTPUT_READY', path: event.path, at: event.at });
        }
      }),
    },
    CANCEL: {
      actions: enqueueActions(({ context, event, enqueue }) => {
        const waiting = context.queue.remove(event.id);
        if (waiting) {
          enqueue({
            type: 'recordJob',
            params: { ...waiting, status: 'cancelled', terminationReason: 'cancel', finishedAt: event.at },
          });
        } else if (context.running.includes(event.id) || context.external.includes(event.id)) {
          enqueue.sendTo(event.id, { type: 'CANCEL', at: event.at });
        }
      }),
    },
  },
});

function without(ids: string[], id: string | undefined): string[] {
  return ids.filter((each) => each !== id);
}

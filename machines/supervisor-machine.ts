// The supervisor: owns the waiting line, starts the best waiting job whenever a slot is free, and
// spawns one job actor per running job. Waiting jobs are plain records in the queue, not actors,
// so a queue of a hundred thousand costs memory for records only. It is the only owner of a
// waiting job: a priority change or a cancel of one goes through here, never around it.
import { assign, emit, enqueueActions, setup } from 'xstate';
import { DEFAULT_RETRY_RULES, type FailureKind, type RetryRule } from './failure-kinds.js';
import { JobQueue, freeSlots } from './job-queue.js';
import type { Job } from './job-record.js';
import { type Clock, createJobMachine } from './job-machine.js';
import { toCancelled } from './job-updates.js';
import type { LifecycleEvent } from './lifecycle.js';
import { type Resources, StartPlanner, chooseDevices, diskFolderOf, formatBytes, freeResources } from './resources.js';

export type SupervisorEvent =
  /** A new job, already durable as queued, joins the line. */
  | { type: 'SUBMIT'; job: Job; at: string }
  /** A failed or cancelled job queued again by hand. */
  | { type: 'RETRY'; job: Job; at: string }
  | { type: 'CANCEL'; id: string; at: string }
  | { type: 'SET_MAX_CONCURRENT'; maxConcurrent: number }
  /** Folders with less free space than --min-free now (free bytes by folder): jobs writing there wait. */
  | { type: 'SET_LOW_DISK'; folders: Record<string, number> }
  /** What the box has, changed at runtime: running jobs keep what they hold. */
  | { type: 'SET_RESOURCES'; capacity: Resources; gpuDevices: number[] }
  /** Paused, the line keeps its jobs and nothing new starts; running jobs go on. */
  | { type: 'SET_PAUSED'; paused: boolean }
  | { type: 'SET_PROGRESS_THRESHOLD'; progressThreshold: number }
  /** Stop starting jobs and end the running ones (they are requeued). */
  | { type: 'SHUTDOWN' }
  /** Stop starting jobs; let the running ones finish. */
  | { type: 'DRAIN' }
  /** A waiting job's priority changes: it moves to its new place in line. */
  | { type: 'REPRIORITIZE'; id: string; priority: number; at: string }
  /** A failed job's backoff is over: back in line. */
  | { type: 'REQUEUE'; job: Job; at: string }
  /** In a farm: a job this host claimed joins its line (it was announced where it was submitted). */
  | { type: 'TAKE'; job: Job }
  /** In a farm: this host can no longer renew the job's lease in time: its run ends, the job goes back in line. */
  | { type: 'INTERRUPT'; id: string; reason: string }
  /** In a farm: this host's claim on the job is gone (its lease ran out); dropped here, written nowhere. */
  | { type: 'LOST'; id: string }
  /** The watcher saw the output of job `id` complete. */
  | { type: 'OUTPUT_READY'; id: string; path: string; at: string }
  /** A job's encoder ended (or never started): its slot is free while it checks its output. */
  | { type: 'ENCODER_ENDED'; id: string }
  /** Sent by XState when a job actor reaches a final state. */
  | { type: `xstate.done.actor.${string}`; actorId: string; output: Job };

export interface SupervisorContext {
  // Mutated in place by the actions below: copying a 100k-entry line on every submission
  // would make submissions O(n). Nothing outside the actions holds a reference to it.
  queue: JobQueue<Job>;
  /** Ids of the spawned job actors whose encoders take a slot. */
  running: string[];
  /** Ids of job actors past their encoder (checking the output, waiting for the watcher): no slot. */
  finishing: string[];
  /** Ids of external jobs waiting for their output: no encoder here, so no slot. */
  external: string[];
  maxConcurrent: number;
  progressThreshold: number;
  /** True while the line is paused: no job starts. */
  paused: boolean;
  /** External jobs found in the store at start, spawned on entry. */
  pendingExternal: Job[];
  /** Jobs waiting out a retry's backoff: neither in line nor running, and still cancellable. */
  backingOff: Record<string, Job>;
  /** What the box has; a resource not named here is unlimited. */
  capacity: Resources;
  /** The GPUs' indices, handed to jobs that need `gpu`. */
  gpuDevices: number[];
  /** What each running job holds, and the GPUs it was given. */
  holding: Record<string, { needs: Resources; gpus: number[] }>;
  /** How often each waiting job has been overtaken by a later one using what it waits for. */
  overtakes: Record<string, number>;
  maxOvertakes: number;
  /** Why each waiting job the last pass looked at has not started. */
  waitReasons: Record<string, string>;
  /** Which failures are tried again, by kind. */
  retryRules: Readonly<Record<FailureKind, RetryRule>>;
  /** Folders short of free space, with their free bytes; and the floor they are short of. */
  lowDisk: Record<string, number>;
  minFreeBytes: number;
}

export interface SupervisorInput {
  maxConcurrent: number;
  progressThreshold: number;
  queued?: Job[];
  capacity?: Resources;
  gpuDevices?: number[];
  maxOvertakes?: number;
  retryRules?: Readonly<Record<FailureKind, RetryRule>>;
  /** The free space below which a folder's jobs wait (--min-free), for their reason. */
  minFreeBytes?: number;
}

// How far down the line one pass looks for jobs that fit: a line of a hundred thousand jobs that
// all wait for a busy GPU costs a bounded pass, not the whole line, on every event.
const LOOK_AHEAD = 500;

// The job logic is always provided (the daemon's, with its clock, runner and store); this one
// only gives the types, and says so if it is ever run.
const unprovidedClock: Clock = {
  now() {
    throw new Error('the supervisor needs its job logic: provide it with .provide({ actors: { job } })');
  },
};

// Named actions enqueued from other actions: XState's types can't see a setup's own actions from
// inside it (circular inference), hence the casts; at run time the daemon's versions run.
const backoffId = (jobId: string) => `backoff:${jobId}`;

function withoutKey<T>(record: Record<string, T>, key: string): Record<string, T> {
  const { [key]: _removed, ...rest } = record;
  return rest;
}

const recordJob = (job: Job) => ({ type: 'recordJob', params: job }) as never;
const announce = (event: LifecycleEvent) => ({ type: 'announce', params: event }) as never;

export const supervisorMachine = setup({
  types: {
    context: {} as SupervisorContext,
    events: {} as SupervisorEvent,
    input: {} as SupervisorInput,
    emitted: {} as { type: 'jobChanged'; job: Job } | { type: 'lifecycle'; event: LifecycleEvent },
  },
  actors: { job: createJobMachine(unprovidedClock) },
  actions: {
    recordJob: emit((_, job: Job) => ({ type: 'jobChanged' as const, job })),
    announce: emit((_, event: LifecycleEvent) => ({ type: 'lifecycle' as const, event })),
    enqueueJob: ({ context, event }) => {
      if (event.type === 'SUBMIT' || event.type === 'RETRY' || event.type === 'REQUEUE' || event.type === 'TAKE') context.queue.enqueue(event.job);
    },
    // Its encoder is ended by stopping its actor, whose record writes would be refused anyway.
    dropLost: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'LOST') return;
      const id = event.id;
      context.queue.remove(id);
      delete context.overtakes[id];
      if (hasActor(context, id)) enqueue.stopChild(id);
      if (context.backingOff[id]) enqueue.cancel(backoffId(id));
      enqueue.assign(({ context: current }) => ({
        running: without(current.running, id),
        external: without(current.external, id),
        finishing: without(current.finishing, id),
        holding: withoutKey(current.holding, id),
        backingOff: withoutKey(current.backingOff, id),
      }));
    }),
    // A job that ended `queued` failed with attempts left: it rejoins the line after its backoff.
    retryLater: enqueueActions(({ event, enqueue }) => {
      const job = 'output' in event ? (event.output as Job | undefined) : undefined;
      if (job?.status === 'queued' && job.retryDelayMs !== null) {
        enqueue.assign(({ context }) => ({ backingOff: { ...context.backingOff, [job.id]: job } }));
        // Named, so a cancel during the backoff can take it back.
        enqueue.raise({ type: 'REQUEUE', job, at: job.updatedAt }, { delay: job.retryDelayMs, id: backoffId(job.id) });
      }
      // Interrupted by a shutdown: the next start runs it.
    }),
    // XState keeps a spawned actor among the supervisor's children until it is stopped, even once
    // final: left there, every job ever run would stay in memory and each spawn would copy them all.
    forgetFinished: enqueueActions(({ event, enqueue }) => {
      const id = 'actorId' in event ? event.actorId : undefined;
      if (id === undefined) return;
      enqueue.stopChild(id);
      enqueue.assign(({ context }) => ({ running: without(context.running, id), external: without(context.external, id), finishing: without(context.finishing, id), holding: withoutKey(context.holding, id) }));
    }),
    releaseSlot: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'ENCODER_ENDED' || !context.running.includes(event.id)) return;
      const id = event.id;
      enqueue.assign(({ context: current }) => ({ running: without(current.running, id), finishing: [...current.finishing, id], holding: withoutKey(current.holding, id) }));
    }),
    startExternal: enqueueActions(({ context, enqueue }, jobs: Job[]) => {
      for (const job of jobs) {
        enqueue.spawnChild('job', { id: job.id, input: { job, progressThreshold: context.progressThreshold, retryRules: context.retryRules } });
        enqueue.sendTo(job.id, { type: 'START' });
      }
      enqueue.assign(({ context: current }) => ({ external: [...current.external, ...jobs.map((job) => job.id)], pendingExternal: [] }));
    }),
    startWhatFits: enqueueActions(({ context, enqueue }) => {
      if (context.paused || context.queue.size === 0) return;
      const slots = freeSlots(context.running.length, context.maxConcurrent, context.queue.size);
      const held = Object.values(context.holding);
      const planner = new StartPlanner(context.capacity, freeResources(context.capacity, held.map((hold) => hold.needs)), slots, context.maxOvertakes, context.overtakes);
      const waitReasons: Record<string, string> = {};
      const taken = context.queue.takeInOrder(LOOK_AHEAD, (job) => {
        if (planner.full) return 'stop';
        const folder = diskFolderOf(job);
        if (context.lowDisk[folder] !== undefined) {
          waitReasons[job.id] = `waiting for disk space: ${formatBytes(context.lowDisk[folder])} free in ${folder}, under --min-free ${formatBytes(context.minFreeBytes)}`;
          return 'keep';
        }
        const decision = planner.consider({ id: job.id, needs: job.needs });
        if (!decision.start) waitReasons[job.id] = decision.reason;
        return decision.start ? 'take' : 'keep';
      });
      // GPUs by load: the least busy device first, never more jobs on one than its share.
      const gpuLoad: Record<number, number> = {};
      for (const hold of held) for (const gpu of hold.gpus) gpuLoad[gpu] = (gpuLoad[gpu] ?? 0) + 1;
      const perDevice = Math.max(1, Math.ceil((context.capacity['gpu'] ?? context.gpuDevices.length) / Math.max(1, context.gpuDevices.length)));
      const holding: SupervisorContext['holding'] = {};
      for (const waiting of taken) {
        const wanted = waiting.needs['gpu'] ?? 0;
        const gpus = wanted > 0 ? chooseDevices(context.gpuDevices, gpuLoad, wanted, perDevice, waiting.gpus ?? []) : [];
        for (const gpu of gpus) gpuLoad[gpu] = (gpuLoad[gpu] ?? 0) + 1;
        const job = wanted > 0 ? { ...waiting, gpus } : { ...waiting, gpus: null };
        holding[job.id] = { needs: job.needs, gpus };
        delete context.overtakes[job.id];
        enqueue.spawnChild('job', { id: job.id, input: { job, progressThreshold: context.progressThreshold, retryRules: context.retryRules } });
        enqueue.sendTo(job.id, { type: 'START' });
      }
      enqueue.assign(({ context: current }) => ({
        running: [...current.running, ...taken.map((job) => job.id)],
        holding: { ...current.holding, ...holding },
        waitReasons,
      }));
    }),
    reprioritize: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'REPRIORITIZE') return;
      const waiting = context.queue.remove(event.id);
      if (!waiting) return;
      const moved = { ...waiting, priority: event.priority };
      context.queue.enqueue(moved);
      enqueue(recordJob(moved));
      enqueue(announce({ kind: 'reprioritized', jobId: moved.id, at: event.at, priority: moved.priority }));
    }),
    cancel: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'CANCEL') return;
      const waiting = context.queue.remove(event.id);
      if (waiting) {
        delete context.overtakes[event.id];
        enqueue(recordJob(toCancelled(waiting, event.at)));
        enqueue(announce({ kind: 'cancelled', jobId: event.id, at: event.at }));
      } else if (hasActor(context, event.id)) {
        enqueue.sendTo(event.id, { type: 'CANCEL', at: event.at });
      } else if (context.backingOff[event.id]) {
        enqueue.cancel(backoffId(event.id));
        enqueue(recordJob(toCancelled(context.backingOff[event.id]!, event.at)));
        enqueue(announce({ kind: 'cancelled', jobId: event.id, at: event.at }));
        enqueue.assign(({ context: current }) => ({ backingOff: withoutKey(current.backingOff, event.id) }));
      }
    }),
    routeOutput: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'OUTPUT_READY') return;
      if (hasActor(context, event.id)) enqueue.sendTo(event.id, { type: 'OUTPUT_READY', path: event.path, at: event.at });
    }),
  },
  guards: {
    nothingRunning: ({ context }) => context.running.length === 0 && context.external.length === 0 && context.finishing.length === 0,
    isExternal: ({ event }) => (event.type === 'SUBMIT' || event.type === 'RETRY' || event.type === 'TAKE') && event.job.external,
  },
}).createMachine({
  id: 'supervisor',
  context: ({ input }) => {
    const queue = new JobQueue<Job>();
    for (const job of input.queued ?? []) if (!job.external) queue.enqueue(job);
    return {
      queue,
      running: [],
      finishing: [],
      external: [],
      maxConcurrent: input.maxConcurrent,
      progressThreshold: input.progressThreshold,
      pendingExternal: (input.queued ?? []).filter((job) => job.external),
      backingOff: {},
      paused: false,
      capacity: input.capacity ?? {},
      gpuDevices: input.gpuDevices ?? [],
      holding: {},
      overtakes: {},
      maxOvertakes: input.maxOvertakes ?? 3,
      waitReasons: {},
      retryRules: input.retryRules ?? DEFAULT_RETRY_RULES,
      lowDisk: {},
      minFreeBytes: input.minFreeBytes ?? 0,
    };
  },
  initial: 'accepting',
  states: {
    accepting: {
      entry: [{ type: 'startExternal', params: ({ context }) => context.pendingExternal }, 'startWhatFits'],
      on: {
        SUBMIT: [
          {
            guard: 'isExternal',
            actions: [
              { type: 'announce', params: ({ event }) => ({ kind: 'submitted', jobId: event.job.id, at: event.at, name: event.job.name, priority: event.job.priority }) },
              { type: 'startExternal', params: ({ event }) => [event.job] },
            ],
          },
          {
            actions: [
              { type: 'announce', params: ({ event }) => ({ kind: 'submitted', jobId: event.job.id, at: event.at, name: event.job.name, priority: event.job.priority }) },
              'enqueueJob',
              'startWhatFits',
            ],
          },
        ],
        RETRY: [
          {
            guard: 'isExternal',
            actions: [
              { type: 'announce', params: ({ event }) => ({ kind: 'requeued', jobId: event.job.id, at: event.at, reason: 'manual-retry' }) },
              { type: 'startExternal', params: ({ event }) => [event.job] },
            ],
          },
          {
            actions: [
              { type: 'announce', params: ({ event }) => ({ kind: 'requeued', jobId: event.job.id, at: event.at, reason: 'manual-retry' }) },
              'enqueueJob',
              'startWhatFits',
            ],
          },
        ],
        TAKE: [
          { guard: 'isExternal', actions: { type: 'startExternal', params: ({ event }) => [event.job] } },
          { actions: ['enqueueJob', 'startWhatFits'] },
        ],
        LOST: { actions: ['dropLost', 'startWhatFits'] },
        REQUEUE: {
          // A backoff cancelled in the meantime raises nothing more; this guards the race anyway.
          guard: ({ context, event }) => context.backingOff[event.job.id] !== undefined,
          actions: [
            assign({ backingOff: ({ context, event }) => withoutKey(context.backingOff, event.job.id) }),
            { type: 'announce', params: ({ event }) => ({ kind: 'requeued', jobId: event.job.id, at: event.at, reason: 'backoff-over' }) },
            'enqueueJob',
            'startWhatFits',
          ],
        },
        SET_MAX_CONCURRENT: { actions: [assign({ maxConcurrent: ({ event }) => event.maxConcurrent }), 'startWhatFits'] },
        SET_LOW_DISK: { actions: [assign({ lowDisk: ({ event }) => event.folders }), 'startWhatFits'] },
        SET_RESOURCES: { actions: [assign({ capacity: ({ event }) => event.capacity, gpuDevices: ({ event }) => event.gpuDevices }), 'startWhatFits'] },
        SET_PAUSED: { actions: [assign({ paused: ({ event }) => event.paused }), 'startWhatFits'] },
        'xstate.done.actor.*': { actions: ['forgetFinished', 'retryLater', 'startWhatFits'] },
        ENCODER_ENDED: { actions: ['releaseSlot', 'startWhatFits'] },
        REPRIORITIZE: { actions: 'reprioritize' },
        SHUTDOWN: 'stopping',
        DRAIN: 'draining',
      },
    },
    /** Running jobs finish; nothing new starts. A job that ends `queued` runs after the next start. */
    draining: {
      on: {
        'xstate.done.actor.*': { actions: 'forgetFinished' },
        REPRIORITIZE: { actions: 'reprioritize' },
        SHUTDOWN: 'stopping',
      },
    },
    stopping: {
      entry: enqueueActions(({ context, enqueue }) => {
        for (const id of [...context.running, ...context.finishing, ...context.external]) enqueue.sendTo(id, { type: 'SHUTDOWN' });
      }),
      always: { guard: 'nothingRunning', target: 'stopped' },
      on: { 'xstate.done.actor.*': { actions: 'forgetFinished' } },
    },
    stopped: { type: 'final' },
  },
  on: {
    LOST: { actions: 'dropLost' },
    ENCODER_ENDED: { actions: 'releaseSlot' },
    INTERRUPT: {
      guard: ({ context, event }) => hasActor(context, event.id),
      actions: enqueueActions(({ event, enqueue }) => {
        if (event.type === 'INTERRUPT') enqueue.sendTo(event.id, { type: 'SHUTDOWN', reason: event.reason });
      }),
    },
    OUTPUT_READY: { actions: 'routeOutput' },
    CANCEL: { actions: 'cancel' },
    SET_PROGRESS_THRESHOLD: { actions: assign({ progressThreshold: ({ event }) => event.progressThreshold }) },
  },
});

/** Whether the job has an actor here: running, past its encoder, or waiting for an external output. */
export function hasActor(context: Pick<SupervisorContext, 'running' | 'finishing' | 'external'>, id: string): boolean {
  return context.running.includes(id) || context.finishing.includes(id) || context.external.includes(id);
}

function without(ids: string[], id: string | undefined): string[] {
  return ids.filter((each) => each !== id);
}

// One job's life: queued → encoding → finalizing → done | failed | cancelled, with the stall and
// whole-encode timeouts, automatic retries, external jobs and watched outputs. The graph and the
// names live here; the runner (pty), the output check (ffprobe) and recordJob (the store) are
// provided by src/, and the record changes are the pure functions of job-updates.ts.
import { and, assign, emit, fromCallback, fromPromise, not, sendTo, setup } from 'xstate';
import type { Job, ProgressFields, TerminationReason } from './job-record.js';
import {
  type EncoderOutcome,
  canRetry,
  describeFailure,
  endAttempt,
  finish,
  outcomeOf,
  startAttempt,
  succeeded,
  timedOut,
  toFailed,
  toRetry,
  withExit,
} from './job-updates.js';

export type JobEvent =
  | { type: 'START' }
  | { type: 'CANCEL'; at: string }
  | { type: 'SHUTDOWN' }
  | { type: 'ENCODER_STARTED'; pid: number; pidStartTicks: number | null; at: string }
  | { type: 'PROGRESS'; progress: ProgressFields; runSeconds: number; logTail: string[]; expectedDurationSeconds?: number | null }
  /** The encoder printed something new: it is not stalled. */
  | { type: 'ACTIVITY' }
  | { type: 'ENCODER_EXITED'; outcome: EncoderOutcome }
  /** The watcher saw the job's output complete (its writer finished with it). */
  | { type: 'OUTPUT_READY'; path: string; at: string };

export type RunnerCommand = { type: 'TERMINATE'; reason: TerminationReason };
export interface RunnerInput {
  job: Job;
}
export interface OutputCheckInput {
  job: Job;
}

export interface JobContext {
  job: Job;
  /** Encoding seconds of earlier attempts, so elapsedSeconds counts every attempt. */
  elapsedBefore: number;
}

// setTimeout fires at once for delays past 2^31-1 ms; a limit of 0 means none, so wait "forever".
const NEVER_MS = 2 ** 31 - 1;
const secondsOrNever = (seconds: number) => (seconds > 0 ? Math.min(NEVER_MS, seconds * 1000) : NEVER_MS);
const eventTime = (event: { at?: string }) => event.at ?? new Date().toISOString();

export const jobMachine = setup({
  types: {
    context: {} as JobContext,
    events: {} as JobEvent,
    input: {} as { job: Job },
    output: {} as Job,
    emitted: {} as { type: 'jobChanged'; job: Job },
  },
  actors: {
    // Provided by src/runner; this default reports that nothing was wired in.
    runner: fromCallback<RunnerCommand, RunnerInput>(() => {
      throw new Error('jobMachine needs a runner actor: provide one with jobMachine.provide()');
    }),
    outputCheck: fromPromise<void, OutputCheckInput>(async () => {}),
  },
  delays: {
    encodeTimeout: ({ context }) => secondsOrNever(context.job.timeoutSec),
    stallTimeout: ({ context }) => secondsOrNever(context.job.stallTimeoutSec),
    /** How long finalizing waits for the watcher before checking the output anyway. */
    outputWait: 15_000,
  },
  actions: {
    // The daemon replaces this with a durable store write; alone, the machine just announces it.
    recordJob: emit(({ context }) => ({ type: 'jobChanged' as const, job: context.job })),
    /** Cancelled where no encoder runs (waiting in line, or waiting for an output). */
    cancelWithoutEncoder: assign(({ context, event }) => {
      const at = eventTime(event as { at?: string });
      const ended = context.job.attempts > 0 && context.job.status !== 'queued' ? endAttempt(context.job, 'cancelled', 'cancelled', at) : context.job;
      return { job: finish(ended, { status: 'cancelled', terminationReason: 'cancel' }, at) };
    }),
    backInLine: assign(({ context }) => ({ job: { ...context.job, status: 'queued' as const, retryDelayMs: null } })),
    terminate: sendTo('runner', ({ context }) => ({ type: 'TERMINATE' as const, reason: context.job.terminationReason ?? 'cancel' })),
  },
  guards: {
    // Provided by the daemon: true when a watcher covers the output, so finalizing waits for it.
    outputIsWatched: () => false,
    isExternal: ({ context }) => context.job.external,
    outputAlreadyReady: ({ context }) => context.job.outputReadyAt !== null,
    endedByCancel: ({ context }) => context.job.terminationReason === 'cancel',
    endedByShutdown: ({ context }) => context.job.terminationReason === 'shutdown',
    encoderSucceeded: ({ event }) => event.type === 'ENCODER_EXITED' && succeeded(event.outcome),
    canRetry: ({ context }) => canRetry(context.job),
  },
}).createMachine({
  id: 'job',
  context: ({ input }) => ({ job: input.job, elapsedBefore: input.job.elapsedSeconds }),
  initial: 'queued',
  output: ({ context }) => context.job,
  states: {
    queued: {
      on: {
        START: [
          { guard: 'isExternal', target: 'awaitingExternalOutput', actions: assign(({ context }) => ({ job: startAttempt(context.job) })) },
          {
            target: 'running',
            actions: assign(({ context }) => ({ elapsedBefore: context.job.elapsedSeconds, job: startAttempt(context.job) })),
          },
        ],
        CANCEL: { target: 'cancelled', actions: 'cancelWithoutEncoder' },
      },
    },
    running: {
      invoke: { id: 'runner', src: 'runner', input: ({ context }) => ({ job: context.job }) },
      initial: 'encoding',
      on: {
        ENCODER_STARTED: {
          actions: [
            assign(({ context, event }) => ({ job: { ...context.job, pid: event.pid, pidStartTicks: event.pidStartTicks, startedAt: event.at } })),
            'recordJob',
          ],
        },
        PROGRESS: {
          actions: [
            assign(({ context, event }) => ({
              job: {
                ...context.job,
                ...event.progress,
                logTail: event.logTail,
                expectedDurationSeconds: context.job.expectedDurationSeconds ?? event.expectedDurationSeconds ?? null,
                elapsedSeconds: context.elapsedBefore + event.runSeconds,
                progressWrites: context.job.progressWrites + 1,
              },
            })),
            'recordJob',
          ],
        },
        OUTPUT_READY: { actions: [assign(({ context, event }) => ({ job: { ...context.job, outputReadyAt: event.at } })), 'recordJob'] },
        ENCODER_EXITED: [
          {
            guard: 'endedByCancel',
            target: 'cancelled',
            actions: assign(({ context, event }) => {
              const job = endAttempt(withExit(context.job, context.elapsedBefore, event.outcome), 'cancelled', 'cancelled', event.outcome.at);
              return { job: finish(job, { status: 'cancelled' }, event.outcome.at) };
            }),
          },
          {
            guard: 'endedByShutdown',
            target: 'interrupted',
            // Back in line for the next start; the interrupted run still counts as an attempt.
            actions: assign(({ context, event }) => {
              const job = endAttempt(withExit(context.job, context.elapsedBefore, event.outcome), 'interrupted', 'the daemon shut down', event.outcome.at);
              return { job: { ...job, status: 'queued' as const } };
            }),
          },
          {
            guard: and(['encoderSucceeded', 'outputIsWatched', not('outputAlreadyReady')]),
            target: 'waitingForOutput',
            actions: assign(({ context, event }) => ({ job: { ...withExit(context.job, context.elapsedBefore, event.outcome), status: 'finalizing' as const } })),
          },
          {
            guard: 'encoderSucceeded',
            target: 'finalizing',
            actions: assign(({ context, event }) => ({ job: { ...withExit(context.job, context.elapsedBefore, event.outcome), status: 'finalizing' as const } })),
          },
          {
            guard: 'canRetry',
            target: 'retrying',
            actions: assign(({ context, event }) => {
              const job = withExit(context.job, context.elapsedBefore, event.outcome);
              return { job: toRetry(job, describeFailure(job, event.outcome), outcomeOf(job), event.outcome.at) };
            }),
          },
          {
            target: 'failed',
            actions: assign(({ context, event }) => {
              const job = withExit(context.job, context.elapsedBefore, event.outcome);
              return { job: toFailed(job, describeFailure(job, event.outcome), outcomeOf(job), event.outcome.at) };
            }),
          },
        ],
      },
      states: {
        encoding: {
          entry: 'recordJob',
          after: {
            encodeTimeout: { target: 'terminating', actions: assign(({ context }) => ({ job: timedOut(context.job, 'timeout', new Date().toISOString()) })) },
          },
          initial: 'active',
          states: {
            active: {
              after: {
                stallTimeout: { target: '#job.running.terminating', actions: assign(({ context }) => ({ job: timedOut(context.job, 'stall', new Date().toISOString()) })) },
              },
              // Anything new from the encoder starts the stall clock again.
              on: { ACTIVITY: { target: 'active', reenter: true } },
            },
          },
          on: {
            CANCEL: { target: 'terminating', actions: assign(terminationBy('cancel')) },
            SHUTDOWN: { target: 'terminating', actions: assign(terminationBy('shutdown')) },
          },
        },
        terminating: {
          entry: ['recordJob', 'terminate'],
          on: {
            // A cancel outranks a timeout: the user asked for it.
            CANCEL: { actions: [assign(terminationBy('cancel')), 'recordJob'] },
          },
        },
      },
    },
    awaitingExternalOutput: {
      entry: 'recordJob',
      on: {
        OUTPUT_READY: {
          target: 'finalizing',
          actions: assign(({ context, event }) => ({ job: { ...context.job, status: 'finalizing' as const, outputReadyAt: event.at } })),
        },
        CANCEL: { target: 'cancelled', actions: 'cancelWithoutEncoder' },
        // Nothing runs here to end: the job waits in line again for the next start.
        SHUTDOWN: { target: 'interrupted', actions: 'backInLine' },
      },
    },
    /** The encoder exited 0; the watcher has not yet seen its writer finish with the output. */
    waitingForOutput: {
      entry: 'recordJob',
      after: { outputWait: 'finalizing' },
      on: {
        OUTPUT_READY: { target: 'finalizing', actions: assign(({ context, event }) => ({ job: { ...context.job, outputReadyAt: event.at } })) },
        CANCEL: { target: 'cancelled', actions: 'cancelWithoutEncoder' },
        SHUTDOWN: { target: 'interrupted', actions: 'backInLine' },
      },
    },
    finalizing: {
      entry: 'recordJob',
      invoke: {
        src: 'outputCheck',
        input: ({ context }) => ({ job: context.job }),
        onDone: {
          target: 'done',
          actions: assign(({ context }) => {
            const at = new Date().toISOString();
            return { job: finish(endAttempt(context.job, 'done', null, at), { status: 'done', progress: 100, etaSeconds: 0 }, at) };
          }),
        },
        onError: [
          {
            guard: 'canRetry',
            target: 'retrying',
            actions: assign(({ context, event }) => ({ job: toRetry(context.job, errorText(event.error), 'failed', new Date().toISOString()) })),
          },
          {
            target: 'failed',
            actions: assign(({ context, event }) => ({ job: toFailed(context.job, errorText(event.error), 'failed', new Date().toISOString()) })),
          },
        ],
      },
    },
    done: { type: 'final', entry: 'recordJob' },
    failed: { type: 'final', entry: 'recordJob' },
    cancelled: { type: 'final', entry: 'recordJob' },
    /** Failed with attempts left: the record says queued; the supervisor requeues it after the backoff. */
    retrying: { type: 'final', entry: 'recordJob' },
    /** Ended by a daemon shutdown: the record says queued, so the next start runs it again. */
    interrupted: { type: 'final', entry: 'recordJob' },
  },
});

function terminationBy(reason: TerminationReason) {
  return ({ context }: { context: JobContext }) => ({ job: { ...context.job, terminationReason: reason } });
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

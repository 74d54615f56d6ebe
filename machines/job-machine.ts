// One job's life: queued → encoding → finalizing → done | failed | cancelled. The graph and the
// names live here; the runner (pty), the output check (fs) and recordJob (store) are provided by src/.
import { and, assign, emit, fromCallback, fromPromise, not, sendTo, setup } from 'xstate';
import type { Job, ProgressFields, TerminationReason } from './job-record.js';

/** How an encoder run ended: a value, never an exception. */
export interface EncoderOutcome {
  exitCode: number | null;
  signal: string | null;
  logTail: string[];
  /** Wall time of this run, in seconds. */
  runSeconds: number;
  at: string;
}

export type JobEvent =
  | { type: 'START' }
  | { type: 'CANCEL'; at: string }
  | { type: 'SHUTDOWN' }
  | { type: 'ENCODER_STARTED'; pid: number; at: string }
  | { type: 'PROGRESS'; progress: ProgressFields; runSeconds: number; logTail: string[]; expectedDurationSeconds?: number | null }
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

export function describeFailure(outcome: EncoderOutcome, program: string): string {
  if (outcome.signal) return `${program} was killed by ${outcome.signal}`;
  return `${program} exited with code ${outcome.exitCode ?? 'unknown'}`;
}

function succeeded(outcome: EncoderOutcome): boolean {
  return outcome.exitCode === 0 && outcome.signal === null;
}

function finish(job: Job, patch: Partial<Job>, at: string): Job {
  return { ...job, ...patch, pid: null, finishedAt: at };
}

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
    /** How long finalizing waits for the watcher before checking the output anyway. */
    outputWait: 15_000,
  },
  actions: {
    // The daemon replaces this with a durable store write; alone, the machine just announces it.
    recordJob: emit(({ context }) => ({ type: 'jobChanged' as const, job: context.job })),
    /** Cancelled where no encoder runs (waiting in line, or waiting for an output). */
    cancelWithoutEncoder: assign(({ context, event }) => ({
      job: finish(context.job, { status: 'cancelled', terminationReason: 'cancel' }, 'at' in event ? event.at : new Date().toISOString()),
    })),
    backInLine: assign(({ context }) => ({ job: { ...context.job, status: 'queued' as const } })),
  },
  guards: {
    // Provided by the daemon: true when a watcher covers the output, so finalizing waits for it.
    outputIsWatched: () => false,
    isExternal: ({ context }) => context.job.external,
    outputAlreadyReady: ({ context }) => context.job.outputReadyAt !== null,
    endedByCancel: ({ context }) => context.job.terminationReason === 'cancel',
    endedByShutdown: ({ context }) => context.job.terminationReason === 'shutdown',
    encoderSucceeded: ({ event }) => event.type === 'ENCODER_EXITED' && succeeded(event.outcome),
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
          {
            guard: 'isExternal',
            target: 'awaitingExternalOutput',
            actions: assign(({ context }) => ({
              job: { ...context.job, status: 'encoding' as const, attempts: context.job.attempts + 1, error: null, finishedAt: null, outputReadyAt: null },
            })),
          },
          {
          target: 'running',
          actions: assign(({ context }) => ({
            elapsedBefore: context.job.elapsedSeconds,
            job: {
              ...context.job,
              status: 'encoding' as const,
              attempts: context.job.attempts + 1,
              exitCode: null,
              signal: null,
              error: null,
              terminationReason: null,
              finishedAt: null,
              outputReadyAt: null,
            },
          })),
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
            assign(({ context, event }) => ({
              job: { ...context.job, pid: event.pid, startedAt: event.at },
            })),
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
            actions: assign(({ context, event }) => ({
              job: finish(context.job, { ...exitFields(context, event.outcome), status: 'cancelled' }, event.outcome.at),
            })),
          },
          {
            guard: 'endedByShutdown',
            target: 'interrupted',
            // Back in line for the next start; the interrupted run still counts as an attempt.
            actions: assign(({ context, event }) => ({
              job: { ...context.job, ...exitFields(context, event.outcome), status: 'queued' as const, pid: null },
            })),
          },
          {
            guard: and(['encoderSucceeded', 'outputIsWatched', not('outputAlreadyReady')]),
            target: 'waitingForOutput',
            actions: assign(({ context, event }) => ({
              job: { ...context.job, ...exitFields(context, event.outcome), status: 'finalizing' as const, pid: null },
            })),
          },
          {
            guard: 'encoderSucceeded',
            target: 'finalizing',
            actions: assign(({ context, event }) => ({
              job: { ...context.job, ...exitFields(context, event.outcome), status: 'finalizing' as const, pid: null },
            })),
          },
          {
            target: 'failed',
            actions: assign(({ context, event }) => ({
              job: finish(
                context.job,
                {
                  ...exitFields(context, event.outcome),
                  status: 'failed',
                  error: describeFailure(event.outcome, context.job.command[0] ?? 'encoder'),
                },
                event.outcome.at,
              ),
            })),
          },
        ],
      },
      states: {
        encoding: {
          entry: 'recordJob',
          on: {
            CANCEL: { target: 'terminating', actions: assign(terminationBy('cancel')) },
            SHUTDOWN: { target: 'terminating', actions: assign(terminationBy('shutdown')) },
          },
        },
        terminating: {
          entry: [
            'recordJob',
            sendTo('runner', ({ context }) => ({
              type: 'TERMINATE' as const,
              reason: context.job.terminationReason ?? 'cancel',
            })),
          ],
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
        CANCEL: {
          target: 'cancelled',
          actions: 'cancelWithoutEncoder',
        },
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
        CANCEL: {
          target: 'cancelled',
          actions: 'cancelWithoutEncoder',
        },
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
          actions: assign(({ context }) => ({
            job: finish(context.job, { status: 'done', progress: 100, etaSeconds: 0 }, new Date().toISOString()),
          })),
        },
        onError: {
          target: 'failed',
          actions: assign(({ context, event }) => ({
            job: finish(
              context.job,
              { status: 'failed', error: event.error instanceof Error ? event.error.message : String(event.error) },
              new Date().toISOString(),
            ),
          })),
        },
      },
    },
    done: { type: 'final', entry: 'recordJob' },
    failed: { type: 'final', entry: 'recordJob' },
    cancelled: { type: 'final', entry: 'recordJob' },
    /** Ended by a daemon shutdown: the record says queued, so the next start runs it again. */
    interrupted: { type: 'final', entry: 'recordJob' },
  },
});

function terminationBy(reason: TerminationReason) {
  return ({ context }: { context: JobContext }) => ({
    job: { ...context.job, terminationReason: reason },
  });
}

function exitFields(context: JobContext, outcome: EncoderOutcome): Partial<Job> {
  return {
    exitCode: outcome.exitCode,
    signal: outcome.signal,
    logTail: outcome.logTail,
    elapsedSeconds: context.elapsedBefore + outcome.runSeconds,
  };
}

// One job's life: queued → encoding → finalizing → done | failed | cancelled, with the stall and
// whole-encode timeouts, automatic retries, external jobs and watched outputs. The graph and the
// names live here: every record change is a named action built on job-updates.ts, every moment
// worth telling is announced as a lifecycle event, and time comes from the events or the injected
// clock. The runner (pty), the output check (ffprobe), persistence and announcing are provided by
// src/.
import { type ActorRefFrom, and, assign, emit, enqueueActions, fromCallback, fromPromise, not, raise, sendTo, setup } from 'xstate';
import { DEFAULT_RETRY_RULES, FAILURE_MEANING, type FailureEvidence, type FailureKind, type RetryRule } from './failure-kinds.js';
import type { LifecycleEvent } from './lifecycle.js';
import { type Job, type TerminationReason, progressFieldsOf } from './job-record.js';
import {
  type EncoderOutcome,
  type ProgressReport,
  attemptInBudget,
  backInLine,
  canRetry,
  describeFailure,
  endAttempt,
  outcomeOf,
  retriesAfter,
  startAttempt,
  succeeded,
  timedOut,
  toCancelled,
  toDone,
  toFailed,
  toFinalizing,
  toInterrupted,
  toRetry,
  withEncoderStarted,
  withExit,
  withOutputReady,
  withProgress,
} from './job-updates.js';

export type JobEvent =
  | { type: 'START' }
  | { type: 'CANCEL'; at: string }
  /** Ends the run and puts the job back in line; `reason` says why, where it is not the daemon's shutdown. */
  | { type: 'SHUTDOWN'; reason?: string }
  | { type: 'ENCODER_STARTED'; pid: number; pidStartTicks: number | null; at: string }
  | ({ type: 'PROGRESS' } & ProgressReport)
  /** The encoder printed something new: it is not stalled. */
  | { type: 'ACTIVITY' }
  | { type: 'ENCODER_EXITED'; outcome: EncoderOutcome }
  /** The watcher saw the job's output complete (its writer finished with it). */
  | { type: 'OUTPUT_READY'; path: string; at: string }
  /** The attempt's record is durable (sent by `awaitDurable`): its encoder may start. */
  | { type: 'PERSISTED' };

export type RunnerCommand = { type: 'TERMINATE'; reason: TerminationReason };
export interface RunnerInput {
  job: Job;
  /** Store progress when it moved this many percent (the daemon's setting when the run began). */
  progressThreshold: number;
}
export interface OutputCheckInput {
  job: Job;
}

/** Where the machines read the time: Date.now in the daemon, a SimulatedClock in tests. */
export interface Clock {
  now(): number;
}

export interface JobInput {
  job: Job;
  progressThreshold: number;
  /** Which failures are tried again, by kind; the defaults where not given. */
  retryRules?: Readonly<Record<FailureKind, RetryRule>>;
}

export interface JobContext {
  job: Job;
  /** Encoding seconds of earlier attempts, so elapsedSeconds counts every attempt. */
  elapsedBefore: number;
  progressThreshold: number;
  retryRules: Readonly<Record<FailureKind, RetryRule>>;
  /** Why the run was interrupted, where it was not the daemon's shutdown (a farm host's late lease). */
  interruptReason?: string;
}

// Waiting with no encoder of its own (for an external output, for the watcher): a cancel ends the
// job at once, and a shutdown puts it back in line for the next start.
const NO_ENCODER_TO_END = {
  CANCEL: { target: 'cancelled', actions: 'cancelWithoutEncoder' },
  SHUTDOWN: { target: 'interrupted', actions: ['noteInterruptReason', 'interruptWithoutEncoder'] },
} as const;

// setTimeout fires at once for delays past 2^31-1 ms; a limit of 0 means none, so wait "forever".
const NEVER_MS = 2 ** 31 - 1;
const secondsOrNever = (seconds: number) => (seconds > 0 ? Math.min(NEVER_MS, seconds * 1000) : NEVER_MS);

export function createJobMachine(clock: Clock) {
  const nowIso = () => new Date(clock.now()).toISOString();
  // Named actions enqueued from other actions. XState's types can't see a setup's actions from
  // inside the same setup (the inference would be circular), hence the casts; at run time the name
  // resolves to the action as provided, so the daemon's `announce` is the one that runs.
  const announce = (event: LifecycleEvent) => ({ type: 'announce', params: event }) as never;
  const failAttempt = (params: { job: Job; reason: string; at: string; failure: FailureEvidence | null }) => ({ type: 'failAttempt', params }) as never;
  const finishDone = (params: { job: Job; at: string }) => ({ type: 'finishDone', params }) as never;
  return setup({
    types: {
      context: {} as JobContext,
      events: {} as JobEvent,
      input: {} as JobInput,
      output: {} as Job,
      emitted: {} as { type: 'jobChanged'; job: Job } | { type: 'lifecycle'; event: LifecycleEvent },
    },
    actors: {
      // Provided by src/runner; this default reports that nothing was wired in.
      runner: fromCallback<RunnerCommand, RunnerInput>(() => {
        throw new Error('the job machine needs a runner actor: provide one with .provide()');
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
      // The daemon replaces these with a durable store write and a publication after it; alone,
      // the machine just emits them.
      recordJob: emit(({ context }) => ({ type: 'jobChanged' as const, job: context.job })),
      // A change of run state alone (progress, the encoder's pid): the daemon writes it with the
      // next batch and syncs it only with a change that needs the sync (a power cut may lose a
      // percent or a pid, whose encoder it ended anyway; never a transition).
      recordRunState: emit(({ context }) => ({ type: 'jobChanged' as const, job: context.job })),
      // Sends PERSISTED once the job's record is durable: an event, not an invoked promise, since
      // a short job would otherwise pay for an actor of its own at every start. Alone, the
      // machine takes its record as durable at once.
      awaitDurable: raise({ type: 'PERSISTED' }),
      announce: emit((_, event: LifecycleEvent) => ({ type: 'lifecycle' as const, event })),

      // Once no encoder can run, the supervisor's slot and what the job held are free: checking
      // the output (an ffprobe, a rename) or waiting for the watcher takes neither. Alone, with no
      // supervisor above it, the machine has no one to tell.
      encoderEnded: enqueueActions(({ context, self, enqueue }) => {
        if (self._parent) enqueue.sendParent({ type: 'ENCODER_ENDED', id: context.job.id });
      }),
      startAttempt: enqueueActions(({ context, enqueue }) => {
        const job = startAttempt(context.job);
        enqueue.assign({ job, elapsedBefore: context.job.elapsedSeconds });
        enqueue(announce({ kind: 'started', jobId: job.id, at: nowIso(), attempt: attemptInBudget(job), external: job.external }));
      }),
      encoderStarted: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'ENCODER_STARTED') return;
        const job = withEncoderStarted(context.job, event.pid, event.pidStartTicks, event.at);
        enqueue.assign({ job });
        enqueue(announce({ kind: 'encoder-started', jobId: job.id, at: event.at, attempt: attemptInBudget(job), pid: event.pid }));
      }),
      // The machine's most frequent event (a long encode's every stored tick): a plain assign
      // and an announce with its params, not an enqueueActions, which costs XState twice as much.
      progressed: assign(({ context, event }) => (event.type === 'PROGRESS' ? { job: withProgress(context.job, event, context.elapsedBefore) } : {})),
      outputReady: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'OUTPUT_READY') return;
        enqueue.assign({ job: withOutputReady(context.job, event.at) });
        enqueue(announce({ kind: 'output-ready', jobId: context.job.id, at: event.at, path: event.path }));
      }),
      markTermination: assign(({ context }, reason: TerminationReason) => ({ job: { ...context.job, terminationReason: reason } })),
      noteInterruptReason: assign(({ event }) => (event.type === 'SHUTDOWN' && event.reason !== undefined ? { interruptReason: event.reason } : {})),
      markTimedOut: enqueueActions(({ context, enqueue }, reason: 'timeout' | 'stall') => {
        const job = timedOut(context.job, reason, nowIso());
        enqueue.assign({ job });
        const attempt = attemptInBudget(job);
        const at = job.timedOutAt!;
        enqueue(announce(reason === 'stall' ? { kind: 'stalled', jobId: job.id, at, attempt, stallTimeoutSec: job.stallTimeoutSec } : { kind: 'timed-out', jobId: job.id, at, attempt, timeoutSec: job.timeoutSec }));
      }),
      terminate: sendTo('runner', ({ context }) => ({ type: 'TERMINATE' as const, reason: context.job.terminationReason ?? 'cancel' })),
      exitSucceeded: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'ENCODER_EXITED') return;
        const job = toFinalizing(withExit(context.job, context.elapsedBefore, event.outcome));
        enqueue.assign({ job });
        enqueue(announce({ kind: 'finalized', jobId: job.id, at: event.outcome.at }));
      }),
      /** A clean exit with no output to check: done at the exit, with no finalizing between. */
      exitDone: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'ENCODER_EXITED') return;
        enqueue(finishDone({ job: withExit(context.job, context.elapsedBefore, event.outcome), at: event.outcome.at }));
      }),
      exitCancelled: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'ENCODER_EXITED') return;
        const exited = withExit(context.job, context.elapsedBefore, event.outcome);
        enqueue(attemptEnded(exited, 'cancelled', 'cancelled', event.outcome.at));
        enqueue.assign({ job: toCancelled(exited, event.outcome.at) });
        enqueue(announce({ kind: 'cancelled', jobId: exited.id, at: event.outcome.at }));
      }),
      exitInterrupted: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'ENCODER_EXITED') return;
        const at = event.outcome.at;
        const exited = withExit(context.job, context.elapsedBefore, event.outcome);
        const reason = context.interruptReason ?? 'the daemon shut down';
        enqueue(attemptEnded(exited, 'interrupted', reason, at));
        enqueue.assign({ job: toInterrupted(exited, reason, at) });
        enqueue(announce({ kind: 'requeued', jobId: exited.id, at, reason: 'shutdown' }));
      }),
      exitFailed: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'ENCODER_EXITED') return;
        const exited = withExit(context.job, context.elapsedBefore, event.outcome);
        enqueue(failAttempt({ job: exited, reason: describeFailure(exited, event.outcome), at: event.outcome.at, failure: event.outcome.failure ?? null }));
      }),
      outputCheckFailed: enqueueActions(({ context, event, enqueue }) => {
        const error = 'error' in event ? (event as { error: unknown }).error : 'the output check failed';
        // The check may know better (a full disk truncated the file): it says so on the error.
        const known = (error as { failure?: FailureEvidence } | null)?.failure;
        enqueue(failAttempt({ job: context.job, reason: errorText(error), at: nowIso(), failure: known ?? { kind: 'output-check', evidence: errorText(error).slice(0, 300) } }));
      }),
      /** A failed attempt: a retry after the backoff while attempts are left and its kind is retried, else failed for good. */
      failAttempt: enqueueActions(({ context, enqueue }, { job, reason, at, failure }: { job: Job; reason: string; at: string; failure: FailureEvidence | null }) => {
        enqueue(attemptEnded(job, outcomeOf(job), reason, at, failure));
        // encsup cannot run an external job's encoder again: its job fails, or waits for a new file if it asked to.
        const retried = job.external ? job.waitForReplacement && canRetry(job) : retriesAfter(job, failure, context.retryRules);
        if (retried) {
          const retry = toRetry(job, reason, outcomeOf(job), at, failure);
          enqueue.assign({ job: retry });
          enqueue(announce({ kind: 'retry-scheduled', jobId: job.id, at, attempt: attemptInBudget(job) + 1, delayMs: retry.retryDelayMs ?? 0 }));
        } else {
          // A kind that a retry would only repeat ends the job now, attempts left or not.
          const final = job.external
            ? `${reason} (an external job is not retried: encsup cannot rerun an encoder it does not run; submit it with waitForReplacement to wait for a new file)`
            : failure && canRetry(job)
              ? `${reason} (not retried: ${failure.kind}, ${FAILURE_MEANING[failure.kind]})`
              : reason;
          enqueue.assign({ job: toFailed(job, final, outcomeOf(job), at, failure) });
          enqueue(announce({ kind: 'failed', jobId: job.id, at, reason: final, failureKind: failure?.kind ?? null }));
        }
      }),
      outputValid: enqueueActions(({ context, enqueue }) => enqueue(finishDone({ job: context.job, at: nowIso() }))),
      /** The attempt ended done: the job is done at 100 %. */
      finishDone: enqueueActions(({ enqueue }, { job, at }: { job: Job; at: string }) => {
        enqueue(attemptEnded(job, 'done', null, at));
        const done = toDone(job, at);
        enqueue.assign({ job: done });
        enqueue(announce({ kind: 'done', jobId: done.id, at, elapsedSeconds: done.elapsedSeconds }));
      }),
      /** Cancelled where no encoder runs: in line, waiting for an output, or before the spawn. */
      cancelWithoutEncoder: enqueueActions(({ context, event, enqueue }) => {
        const at = event.type === 'CANCEL' ? event.at : nowIso();
        if (context.job.attempts > 0 && context.job.status !== 'queued') enqueue(attemptEnded(context.job, 'cancelled', 'cancelled', at));
        enqueue.assign({ job: toCancelled(context.job, at) });
        enqueue(announce({ kind: 'cancelled', jobId: context.job.id, at }));
      }),
      /** Stopped before any encoder ran: back in line, to run at the next start. */
      interruptWithoutEncoder: enqueueActions(({ context, enqueue }) => {
        const at = nowIso();
        const external = context.job.external || context.job.status === 'finalizing';
        // An external wait or a finished encode spent no attempt that must run again.
        enqueue.assign({ job: external ? backInLine(context.job) : toInterrupted(context.job, context.interruptReason ?? 'the daemon shut down', at) });
        enqueue(announce({ kind: 'requeued', jobId: context.job.id, at, reason: 'shutdown' }));
      }),
      finalizeExternal: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'OUTPUT_READY') return;
        enqueue.assign({ job: toFinalizing(withOutputReady(context.job, event.at)) });
        enqueue(announce({ kind: 'output-ready', jobId: context.job.id, at: event.at, path: event.path }));
        enqueue(announce({ kind: 'finalized', jobId: context.job.id, at: event.at }));
      }),
    },
    guards: {
      // Provided by the daemon: true when a watcher covers the output, so finalizing waits for it.
      outputIsWatched: () => false,
      isExternal: ({ context }) => context.job.external,
      outputAlreadyReady: ({ context }) => context.job.outputReadyAt !== null,
      endedByCancel: ({ context }) => context.job.terminationReason === 'cancel',
      endedByShutdown: ({ context }) => context.job.terminationReason === 'shutdown',
      encoderSucceeded: ({ context, event }) => event.type === 'ENCODER_EXITED' && succeeded(event.outcome, context.job.terminationReason),
      namesNoOutput: ({ context }) => context.job.output === null,
    },
  }).createMachine({
    id: 'job',
    context: ({ input }) => ({ job: input.job, elapsedBefore: input.job.elapsedSeconds, progressThreshold: input.progressThreshold, retryRules: input.retryRules ?? DEFAULT_RETRY_RULES }),
    initial: 'queued',
    output: ({ context }) => context.job,
    states: {
      queued: {
        on: {
          START: [
            { guard: 'isExternal', target: 'awaitingExternalOutput', actions: 'startAttempt' },
            { target: 'running', actions: 'startAttempt' },
          ],
          CANCEL: { target: 'cancelled', actions: 'cancelWithoutEncoder' },
        },
      },
      running: {
        exit: 'encoderEnded',
        initial: 'persisting',
        states: {
          /** The attempt is stored before its encoder starts, so a crash can always find it. */
          persisting: {
            entry: ['recordJob', 'awaitDurable'],
            on: {
              PERSISTED: 'working',
              CANCEL: { target: '#job.cancelled', actions: 'cancelWithoutEncoder' },
              SHUTDOWN: { target: '#job.interrupted', actions: ['noteInterruptReason', 'interruptWithoutEncoder'] },
            },
          },
          working: {
            invoke: { id: 'runner', src: 'runner', input: ({ context }) => ({ job: context.job, progressThreshold: context.progressThreshold }) },
            initial: 'encoding',
            on: {
              ENCODER_STARTED: { actions: ['encoderStarted', 'recordRunState'] },
              PROGRESS: { actions: ['progressed', { type: 'announce', params: ({ context }) => progressAnnounced(context.job, nowIso()) }, 'recordRunState'] },
              OUTPUT_READY: { actions: ['outputReady', 'recordJob'] },
              ENCODER_EXITED: [
                { guard: 'endedByCancel', target: '#job.cancelled', actions: 'exitCancelled' },
                { guard: 'endedByShutdown', target: '#job.interrupted', actions: 'exitInterrupted' },
                { guard: and(['encoderSucceeded', 'outputIsWatched', not('outputAlreadyReady')]), target: '#job.waitingForOutput', actions: 'exitSucceeded' },
                // Finalizing checks an output; a job that names none (a script, a thumbnail batch that
                // reports nothing) has nothing to check, and is spared the state and its store write.
                { guard: and(['encoderSucceeded', 'namesNoOutput']), target: '#job.done', actions: 'exitDone' },
                { guard: 'encoderSucceeded', target: '#job.finalizing', actions: 'exitSucceeded' },
                { target: '#job.attemptFailed', actions: 'exitFailed' },
              ],
            },
            states: {
              encoding: {
                after: { encodeTimeout: { target: 'terminating', actions: { type: 'markTimedOut', params: 'timeout' } } },
                initial: 'active',
                states: {
                  active: {
                    after: { stallTimeout: { target: '#job.running.working.terminating', actions: { type: 'markTimedOut', params: 'stall' } } },
                    // Anything new from the encoder starts the stall clock again.
                    on: { ACTIVITY: { target: 'active', reenter: true } },
                  },
                },
                on: {
                  CANCEL: { target: 'terminating', actions: { type: 'markTermination', params: 'cancel' } },
                  SHUTDOWN: { target: 'terminating', actions: ['noteInterruptReason', { type: 'markTermination', params: 'shutdown' }] },
                },
              },
              terminating: {
                entry: ['recordJob', 'terminate'],
                // A cancel outranks a timeout: the user asked for it.
                on: { CANCEL: { actions: [{ type: 'markTermination', params: 'cancel' }, 'recordJob'] } },
              },
            },
          },
        },
      },
      awaitingExternalOutput: {
        entry: 'recordJob',
        on: {
          OUTPUT_READY: { target: 'finalizing', actions: 'finalizeExternal' },
          ...NO_ENCODER_TO_END,
        },
      },
      /** The encoder exited 0; the watcher has not yet seen its writer finish with the output. */
      waitingForOutput: {
        entry: 'recordJob',
        after: { outputWait: 'finalizing' },
        on: {
          OUTPUT_READY: { target: 'finalizing', actions: 'outputReady' },
          ...NO_ENCODER_TO_END,
        },
      },
      finalizing: {
        entry: 'recordJob',
        invoke: {
          src: 'outputCheck',
          input: ({ context }) => ({ job: context.job }),
          onDone: { target: 'done', actions: 'outputValid' },
          onError: { target: 'attemptFailed', actions: 'outputCheckFailed' },
        },
      },
      /** Decided by failAttempt: queued for a retry (the supervisor requeues it after the backoff) or failed. */
      attemptFailed: { always: [{ guard: ({ context }) => context.job.status === 'queued', target: 'retrying' }, { target: 'failed' }] },
      done: { type: 'final', entry: 'recordJob' },
      failed: { type: 'final', entry: 'recordJob' },
      cancelled: { type: 'final', entry: 'recordJob' },
      /** Failed with attempts left: the record says queued; the supervisor requeues it after the backoff. */
      retrying: { type: 'final', entry: 'recordJob' },
      /** Ended by a daemon shutdown: the record says queued, so the next start runs it again. */
      interrupted: { type: 'final', entry: 'recordJob' },
    },
  });

  function attemptEnded(job: Job, outcome: Parameters<typeof endAttempt>[1], reason: string | null, at: string, failure: FailureEvidence | null = null) {
    return announce({ kind: 'attempt-ended', jobId: job.id, at, attempt: attemptInBudget(job), outcome, reason, exitCode: job.exitCode, signal: job.signal, failureKind: failure?.kind ?? null, evidence: failure?.evidence ?? null });
  }
}

export type JobMachine = ReturnType<typeof createJobMachine>;
export type JobActor = ActorRefFrom<JobMachine>;

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function progressAnnounced(job: Job, at: string): LifecycleEvent {
  return { kind: 'progress', jobId: job.id, at, progress: progressFieldsOf(job), elapsedSeconds: job.elapsedSeconds };
}

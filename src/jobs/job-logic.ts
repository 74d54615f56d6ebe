// The job machine as the daemon runs it: its clock, the pty runner, the ffprobe output check, the
// store (persist waits for durability, recordJob writes), and announcements through the lifecycle
// feed. The graph itself stays in machines/; this is only what it is given.
import { fromPromise } from 'xstate';
import { type Clock, createJobMachine } from '../../machines/job-machine.js';
import type { Job } from '../../machines/job-record.js';
import type { LifecycleEvent } from '../../machines/lifecycle.js';
import type { LifecycleFeed } from '../lifecycle/lifecycle-feed.js';
import type { createRunnerActor } from '../runner/runner-actor.js';
import type { JobLedger } from '../store/job-ledger.js';

export interface JobLogicDeps {
  clock: Clock;
  runner: ReturnType<typeof createRunnerActor>;
  checkOutput: (job: Job) => Promise<void>;
  ledger: JobLedger;
  feed: LifecycleFeed;
  /** True when a watcher covers the job's output, so finalizing waits for it to be reported. */
  isWatchedOutput: (job: Job) => boolean;
  /** How long finalizing waits for the watcher before checking the output anyway. */
  outputWaitMs: number;
}

export function createJobLogic(deps: JobLogicDeps) {
  return createJobMachine(deps.clock).provide({
    actors: {
      runner: deps.runner,
      outputCheck: fromPromise(({ input }) => deps.checkOutput(input.job)),
      persist: fromPromise(({ input }) => deps.ledger.whenDurable(input.job.id)),
    },
    actions: {
      recordJob: ({ context }) => void deps.ledger.record(context.job),
      // The context already holds the change the event tells of.
      announce: ({ context }, event: LifecycleEvent) => deps.feed.announce(event, context.job),
    },
    guards: { outputIsWatched: ({ context }) => deps.isWatchedOutput(context.job) },
    delays: { outputWait: deps.outputWaitMs },
  });
}

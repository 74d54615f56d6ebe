// The job machine as the daemon runs it: its clock, the pty runner, the ffprobe output check, the
// store (recordJob writes; awaitDurable tells the machine once what it wrote is durable), and
// announcements through the lifecycle feed. The graph itself stays in machines/; this is only
// what it is given.
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
    },
    actions: {
      recordJob: ({ context }) => void deps.ledger.record(context.job),
      recordRunState: ({ context }) => void deps.ledger.recordRunState(context.job),
      // A machine that has moved on by then (cancelled meanwhile) ignores the event; a stopped
      // one is not sent it.
      awaitDurable: ({ context, self }) => {
        void deps.ledger.whenDurable(context.job.id).then(() => {
          if (self.getSnapshot().status === 'active') self.send({ type: 'PERSISTED' });
        });
      },
      // The context already holds the change the event tells of.
      announce: ({ context }, event: LifecycleEvent) => deps.feed.announce(event, context.job),
    },
    guards: { outputIsWatched: ({ context }) => deps.isWatchedOutput(context.job) },
    delays: { outputWait: deps.outputWaitMs },
  });
}

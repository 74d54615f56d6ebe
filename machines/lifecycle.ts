// What happens in a job's life, as the machines know it: one tagged union, the stable JSON shape
// that the log, the metrics, the transition log and the event stream consume (and that other hosts
// and webhooks will). Every event names its job and its time; nothing else is rebuilt by diffing
// records. Add a kind here and the type checker asks every consumer for its handling.
import type { FailureKind } from './failure-kinds.js';
import type { AttemptOutcome, JobStatus, ProgressFields } from './job-record.js';

interface Base {
  jobId: string;
  /** ISO 8601, from the event that caused it or the machines' injected clock. */
  at: string;
}

export type LifecycleEvent = Base &
  (
    | { kind: 'submitted'; name: string; priority: number }
    | { kind: 'started'; attempt: number; external: boolean }
    /** The attempt's encoder is running: its process id, for `ps`, `top` and the kernel's log. */
    | { kind: 'encoder-started'; attempt: number; pid: number }
    | { kind: 'progress'; progress: ProgressFields; elapsedSeconds: number }
    | { kind: 'stalled'; attempt: number; stallTimeoutSec: number }
    | { kind: 'timed-out'; attempt: number; timeoutSec: number }
    | { kind: 'attempt-ended'; attempt: number; outcome: AttemptOutcome; reason: string | null; exitCode: number | null; signal: string | null; failureKind: FailureKind | null; evidence: string | null }
    | { kind: 'retry-scheduled'; attempt: number; delayMs: number }
    | { kind: 'output-ready'; path: string }
    | { kind: 'finalized' }
    | { kind: 'done'; elapsedSeconds: number }
    | { kind: 'failed'; reason: string; failureKind: FailureKind | null }
    | { kind: 'cancelled' }
    | { kind: 'requeued'; reason: RequeueReason }
    | { kind: 'reprioritized'; priority: number }
  );

export type LifecycleKind = LifecycleEvent['kind'];
export type LifecycleEventOf<K extends LifecycleKind> = Extract<LifecycleEvent, { kind: K }>;

/** Why a job went back in line. */
export type RequeueReason = 'shutdown' | 'recovery' | 'backoff-over' | 'manual-retry';

export const LIFECYCLE_KINDS = [
  'submitted',
  'started',
  'encoder-started',
  'progress',
  'stalled',
  'timed-out',
  'attempt-ended',
  'retry-scheduled',
  'output-ready',
  'finalized',
  'done',
  'failed',
  'cancelled',
  'requeued',
  'reprioritized',
] as const satisfies readonly LifecycleKind[];

/** The status a kind moves the job to; null for kinds that leave the status alone. */
export const STATUS_AFTER: { [K in LifecycleKind]: JobStatus | null } = {
  submitted: 'queued',
  started: 'encoding',
  'encoder-started': null,
  progress: null,
  stalled: null,
  'timed-out': null,
  'attempt-ended': null,
  'retry-scheduled': 'queued',
  'output-ready': null,
  finalized: 'finalizing',
  done: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
  requeued: 'queued',
  reprioritized: null,
};

// How a job's record changes at each step of its machine: pure functions from record to record, so
// the graph in job-machine.ts reads as a graph. Time always comes in as a parameter.
import type { FailureEvidence, FailureKind, RetryRule } from './failure-kinds.js';
import type { Attempt, AttemptOutcome, Job, ProgressFields, TerminationReason } from './job-record.js';

/** How an encoder run ended: a value, never an exception. */
export interface EncoderOutcome {
  exitCode: number | null;
  signal: string | null;
  logTail: string[];
  /** Wall time of this run, in seconds. */
  runSeconds: number;
  at: string;
  /** A failed run that wrote its output in place left this much of it there. */
  partialOutput?: { path: string; bytes: number } | null;
  /** A failed run: what kind of failure its evidence shows. */
  failure?: FailureEvidence | null;
  /** Why the encoder never started (the spawn failed: no such program, no descriptors left). */
  startError?: string | null;
}

/**
 * An attempt succeeded: its encoder exited 0 on its own. One the daemon ended (a timeout, a stall,
 * a cancel) has not, even where the program answers SIGTERM by exiting 0 (a script's handler, a
 * wrapper that cleans up): what it wrote was cut short.
 */
export function succeeded(exit: Pick<EncoderOutcome, 'exitCode' | 'signal'>, terminationReason: TerminationReason | null): boolean {
  return exit.exitCode === 0 && exit.signal === null && terminationReason === null;
}

/** The sentence a failed job carries: which timeout, which signal, which exit code. */
export function describeFailure(job: Job, outcome: EncoderOutcome): string {
  const program = job.command[0] ?? 'encoder';
  const left = outcome.partialOutput ? `; it left a partial output at ${outcome.partialOutput.path} (${outcome.partialOutput.bytes} bytes)` : '';
  if (job.terminationReason === 'stall') {
    return `stalled: ${program} printed nothing new and made no progress for ${job.stallTimeoutSec} s (stallTimeoutSec), so it was ended${left}`;
  }
  if (job.terminationReason === 'timeout') {
    return `timed out: ${program} ran longer than ${job.timeoutSec} s (timeoutSec), so it was ended${left}`;
  }
  if (outcome.startError) return `${program} did not start: ${outcome.startError}`;
  if (outcome.signal) return `${program} was killed by ${outcome.signal}${left}`;
  return `${program} exited with code ${outcome.exitCode ?? 'unknown'}${left}`;
}

export function startAttempt(job: Job): Job {
  return {
    ...job,
    // Progress is per attempt: a retry starts from nothing, whatever the last one reached.
    ...progressReset(job),
    status: 'encoding',
    attempts: job.attempts + 1,
    exitCode: null,
    signal: null,
    error: null,
    failureKind: null,
    failureEvidence: null,
    terminationReason: null,
    timedOutAt: null,
    finishedAt: null,
    outputReadyAt: null,
    retryDelayMs: null,
  };
}

/** The encoder's exit, folded in: elapsed encoding time adds up over attempts. */
export function withExit(job: Job, elapsedBefore: number, outcome: EncoderOutcome): Job {
  return {
    ...job,
    pid: null,
    pidStartTicks: null,
    exitCode: outcome.exitCode,
    signal: outcome.signal,
    logTail: outcome.logTail,
    elapsedSeconds: elapsedBefore + outcome.runSeconds,
    runSeconds: outcome.runSeconds,
  };
}

/** Closes the current attempt in the job's history. */
export function endAttempt(job: Job, outcome: AttemptOutcome, reason: string | null, at: string, failure: FailureEvidence | null = null): Job {
  const attempt: Attempt = {
    attempt: job.attempts,
    startedAt: job.startedAt,
    endedAt: at,
    exitCode: job.exitCode,
    signal: job.signal,
    outcome,
    reason,
    failureKind: failure?.kind ?? null,
    evidence: failure?.evidence ?? null,
  };
  return { ...job, history: [...job.history, attempt], ...(failure ? { failureKind: failure.kind, failureEvidence: failure.evidence } : {}) };
}

export function finish(job: Job, patch: Partial<Job>, at: string): Job {
  return { ...job, ...patch, pid: null, pidStartTicks: null, finishedAt: at };
}

export function timedOut(job: Job, reason: TerminationReason, at: string): Job {
  return { ...job, terminationReason: reason, timedOutAt: at };
}

/** Attempts left in the current budget (a manual retry starts a new budget). */
export function canRetry(job: Job): boolean {
  return attemptInBudget(job) < job.maxAttempts;
}

const MAX_BACKOFF_MS = 10 * 60 * 1000;

/**
 * Exponential backoff with jitter: base × 2^(n-1), capped at 10 minutes, times 0.8-1.2. The jitter
 * comes from the job id and attempt number, so the machine stays deterministic while jobs that
 * failed together don't all retry in the same instant.
 */
export function retryDelayMs(job: Pick<Job, 'id' | 'attempts' | 'retryBackoffSec'>): number {
  const exponential = Math.min(MAX_BACKOFF_MS, job.retryBackoffSec * 1000 * 2 ** Math.max(0, job.attempts - 1));
  let hash = 2166136261;
  for (const char of `${job.id}:${job.attempts}`) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619);
  const jitter = 0.8 + ((hash >>> 0) % 4001) / 10000;
  return Math.round(exponential * jitter);
}

/** A failed attempt with attempts left: back in line after the backoff, the failure kept. */
export function toRetry(job: Job, reason: string, outcome: AttemptOutcome, at: string, failure: FailureEvidence | null = null): Job {
  const ended = endAttempt({ ...job, error: reason }, outcome, reason, at, failure);
  return { ...ended, status: 'queued', pid: null, pidStartTicks: null, retryDelayMs: retryDelayMs(ended) };
}

export function toFailed(job: Job, reason: string, outcome: AttemptOutcome, at: string, failure: FailureEvidence | null = null): Job {
  return finish(endAttempt({ ...job, error: reason }, outcome, reason, at, failure), { status: 'failed', error: reason }, at);
}

/** Whether a failed attempt of this kind is tried again, by the job's rules. */
export function retriesAfter(job: Job, failure: FailureEvidence | null, rules: Readonly<Record<FailureKind, RetryRule>>): boolean {
  return canRetry(job) && (failure === null || rules[failure.kind] !== 'never');
}

export function outcomeOf(job: Job): AttemptOutcome {
  return job.terminationReason === 'stall' ? 'stalled' : job.terminationReason === 'timeout' ? 'timeout' : 'failed';
}

/** The encoder process is up: its pid (and start time, to tell it from a reused pid) are kept. */
export function withEncoderStarted(job: Job, pid: number, pidStartTicks: number | null, at: string): Job {
  return { ...job, pid, pidStartTicks, startedAt: at };
}

export interface ProgressReport {
  progress: ProgressFields;
  /** Seconds this run has lasted so far. */
  runSeconds: number;
  /** The input's length, when the output should last as long (no trim). */
  expectedDurationSeconds?: number | null;
  /** Seconds of media the run encodes, as its plan works out. */
  mediaSeconds?: number | null;
  passStartSeconds?: number[] | null;
}

export function withProgress(job: Job, report: ProgressReport, elapsedBefore: number): Job {
  return {
    ...job,
    ...report.progress,
    expectedDurationSeconds: job.expectedDurationSeconds ?? report.expectedDurationSeconds ?? null,
    mediaSeconds: report.mediaSeconds ?? job.mediaSeconds,
    passStartSeconds: report.passStartSeconds ?? null,
    elapsedSeconds: elapsedBefore + report.runSeconds,
    progressUpdates: job.progressUpdates + 1,
  };
}

export function withOutputReady(job: Job, at: string): Job {
  return { ...job, outputReadyAt: at };
}

/** The encoder exited 0 (or an external output arrived): the output check comes next. */
export function toFinalizing(job: Job): Job {
  return { ...job, status: 'finalizing' };
}

export function toDone(job: Job, at: string): Job {
  return finish(endAttempt(job, 'done', null, at), { status: 'done', progress: 100, etaSeconds: 0 }, at);
}

/** Cancelled: an attempt under way (encoding or finalizing) is closed as cancelled. */
export function toCancelled(job: Job, at: string): Job {
  const attemptOpen = job.attempts > 0 && job.status !== 'queued';
  const ended = attemptOpen ? endAttempt(job, 'cancelled', 'cancelled', at) : job;
  return finish(ended, { status: 'cancelled', terminationReason: 'cancel' }, at);
}

/**
 * Interrupted by the daemon (a shutdown, a crash): back in line, its progress reset. The run is in
 * its history, but it spends no attempt of the encoder's budget: interruptions have their own.
 */
export function toInterrupted(job: Job, reason: string, at: string): Job {
  const ended = endAttempt({ ...job, pid: null, pidStartTicks: null, terminationReason: null }, 'interrupted', reason, at, { kind: 'interrupted', evidence: reason });
  return { ...ended, ...progressReset(job), status: 'queued', retryDelayMs: null };
}

/** A new start: nothing of the last run's progress shows (a declared total stays). */
function progressReset(job: Job): Partial<Job> {
  return { progress: 0, basis: null, pass: null, passes: null, frame: null, totalFrames: job.totalFrames, fps: null, bitrate: null, speed: null, etaSeconds: null };
}

/**
 * Interruptions a job may take before it fails for good: a job that takes the daemon down with it
 * (a memory hog the kernel kills along with the daemon) must end, without a crash loop of the
 * daemon failing the front of the line for everyone.
 */
export const INTERRUPTION_BUDGET = 20;

/** Runs of the current budget that the daemon's stop or crash cut short. */
export function interruptionsInBudget(job: Job): number {
  return job.history.filter((attempt) => attempt.outcome === 'interrupted' && attempt.attempt > job.attemptsBeforeManualRetry).length;
}

/** Waiting for an output that no encoder here writes: back in line, no attempt spent. */
export function backInLine(job: Job): Job {
  return { ...job, status: 'queued', retryDelayMs: null };
}

/** A failed or cancelled job queued again by hand: a fresh start, with as many attempts again. */
export function requeueByHand(job: Job): Job {
  return {
    ...job,
    ...progressReset(job),
    status: 'queued',
    exitCode: null,
    signal: null,
    error: null,
    failureKind: null,
    failureEvidence: null,
    terminationReason: null,
    timedOutAt: null,
    retryDelayMs: null,
    attemptsBeforeManualRetry: job.attempts,
    finishedAt: null,
  };
}

/** The encoder's attempts within the current budget (a manual retry starts a new one); runs the daemon interrupted don't count. */
export function attemptInBudget(job: Job): number {
  return job.attempts - job.attemptsBeforeManualRetry - interruptionsInBudget(job);
}

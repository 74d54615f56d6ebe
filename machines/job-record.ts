// The job record: the one shape a job has in the machines, the store and the API.
import type { FailureKind } from './failure-kinds.js';

export const JOB_STATUSES = ['queued', 'encoding', 'finalizing', 'done', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const FINISHED_STATUSES: readonly JobStatus[] = ['done', 'failed', 'cancelled'];

export function isFinished(status: JobStatus): boolean {
  return FINISHED_STATUSES.includes(status);
}

/** How a job's output is read for progress; `auto` recognises the format from the output. */
export const PARSER_NAMES = [
  'auto',
  'ffmpeg',
  'ffmpeg-progress',
  'handbrake',
  'x264',
  'x265',
  'svtav1',
  'rav1e',
  'aomenc',
  'av1an',
  'blender',
  'tqdm',
  'steps',
  'percent',
  'pattern',
] as const;
export type ParserName = (typeof PARSER_NAMES)[number];

/** How a job's encoder is run: a terminal (pty), plain pipes, or auto (a pty for known encoders). */
export const JOB_TERMINALS = ['auto', 'pty', 'pipes'] as const;
export type JobTerminal = (typeof JOB_TERMINALS)[number];

/** Why encsup itself ended an encoder; null when the encoder ended on its own. */
export type TerminationReason = 'cancel' | 'shutdown' | 'timeout' | 'stall';

export type AttemptOutcome = 'done' | 'failed' | 'timeout' | 'stalled' | 'cancelled' | 'interrupted';

/** One run of a job, kept in its history. */
export interface Attempt {
  attempt: number;
  startedAt: string | null;
  endedAt: string;
  exitCode: number | null;
  signal: string | null;
  outcome: AttemptOutcome;
  reason: string | null;
  /** A failed attempt's kind (from its evidence) and the line that shows it. */
  failureKind: FailureKind | null;
  evidence: string | null;
}

/**
 * What the percent is measured on: the encoder's own percent, frames over the output's frames,
 * output time over the output's length, or a script's counters (steps).
 */
export const PROGRESS_BASES = ['percent', 'frames', 'time', 'steps'] as const;
export type ProgressBasis = (typeof PROGRESS_BASES)[number];

/** The progress fields that the runner's pipeline reports; all optional because encoders differ. */
export interface ProgressFields {
  /** 0-100 of the whole job, every pass included; null while nothing can tell the total. */
  progress: number | null;
  /** What `progress` was last measured on; null while it is unknown. */
  basis: ProgressBasis | null;
  /** The encoder pass under way (1-based) and how many the job makes; null when it makes one. */
  pass: number | null;
  passes: number | null;
  frame: number | null;
  totalFrames: number | null;
  fps: number | null;
  bitrate: number | null;
  speed: number | null;
  etaSeconds: number | null;
}

export interface Job extends ProgressFields {
  id: string;
  name: string;
  command: string[];
  cwd: string;
  env: Record<string, string>;
  shell: boolean;
  parser: ParserName;
  /** A regular expression with named groups current/total or percent, for the job's own output. */
  pattern: string | null;
  /** pty: a terminal, so encoders print live progress; pipes: none (cheaper to start); auto: see terminal-choice.ts. */
  terminal: JobTerminal;
  /** Higher runs first; submissions may say high (10), normal (0) or low (-10). */
  priority: number;
  status: JobStatus;
  /** Encoding time only, summed over every attempt. */
  elapsedSeconds: number;
  output: string | null;
  /** The encode runs elsewhere; the job is done when the watcher reports its output complete. */
  external: boolean;
  /** An external job whose output fails its check waits for a new file instead of failing. */
  waitForReplacement: boolean;
  /** Check the output with ffprobe in finalizing (false for outputs that aren't media). */
  validate: boolean;
  /** Seconds the output should last, where known: the job's own, or the input's when not trimmed. */
  expectedDurationSeconds: number | null;
  /** Where to POST this job's lifecycle events, and which; null: the daemon's default, if any. */
  webhook: { url: string; events: string[] } | null;
  /** The submitter's idempotency key: a second submission with it returns this job, not a new one. */
  clientId: string | null;
  /** Which jobs this one is like, for learning how long it takes (program, codec, preset, size). */
  kind: string;
  /** Encoder passes the submission declared; null: read them from the command. */
  declaredPasses: number | null;
  /** Seconds of media the last run encodes (its plan's output length), where known. */
  mediaSeconds: number | null;
  /** Seconds into the last run at which each pass after the first began; null for one pass. */
  passStartSeconds: number[] | null;
  /** How long the last run's encoder ran, in seconds; null before one has ended. */
  runSeconds: number | null;
  /** What it takes while it runs (cpu=1 unless it says); it starts only when all of it is free. */
  needs: Record<string, number>;
  /** The GPUs this attempt was given (their indices), while it runs and after; null: none. */
  gpus: number[] | null;
  /** Where it may run, in a farm: a host's name or one of the hosts' labels; null: any host. */
  on: string | null;
  /** The host that runs it, or ran it last (the farm's name of the daemon); null: none yet. */
  host: string | null;
  /** When the watcher reported the output complete (null: not yet, or not watched). */
  outputReadyAt: string | null;
  /** Encoder runs started so far; an interrupted run counts. */
  attempts: number;
  /** Attempts allowed before the job fails for good (each manual retry allows as many again). */
  maxAttempts: number;
  /** `attempts` when the current budget began (0, or the count at the last manual retry). */
  attemptsBeforeManualRetry: number;
  /** Backoff before the first automatic retry; doubles for each one after. */
  retryBackoffSec: number;
  /** Delay before the pending automatic retry starts; null when none is pending. */
  retryDelayMs: number | null;
  /** The whole encode may take this long (0: no limit). */
  timeoutSec: number;
  /** No new output and no progress for this long means stalled (0: never). */
  stallTimeoutSec: number;
  /** When a timeout fired (terminationReason says which). */
  timedOutAt: string | null;
  history: Attempt[];
  exitCode: number | null;
  signal: string | null;
  error: string | null;
  /** The last failed attempt's kind and evidence line (null once an attempt succeeds or starts). */
  failureKind: FailureKind | null;
  failureEvidence: string | null;
  terminationReason: TerminationReason | null;
  /** The last lines the encoder printed (ANSI removed), newest last: stored when its run ends. */
  logTail: string[];
  /** The encoder's process (and process group) id while it runs. */
  pid: number | null;
  /** The encoder's start time in clock ticks since boot (/proc/PID/stat), to tell it from a reused pid. */
  pidStartTicks: number | null;
  /** Progress updates the throttle let through (each one a store write of the record). */
  progressUpdates: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
}

export const LOG_TAIL_LINES = 50;

export const NO_PROGRESS: ProgressFields = {
  progress: 0,
  basis: null,
  pass: null,
  passes: null,
  frame: null,
  totalFrames: null,
  fps: null,
  bitrate: null,
  speed: null,
  etaSeconds: null,
};

/** The progress fields of a job record. */
export function progressFieldsOf(job: Job): ProgressFields {
  const { progress, basis, pass, passes, frame, totalFrames, fps, bitrate, speed, etaSeconds } = job;
  return { progress, basis, pass, passes, frame, totalFrames, fps, bitrate, speed, etaSeconds };
}

// What a stored job record must be before the daemon acts on it: every field of the Job type, of
// the right type. A store file edited by hand, written by a newer version or damaged on disk can
// hold records that parse as JSON and still are not jobs ({"id": "x", "status": "queued"}); one
// of those must not stop the daemon (a crash loop under Restart=always) nor run anything.
import { z } from 'zod';
import { FAILURE_KINDS } from '../../machines/failure-kinds.js';
import { JOB_STATUSES, JOB_TERMINALS, type Job, PARSER_NAMES, PROGRESS_BASES } from '../../machines/job-record.js';

const count = z.number().int().min(0);
const seconds = z.number().min(0);
const iso = z.string().refine((text) => !Number.isNaN(Date.parse(text)), 'expected an ISO time');
const nullable = <T extends z.ZodType>(schema: T) => schema.nullable();

const attemptSchema = z.object({
  attempt: count,
  startedAt: nullable(iso),
  endedAt: iso,
  exitCode: nullable(z.number()),
  signal: nullable(z.string()),
  outcome: z.enum(['done', 'failed', 'timeout', 'stalled', 'cancelled', 'interrupted']),
  reason: nullable(z.string()),
  failureKind: nullable(z.enum(FAILURE_KINDS)),
  evidence: nullable(z.string()),
});

/** The record's fields; the API's documented job shape is built on it (src/api/response-schemas.ts). */
export const jobRecordObject = z.object({
  id: z.string().min(1).max(200),
  name: z.string(),
  command: z.array(z.string()),
  cwd: z.string(),
  env: z.record(z.string(), z.string()),
  shell: z.boolean(),
  parser: z.enum(PARSER_NAMES),
  pattern: nullable(z.string()),
  // Added with pipes: records written before have none, and ran under a pty as auto still does.
  terminal: z.enum(JOB_TERMINALS).default('auto'),
  priority: z.number().int(),
  status: z.enum(JOB_STATUSES),
  clientId: nullable(z.string()),
  webhook: nullable(z.object({ url: z.string(), events: z.array(z.string()) })),
  kind: z.string(),
  declaredPasses: nullable(count),
  mediaSeconds: nullable(seconds),
  passStartSeconds: nullable(z.array(seconds)),
  runSeconds: nullable(seconds),
  needs: z.record(z.string(), count),
  gpus: nullable(z.array(count)),
  // Added with hosts: records written before them have neither.
  on: nullable(z.string()).default(null),
  host: nullable(z.string()).default(null),
  progress: nullable(z.number().min(0).max(100)),
  basis: nullable(z.enum(PROGRESS_BASES)),
  pass: nullable(count),
  passes: nullable(count),
  frame: nullable(z.number()),
  totalFrames: nullable(z.number()),
  fps: nullable(z.number()),
  bitrate: nullable(z.number()),
  speed: nullable(z.number()),
  etaSeconds: nullable(z.number()),
  elapsedSeconds: seconds,
  output: nullable(z.string()),
  external: z.boolean(),
  waitForReplacement: z.boolean(),
  validate: z.boolean(),
  expectedDurationSeconds: nullable(seconds),
  outputReadyAt: nullable(iso),
  attempts: count,
  maxAttempts: count,
  attemptsBeforeManualRetry: count,
  retryBackoffSec: seconds,
  retryDelayMs: nullable(seconds),
  timeoutSec: seconds,
  stallTimeoutSec: seconds,
  timedOutAt: nullable(iso),
  history: z.array(attemptSchema),
  exitCode: nullable(z.number()),
  signal: nullable(z.string()),
  error: nullable(z.string()),
  failureKind: nullable(z.enum(FAILURE_KINDS)),
  failureEvidence: nullable(z.string()),
  terminationReason: nullable(z.enum(['cancel', 'shutdown', 'timeout', 'stall'])),
  logTail: z.array(z.string()),
  pid: nullable(z.number().int().positive()),
  pidStartTicks: nullable(z.number()),
  progressUpdates: count,
  createdAt: iso,
  startedAt: nullable(iso),
  finishedAt: nullable(iso),
  updatedAt: iso,
});

export const jobRecordSchema: z.ZodType<Job> = jobRecordObject;

/** The record as a Job, or what is wrong with it (the first field that is). */
export function checkRecord(record: unknown): { ok: true; job: Job } | { ok: false; reason: string } {
  const parsed = jobRecordSchema.safeParse(record);
  if (parsed.success) return { ok: true, job: parsed.data };
  const issue = parsed.error.issues[0]!;
  return { ok: false, reason: `${issue.path.join('.') || 'the record'}: ${issue.message}` };
}

// What a client may submit, validated once at the edge; a bad field is named in the error.
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { type Job, NO_PROGRESS, PARSER_NAMES } from '../../machines/job-record.js';
import { compilePattern } from '../progress/parsers/pattern.js';
import { type ValidationProblem, firstProblem } from '../validation-problem.js';

export const PRIORITY_NAMES = { high: 10, normal: 0, low: -10 } as const;

export const prioritySchema = z.union(
  [z.number().int('expected a whole number'), z.enum(['high', 'normal', 'low']).transform((name) => PRIORITY_NAMES[name])],
  { error: 'expected a whole number or one of high, normal, low' },
);

export const submissionSchema = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  command: z.array(z.string(), { error: 'expected an array of strings (argv)' }).min(1, 'expected at least the program to run').optional(),
  cwd: z.string().min(1).optional(),
  env: z.record(z.string(), z.string(), { error: 'expected an object of string values' }).optional(),
  shell: z.boolean().optional(),
  priority: prioritySchema.optional(),
  output: z.string().min(1).optional(),
  totalFrames: z.number().int('expected a whole number').positive('expected a number of frames above 0').optional(),
  external: z.boolean().optional(),
  validate: z.boolean().optional(),
  expectedDurationSeconds: z.number().positive('expected a number of seconds above 0').optional(),
  timeoutSec: z.number().min(0, 'expected seconds, 0 for no limit').optional(),
  stallTimeoutSec: z.number().min(0, 'expected seconds, 0 for never').optional(),
  maxAttempts: z.number().int('expected a whole number').min(1, 'expected at least 1').optional(),
  parser: z.enum(PARSER_NAMES, { error: `expected one of ${PARSER_NAMES.join(', ')}` }).optional(),
  pattern: z
    .string()
    .min(1)
    .superRefine((source, context) => {
      try {
        compilePattern(source);
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
      }
    })
    .optional(),
});

export type Submission = z.output<typeof submissionSchema>;

/** Reads a submission body; a problem names the first field that is wrong. */
export function parseSubmission(body: unknown): { ok: true; submission: Submission } | { ok: false; problem: ValidationProblem } {
  const parsed = submissionSchema.safeParse(body);
  if (parsed.success) {
    const { command, external, output } = parsed.data;
    if (external && !output) {
      return { ok: false, problem: { field: 'output', message: 'output: an external job needs the path of the output it waits for' } };
    }
    if (!external && command === undefined) {
      return { ok: false, problem: { field: 'command', message: 'command: Required: the program to run and its arguments' } };
    }
    if (parsed.data.parser === 'pattern' && !parsed.data.pattern) {
      return { ok: false, problem: { field: 'pattern', message: 'pattern: parser "pattern" needs a pattern' } };
    }
    if (command !== undefined && command[0]!.trim() === '') {
      return { ok: false, problem: { field: 'command', message: 'command: the program to run is empty' } };
    }
    return { ok: true, submission: parsed.data };
  }
  return { ok: false, problem: firstProblem(parsed.error) };
}

/** What a job gets when its submission doesn't say: the daemon's configuration. */
export interface JobDefaults {
  timeoutSec: number;
  stallTimeoutSec: number;
  maxAttempts: number;
  retryBackoffSec: number;
}

export const BUILT_IN_JOB_DEFAULTS: JobDefaults = { timeoutSec: 7200, stallTimeoutSec: 300, maxAttempts: 3, retryBackoffSec: 5 };

export function newJobRecord(submission: Submission, id: string, nowIso: string, defaultCwd: string, defaults: JobDefaults = BUILT_IN_JOB_DEFAULTS): Job {
  const cwd = resolve(defaultCwd, submission.cwd ?? '.');
  const output = submission.output === undefined ? null : isAbsolute(submission.output) ? submission.output : resolve(cwd, submission.output);
  return {
    ...NO_PROGRESS,
    id,
    name: submission.name ?? (submission.command ?? ['external', submission.output ?? '']).join(' ').slice(0, 80),
    command: submission.command ?? [],
    cwd,
    env: submission.env ?? {},
    shell: submission.shell ?? false,
    parser: submission.parser ?? (submission.pattern ? 'pattern' : 'auto'),
    pattern: submission.pattern ?? null,
    priority: submission.priority ?? 0,
    status: 'queued',
    totalFrames: submission.totalFrames ?? null,
    elapsedSeconds: 0,
    output,
    external: submission.external ?? false,
    validate: submission.validate ?? true,
    expectedDurationSeconds: submission.expectedDurationSeconds ?? null,
    outputReadyAt: null,
    attempts: 0,
    maxAttempts: submission.maxAttempts ?? defaults.maxAttempts,
    attemptsBeforeRetry: 0,
    retryBackoffSec: defaults.retryBackoffSec,
    retryDelayMs: null,
    timeoutSec: submission.timeoutSec ?? defaults.timeoutSec,
    stallTimeoutSec: submission.stallTimeoutSec ?? defaults.stallTimeoutSec,
    timedOutAt: null,
    history: [],
    exitCode: null,
    signal: null,
    error: null,
    terminationReason: null,
    logTail: [],
    pid: null,
    pidStartTicks: null,
    progressWrites: 0,
    createdAt: nowIso,
    startedAt: null,
    finishedAt: null,
    updatedAt: nowIso,
  };
}

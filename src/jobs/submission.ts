// What a client may submit, validated once at the edge; a bad field is named in the error.
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { JOB_TERMINALS, type Job, NO_PROGRESS, PARSER_NAMES } from '../../machines/job-record.js';
import { LIFECYCLE_KINDS } from '../../machines/lifecycle.js';
import { DEFAULT_NEEDS } from '../../machines/resources.js';
import { resourcesSchema } from '../resources/resource-spec.js';
import { MAX_TIMER_SEC } from '../config.js';
import { jobKind } from '../forecast/job-kind.js';
import { HOST_NAME_PATTERN } from '../farm/host-name.js';
import { compilePattern } from '../progress/parsers/pattern.js';
import { type ValidationProblem, firstProblem } from '../validation-problem.js';

export const PRIORITY_NAMES = { high: 10, normal: 0, low: -10 } as const;
const PRIORITY_RANGE = 1_000_000;

export const prioritySchema = z.union(
  [
    z.number().int('expected a whole number').min(-PRIORITY_RANGE, `expected at least -${PRIORITY_RANGE}`).max(PRIORITY_RANGE, `expected at most ${PRIORITY_RANGE}`),
    z.enum(['high', 'normal', 'low']).transform((name) => PRIORITY_NAMES[name]),
  ],
  { error: `expected a whole number from -${PRIORITY_RANGE} to ${PRIORITY_RANGE}, or one of high, normal, low` },
);

/** What one job may carry: enough for any real encode, small enough that no client can fill the store. */
export const SUBMISSION_LIMITS = {
  commandArgs: 1024,
  argChars: 64 * 1024,
  commandChars: 128 * 1024,
  envEntries: 256,
  envNameChars: 256,
  envValueChars: 32 * 1024,
  envChars: 128 * 1024,
  pathChars: 4096,
  patternChars: 1024,
} as const;
const L = SUBMISSION_LIMITS;

// A NUL byte can't pass through exec or a path: refused here rather than failing at spawn.
const text = (max: number, what: string) =>
  z.string().max(max, `${what} is longer than ${max} characters`).refine((value) => !value.includes('\0'), `${what} holds a NUL byte`);
const path = (what: string) => text(L.pathChars, what).pipe(z.string().min(1, `${what} is empty`));
const seconds = (floor: string) => z.number().min(0, floor).max(MAX_TIMER_SEC, `expected at most ${MAX_TIMER_SEC} seconds (about 24 days)`);
const totalLength = (values: string[]) => values.reduce((sum, value) => sum + value.length, 0);

const shellLineSchema = text(L.commandChars, 'the shell line');
const commandArraySchema = z
  .array(text(L.argChars, 'an argument'), { error: 'expected an array of strings (argv), or one string with shell: true' })
  .min(1, 'expected at least the program to run')
  .max(L.commandArgs, `expected at most ${L.commandArgs} arguments`)
  .refine((args) => totalLength(args) <= L.commandChars, `the arguments are longer than ${L.commandChars} characters together`);

/** The events a webhook gets unless it names others. */
export const DEFAULT_WEBHOOK_EVENTS = ['done', 'failed', 'cancelled'] as const;

export const webhookUrlSchema = z
  .string()
  .max(2048, 'expected a URL of at most 2048 characters')
  .refine((text) => {
    try {
      return ['http:', 'https:'].includes(new URL(text).protocol);
    } catch {
      return false;
    }
  }, 'expected an http or https URL');

/** An idempotency key: what a client chose to name one submission, so its retries are one job. */
export const idempotencyKeySchema = z
  .string()
  .min(1, 'expected a key of 1 to 200 characters')
  .max(200, 'expected a key of at most 200 characters')
  .regex(/^[\x21-\x7e]+$/, 'expected printable ASCII with no spaces (a UUID, say)');

export const submissionSchema = z.strictObject({
  name: z.string().trim().min(1).max(200, 'expected at most 200 characters').optional(),
  // With shell: true, one string (the shell line); else the program and its arguments, unquoted.
  command: z.union([shellLineSchema, commandArraySchema], { error: 'expected an array of strings (argv), or one string with shell: true' }).optional(),
  cwd: path('cwd').optional(),
  env: z
    .record(z.string(), text(L.envValueChars, 'a value'), { error: 'expected an object of string values' })
    .refine((env) => Object.keys(env).length <= L.envEntries, `expected at most ${L.envEntries} variables`)
    .superRefine((env, context) => {
      const bad = Object.keys(env).find((name) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || name.length > L.envNameChars);
      if (bad !== undefined) context.addIssue({ code: 'custom', message: `${JSON.stringify(bad.slice(0, 40))} is not an environment variable name: letters, digits and _, not starting with a digit, at most ${L.envNameChars}` });
    })
    .refine((env) => totalLength(Object.entries(env).flat()) <= L.envChars, `the variables are longer than ${L.envChars} characters together`)
    .optional(),
  shell: z.boolean().optional(),
  priority: prioritySchema.optional(),
  output: path('output').optional(),
  totalFrames: z.number().int('expected a whole number').positive('expected a number of frames above 0').max(1e10, 'expected at most 1e10 frames').optional(),
  passes: z.number().int('expected a whole number').min(1, 'expected at least 1 pass').max(10, 'expected at most 10 passes').optional(),
  clientId: idempotencyKeySchema.optional(),
  webhook: z
    .union([webhookUrlSchema, z.strictObject({ url: webhookUrlSchema, events: z.array(z.enum(LIFECYCLE_KINDS, { error: `expected lifecycle kinds: ${LIFECYCLE_KINDS.join(', ')}` })).min(1).optional() })], {
      error: 'expected a URL, or {url, events}',
    })
    .transform((hook) => (typeof hook === 'string' ? { url: hook, events: [...DEFAULT_WEBHOOK_EVENTS] } : { url: hook.url, events: hook.events ?? [...DEFAULT_WEBHOOK_EVENTS] }))
    .optional(),
  needs: resourcesSchema('needs').optional(),
  /** In a farm: run only on this host, or on the hosts with this label. */
  on: z.string().regex(HOST_NAME_PATTERN, 'expected a host name or label: letters, digits, and . _ - (at most 63)').optional(),
  external: z.boolean().optional(),
  /** An external job: wait for a new file when its output fails the check, instead of failing. */
  waitForReplacement: z.boolean().optional(),
  /** false: accept inputs that do not exist yet (another job makes them). */
  checkInputs: z.boolean().optional(),
  validate: z.boolean().optional(),
  expectedDurationSeconds: z.number().positive('expected a number of seconds above 0').max(1e9, 'expected at most 1e9 seconds').optional(),
  timeoutSec: seconds('expected seconds, 0 for no limit').optional(),
  stallTimeoutSec: seconds('expected seconds, 0 for never').optional(),
  maxAttempts: z.number().int('expected a whole number').min(1, 'expected at least 1').max(100, 'expected at most 100').optional(),
  parser: z.enum(PARSER_NAMES, { error: `expected one of ${PARSER_NAMES.join(', ')}` }).optional(),
  terminal: z.enum(JOB_TERMINALS, { error: `expected one of ${JOB_TERMINALS.join(', ')}` }).optional(),
  pattern: z
    .string()
    .min(1)
    .max(L.patternChars, `expected at most ${L.patternChars} characters`)
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
  // The command is checked on its own first, so the error names its real problem rather than
  // "matches neither a string nor an array".
  const command = body !== null && typeof body === 'object' ? (body as { command?: unknown }).command : undefined;
  if (typeof command === 'string' || Array.isArray(command)) {
    const checked = (typeof command === 'string' ? shellLineSchema : commandArraySchema).safeParse(command);
    if (!checked.success) return { ok: false, problem: { field: 'command', message: `command: ${checked.error.issues[0]?.message ?? 'invalid'}` } };
  }
  const parsed = submissionSchema.safeParse(body);
  if (parsed.success) {
    const { command, external, output, shell } = parsed.data;
    if (shell && Array.isArray(command)) {
      return { ok: false, problem: { field: 'command', message: 'command: with shell: true, command is one string, the shell line (quote its words yourself)' } };
    }
    if (!shell && typeof command === 'string') {
      return { ok: false, problem: { field: 'command', message: 'command: expected an array of strings (argv); one string is a shell line and needs shell: true' } };
    }
    if (external && !output) {
      return { ok: false, problem: { field: 'output', message: 'output: an external job needs the path of the output it waits for' } };
    }
    if (!external && command === undefined) {
      return { ok: false, problem: { field: 'command', message: 'command: Required: the program to run and its arguments' } };
    }
    const placeholder = [command ?? []].flat().some((arg) => arg.includes('{output}'));
    if (placeholder && !output) {
      return { ok: false, problem: { field: 'output', message: 'output: the command writes to {output}, so the job needs the path its output should end up at' } };
    }
    if (parsed.data.parser === 'pattern' && !parsed.data.pattern) {
      return { ok: false, problem: { field: 'pattern', message: 'pattern: parser "pattern" needs a pattern' } };
    }
    if (command !== undefined && (typeof command === 'string' ? command : command[0]!).trim() === '') {
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
  const command = typeof submission.command === 'string' ? [submission.command] : (submission.command ?? []);
  const shell = submission.shell ?? false;
  // Every field written out, NO_PROGRESS's too: a literal that starts with a spread is built a
  // property at a time past the first ten, through V8's slow path (0.25 ms a submission, against
  // 6 µs written out like this).
  return {
    progress: NO_PROGRESS.progress,
    basis: null,
    pass: null,
    passes: null,
    frame: null,
    fps: null,
    bitrate: null,
    speed: null,
    etaSeconds: null,
    id,
    name: submission.name ?? [submission.command ?? ['external', submission.output ?? '']].flat().join(' ').slice(0, 80),
    command,
    cwd,
    env: submission.env ?? {},
    shell,
    kind: submission.external ? 'external' : jobKind(command, shell),
    declaredPasses: submission.passes ?? null,
    clientId: submission.clientId ?? null,
    webhook: submission.webhook ?? null,
    mediaSeconds: null,
    passStartSeconds: null,
    runSeconds: null,
    needs: { ...DEFAULT_NEEDS, ...submission.needs },
    gpus: null,
    on: submission.on ?? null,
    host: null,
    parser: submission.parser ?? (submission.pattern ? 'pattern' : 'auto'),
    pattern: submission.pattern ?? null,
    terminal: submission.terminal ?? 'auto',
    priority: submission.priority ?? 0,
    status: 'queued',
    totalFrames: submission.totalFrames ?? null,
    elapsedSeconds: 0,
    output,
    external: submission.external ?? false,
    waitForReplacement: submission.waitForReplacement ?? false,
    validate: submission.validate ?? true,
    expectedDurationSeconds: submission.expectedDurationSeconds ?? null,
    outputReadyAt: null,
    attempts: 0,
    maxAttempts: submission.maxAttempts ?? defaults.maxAttempts,
    attemptsBeforeManualRetry: 0,
    retryBackoffSec: defaults.retryBackoffSec,
    retryDelayMs: null,
    timeoutSec: submission.timeoutSec ?? defaults.timeoutSec,
    stallTimeoutSec: submission.stallTimeoutSec ?? defaults.stallTimeoutSec,
    timedOutAt: null,
    history: [],
    exitCode: null,
    signal: null,
    error: null,
    failureKind: null,
    failureEvidence: null,
    terminationReason: null,
    logTail: [],
    pid: null,
    pidStartTicks: null,
    progressUpdates: 0,
    createdAt: nowIso,
    startedAt: null,
    finishedAt: null,
    updatedAt: nowIso,
  };
}

// Every operation of the HTTP API in one table: method, path, what it reads and what it answers,
// each as the zod schema that checks it. The server routes requests from this table and the
// OpenAPI document (GET /api/openapi.json) is made from it, so the two cannot drift: an operation
// the server serves is an operation the document describes, with the schemas the server checks.
import { z } from 'zod';
import { JOB_STATUSES } from '../../machines/job-record.js';
import { LIFECYCLE_KINDS } from '../../machines/lifecycle.js';
import { LIST_ORDERS, decodeCursor } from '../jobs/job-listing.js';
import { cleanSchema, outputReportSchema, priorityPatchSchema, retryFailedSchema, settingsPatchSchema } from '../jobs/job-requests.js';
import { submissionSchema } from '../jobs/submission.js';
import {
  cleanResultSchema,
  completedOutputSchema,
  deliverySchema,
  forecastReportSchema,
  healthSchema,
  hostSchema,
  jobPageSchema,
  jobSchema,
  jobViewSchema,
  loggedOutSchema,
  machineSchema,
  retryFailedResultSchema,
  settingsSchema,
  transitionsSchema,
} from './response-schemas.js';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PATCH';

/** What an operation answers when it goes well: JSON of a schema, or text of a kind. */
export type Answer =
  | { status: 200 | 201 | 202; description: string; json: z.ZodType }
  | { status: 200; description: string; text: 'text/plain' | 'text/event-stream' | 'prometheus' };

export interface Operation {
  method: HttpMethod;
  /** As OpenAPI writes it: `/api/jobs/{id}`. */
  path: string;
  summary: string;
  description?: string;
  query?: z.ZodObject;
  body?: z.ZodType;
  answer: Answer;
  /** Who may call it: everyone who passes the guard with the token (the default); monitors with nothing at all; anyone the guard lets through. */
  access?: 'token' | 'monitor' | 'guarded';
  deprecated?: true;
}

export const MAX_PAGE = 1000;

const wholeNumber = (what: string, min: number, max: number) =>
  z.coerce.number({ error: `expected ${what}` }).int(`expected ${what}`).min(min, `expected ${what}`).max(max, `expected ${what}`);
const isoTime = (example: string) => z.string().refine((text) => !Number.isNaN(Date.parse(text)), `expected an ISO 8601 time, e.g. ${example}`);

export const listJobsQuery = z.object({
  status: z.enum(JOB_STATUSES, { error: `expected one of ${JOB_STATUSES.join(', ')}` }).optional().describe('only jobs in this status'),
  q: z.string().max(200, 'expected at most 200 characters').optional().describe('text in the name, command or output, or the start of the id'),
  since: isoTime('2026-11-26T08:00:00Z').optional().describe('only jobs submitted at or after this time'),
  order: z.enum(LIST_ORDERS, { error: `expected one of ${LIST_ORDERS.join(', ')}` }).default('view').describe('view: running, then waiting in start order, then finished newest first; newest or oldest: by submission'),
  limit: wholeNumber(`a whole number from 1 to ${MAX_PAGE}`, 1, MAX_PAGE).default(100).describe('jobs in one page'),
  cursor: z
    .string()
    .refine((cursor) => decodeCursor(cursor) !== null, 'not a cursor this daemon gave (use the `next` of the previous page)')
    .optional()
    .describe('the `next` of the previous page'),
});

export const MAX_TAIL_LINES = 10_000;
export const logQuery = z.object({
  tail: wholeNumber(`a whole number of lines from 1 to ${MAX_TAIL_LINES}`, 1, MAX_TAIL_LINES).optional().describe('only the last N lines'),
  offset: wholeNumber('a byte offset, 0 or more', 0, Number.MAX_SAFE_INTEGER).optional().describe('only what follows this byte offset (the `x-log-size` of the previous answer)'),
  download: z.string().optional().describe('present: sent as an attachment, the whole log'),
});

/** The kinds of frame the event stream sends. */
export const EVENT_FRAMES = ['lifecycle', 'job', 'live', 'output'] as const;
export type EventFrame = (typeof EVENT_FRAMES)[number];

/** Some of `names`, separated by commas, as a set; the first name that is not one of them is named in the error. */
const someOf = <T extends string>(names: readonly T[], what: string) =>
  z
    .string()
    .max(1000, 'expected at most 1000 characters')
    .transform((text, context) => {
      const chosen = text.split(',').map((name) => name.trim());
      const unknown = chosen.find((name) => !(names as readonly string[]).includes(name));
      if (unknown === undefined) return new Set(chosen as T[]);
      context.addIssue({ code: 'custom', message: `${JSON.stringify(unknown)} is not ${what}: expected some of ${names.join(', ')}, separated by commas` });
      return z.NEVER;
    });

// A client that waits for ends asks for them alone: frames no client wants are not even made.
export const eventsQuery = z.object({
  job: z.string().max(200).optional().describe('only this job\'s events'),
  events: someOf(EVENT_FRAMES, 'an event type').optional().describe(`only these events, e.g. lifecycle,job (default: all of ${EVENT_FRAMES.join(', ')})`),
  kinds: someOf(LIFECYCLE_KINDS, 'a lifecycle kind').optional().describe('lifecycle events of these kinds only, e.g. done,failed,cancelled'),
  status: someOf(JOB_STATUSES, 'a job status').optional().describe('job events of jobs in these statuses only, e.g. done,failed,cancelled'),
});
export type EventsQuery = z.output<typeof eventsQuery>;

const job = (description: string): Answer => ({ status: 200, description, json: jobSchema });

export const OPERATIONS = {
  submitJob: {
    method: 'POST',
    path: '/api/jobs',
    summary: 'Submit a job',
    description: 'An `Idempotency-Key` header (or the body\'s `clientId`) makes a submission that is sent again answer with the job it made the first time (200, `idempotent-replayed: true`).',
    body: submissionSchema,
    answer: { status: 201, description: 'the new job', json: jobSchema },
  },
  listJobs: {
    method: 'GET',
    path: '/api/jobs',
    summary: 'A page of jobs, with counts per status',
    query: listJobsQuery,
    answer: { status: 200, description: 'one page of jobs in a stable order', json: jobPageSchema },
  },
  getJob: { method: 'GET', path: '/api/jobs/{id}', summary: 'One job (its id or a unique prefix of 4 or more characters)', answer: { status: 200, description: 'the job as it is now', json: jobViewSchema } },
  setPriority: { method: 'PATCH', path: '/api/jobs/{id}', summary: 'Change a waiting job\'s priority', body: priorityPatchSchema, answer: job('the job') },
  cancelJob: { method: 'POST', path: '/api/jobs/{id}/cancel', summary: 'Cancel a job (its encoder is ended first)', answer: job('the job, cancelled') },
  retryJob: { method: 'POST', path: '/api/jobs/{id}/retry', summary: 'Queue a failed or cancelled job again', answer: job('the job, queued') },
  jobLog: {
    method: 'GET',
    path: '/api/jobs/{id}/log',
    summary: 'A job\'s output: whole, its tail, or what follows an offset',
    description: 'The answer\'s `x-log-size` header is the log\'s size in bytes: the offset to follow it from.',
    query: logQuery,
    answer: { status: 200, description: 'the log text', text: 'text/plain' },
  },
  jobDeliveries: { method: 'GET', path: '/api/jobs/{id}/deliveries', summary: 'A job\'s webhook deliveries and how each went', answer: { status: 200, description: 'deliveries, oldest first', json: z.array(deliverySchema) } },
  jobTransitions: { method: 'GET', path: '/api/jobs/{id}/transitions', summary: 'The statuses a job went through', answer: { status: 200, description: 'its status and transitions', json: transitionsSchema } },
  cleanJobs: { method: 'POST', path: '/api/jobs/clean', summary: 'Remove finished jobs older than an age', body: cleanSchema, answer: { status: 200, description: 'how many were removed', json: cleanResultSchema } },
  retryFailedJobs: { method: 'POST', path: '/api/jobs/retry-failed', summary: 'Queue every failed job again (filtered)', body: retryFailedSchema, answer: { status: 200, description: 'the ids queued again', json: retryFailedResultSchema } },
  forecast: { method: 'GET', path: '/api/forecast', summary: 'What each kind of job takes, and when waiting jobs should start and end', answer: { status: 200, description: 'the forecast', json: forecastReportSchema } },
  reportOutput: {
    method: 'POST',
    path: '/api/outputs',
    summary: 'Report a finished output file',
    body: outputReportSchema,
    answer: { status: 202, description: 'the file, checked complete, and whose it is', json: completedOutputSchema },
  },
  listOutputs: { method: 'GET', path: '/api/outputs', summary: 'The outputs found lately', answer: { status: 200, description: 'the latest 200', json: z.array(completedOutputSchema) } },
  pauseQueue: { method: 'POST', path: '/api/queue/pause', summary: 'Pause: running jobs go on, nothing new starts', answer: { status: 200, description: 'the settings', json: settingsSchema } },
  resumeQueue: { method: 'POST', path: '/api/queue/resume', summary: 'Resume starting jobs', answer: { status: 200, description: 'the settings', json: settingsSchema } },
  getSettings: { method: 'GET', path: '/api/settings', summary: 'The settings that can change at runtime', answer: { status: 200, description: 'the settings', json: settingsSchema } },
  updateSettings: { method: 'PATCH', path: '/api/settings', summary: 'Change runtime settings', body: settingsPatchSchema, answer: { status: 200, description: 'the settings', json: settingsSchema } },
  getConfig: { method: 'GET', path: '/api/config', summary: 'The old name of GET /api/settings', deprecated: true, answer: { status: 200, description: 'the settings', json: settingsSchema } },
  updateConfig: { method: 'PATCH', path: '/api/config', summary: 'The old name of PATCH /api/settings', deprecated: true, body: settingsPatchSchema, answer: { status: 200, description: 'the settings', json: settingsSchema } },
  listHosts: { method: 'GET', path: '/api/hosts', summary: 'The hosts of the farm (none on one box)', answer: { status: 200, description: 'every host that ever joined, by name', json: z.array(hostSchema) } },
  drainHost: { method: 'POST', path: '/api/hosts/{name}/drain', summary: 'Drain a host of the farm: it starts no new job; running ones finish', answer: { status: 200, description: 'the host', json: hostSchema } },
  resumeHost: { method: 'POST', path: '/api/hosts/{name}/resume', summary: 'Let a drained host take jobs again', answer: { status: 200, description: 'the host', json: hostSchema } },
  machine: { method: 'GET', path: '/api/machine', summary: 'The job graph and where the dashboard draws it', answer: { status: 200, description: 'statuses, transitions, layout', json: machineSchema } },
  events: {
    method: 'GET',
    path: '/api/events',
    summary: 'Server-Sent Events: lifecycle, job, live and output events',
    query: eventsQuery,
    answer: { status: 200, description: 'an event stream that stays open', text: 'text/event-stream' },
  },
  metrics: { method: 'GET', path: '/metrics', summary: 'Prometheus metrics', answer: { status: 200, description: 'the text exposition format', text: 'prometheus' } },
  metricsHead: { method: 'HEAD', path: '/metrics', summary: 'Is /metrics there (for monitors)', answer: { status: 200, description: 'headers only', text: 'prometheus' } },
  health: { method: 'GET', path: '/healthz', summary: 'Is the daemon well (503 when its store cannot be written)', access: 'monitor', answer: { status: 200, description: 'healthy', json: healthSchema } },
  logout: { method: 'POST', path: '/api/logout', summary: 'End the dashboard\'s login (clears its cookie)', access: 'guarded', answer: { status: 200, description: 'logged out', json: loggedOutSchema } },
  openApi: { method: 'GET', path: '/api/openapi.json', summary: 'This document', answer: { status: 200, description: 'the OpenAPI 3.1 document', json: z.looseObject({ openapi: z.string() }) } },
} as const satisfies Record<string, Operation>;

export type OperationId = keyof typeof OPERATIONS;

/** The names in a path template, in order: `/api/jobs/{id}/log` → [id]. */
export function pathParameters(path: string): string[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!);
}

/** The pattern a request path must match for the operation; each parameter one captured segment. */
export function pathPattern(path: string): RegExp {
  const escaped = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\w+\}/g, '([^/]+)');
  return new RegExp(`^${escaped}$`);
}

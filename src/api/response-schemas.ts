// What the API answers, as zod schemas: the OpenAPI document's response shapes are made from
// these, and the tests check real answers against that document. The job itself is the store's
// record schema, so a field added to jobs appears here without a second list to keep.
import { z } from 'zod';
import { JOB_STATUSES } from '../../machines/job-record.js';
import { LIFECYCLE_KINDS } from '../../machines/lifecycle.js';
import { jobRecordObject } from '../store/record-schema.js';

const status = z.enum(JOB_STATUSES);
const isoTime = z.string().describe('an ISO 8601 time');

export const forecastSchema = z.object({
  expectedRunSeconds: z.number().nullable().describe('how long the run should take, from finished jobs of its kind'),
  startsAt: isoTime.nullable(),
  finishesAt: isoTime.nullable(),
});

/** A job as submit, cancel, retry and PATCH answer it: environment values shown as `***`. */
export const jobSchema = jobRecordObject;

/** A job as GET answers it: its live progress, with when it should start and end. */
export const jobViewSchema = jobRecordObject.extend({
  forecast: forecastSchema.nullable(),
  waitingFor: z.string().nullable().describe('a waiting job: why it has not started (the resources it waits for, a full cap, a pause)'),
});

export const jobPageSchema = z.object({
  jobs: z.array(jobViewSchema),
  next: z.string().nullable().describe('pass as `cursor` for the next page; null on the last one'),
  matched: z.number().int().describe('jobs matching the filter, all pages together'),
  counts: z.record(status, z.number().int()).describe('every job in the store by status, whatever the filter'),
});

export const settingsSchema = z.object({ maxConcurrent: z.number().int(), progressThreshold: z.number(), paused: z.boolean(), resources: z.record(z.string(), z.number().int()).describe('what the box has; a resource not named is unlimited') });

export const transitionsSchema = z.object({
  status,
  transitions: z.array(z.object({ from: status.nullable(), to: status, at: isoTime })),
});

export const deliverySchema = z.object({
  id: z.string(),
  jobId: z.string(),
  url: z.string(),
  kind: z.enum(LIFECYCLE_KINDS),
  body: z.string().nullable().describe('the JSON sent: {id, event, job}; null once delivered (not kept)'),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  nextAtMs: z.number(),
  lastError: z.string().nullable(),
  deliveredAt: isoTime.nullable(),
  createdAt: isoTime,
});

export const forecastReportSchema = z.object({
  kinds: z.array(
    z.object({
      kind: z.string(),
      runs: z.number().int(),
      secondsPerMediaSecond: z.number().nullable(),
      runSeconds: z.number().nullable(),
      firstPassShare: z.number().nullable(),
    }),
  ),
  jobs: z.record(z.string(), forecastSchema.nullable()).describe('by job id: each waiting or running job'),
});

const outputAt = { path: z.string(), at: isoTime };
export const completedOutputSchema = z.union([
  z.object({ kind: z.literal('job-output'), jobId: z.string(), ...outputAt }),
  z.object({ kind: z.literal('output-replaced'), jobId: z.string(), ...outputAt }),
  z.object({ kind: z.literal('unmatched'), ...outputAt }),
]);

const point = z.object({ x: z.number(), y: z.number() });
const box = { x: z.number(), y: z.number(), width: z.number(), height: z.number() };
export const machineSchema = z.object({
  statuses: z.array(status),
  finished: z.array(status),
  transitions: z.array(z.object({ from: status, to: status, events: z.array(z.string()) })),
  layout: z.object({
    width: z.number(),
    height: z.number(),
    states: z.array(z.object({ status, ...box })),
    edges: z.array(z.object({ from: status, to: status, label: z.array(z.string()), labelBox: z.object(box), points: z.array(point) })),
  }),
});

export const cleanResultSchema = z.object({ removed: z.number().int() });
export const retryFailedResultSchema = z.object({ retried: z.array(z.string()) });
export const loggedOutSchema = z.object({ loggedOut: z.literal(true) });
export const healthSchema = z.looseObject({ ok: z.boolean() });
export const errorSchema = z.object({
  error: z.string().describe('what is wrong, in words'),
  field: z.string().optional().describe('the request field it is about'),
});

export const hostSchema = z.object({
  name: z.string(),
  state: z.enum(['up', 'late', 'lost', 'stopped']).describe('from the age of its heartbeat: late past a third of a lease, lost past a whole one'),
  labels: z.array(z.string()),
  apiUrl: z.string().nullable(),
  maxConcurrent: z.number().int(),
  capacity: z.record(z.string(), z.number()),
  running: z.number().int().describe('encoders running there at its last heartbeat'),
  draining: z.boolean().describe('drained: it starts no new job; running ones finish'),
  startedAt: isoTime,
  heartbeatAt: isoTime,
  heartbeatAgeSec: z.number(),
  stoppedAt: isoTime.nullable(),
  jobs: z.array(z.string()).describe('the ids of the jobs it holds now'),
});

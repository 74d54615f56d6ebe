// What a client can ask of the daemon: submit, cancel, retry, reprioritize, change settings, report
// an output. Every change is durable before it is answered; waiting jobs are the supervisor's, so
// changes to them go through it as events. Knows nothing of HTTP: the API maps RequestError kinds
// to status codes.
import { idempotencyKeySchema } from './submission.js';
import { finishedBefore, parseAge } from './retention.js';
import { matches } from './job-listing.js';
import { existsSync, statSync } from 'node:fs';
import { type OutputOwner, ownerOfOutput } from '../watch/output-router.js';
import { MAX_PATH_LENGTH, type ReportCheckOptions, ReportRefused, confirmReportedOutput } from '../watch/reported-output.js';
import type { Actor } from 'xstate';
import { type Job, isFinished } from '../../machines/job-record.js';
import { requeueByHand } from '../../machines/job-updates.js';
import type { supervisorMachine } from '../../machines/supervisor-machine.js';
import { maxConcurrentSchema, progressThresholdSchema } from '../config.js';
import type { JobLedger } from '../store/job-ledger.js';
import { z } from 'zod';
import { firstProblem } from '../validation-problem.js';
import { type JobDefaults, newJobRecord, parseSubmission, prioritySchema } from './submission.js';
import { resourcesSchema } from '../resources/resource-spec.js';
import { checkRunnable } from './submit-checks.js';
import { unmetNeeds } from '../../machines/resources.js';

export type RequestErrorKind = 'invalid' | 'not-found' | 'conflict' | 'unavailable';

export class RequestError extends Error {
  constructor(
    readonly kind: RequestErrorKind,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export interface RuntimeSettings {
  maxConcurrent: number;
  progressThreshold: number;
  /** Paused: running jobs go on, nothing new starts (until resumed, or the daemon restarts). */
  paused: boolean;
  /** What the box has (`gpu`, `nvenc`, `cpu`, …); a resource not named is unlimited. */
  resources: Record<string, number>;
}

export const settingsPatchSchema = z.strictObject({
  maxConcurrent: maxConcurrentSchema.optional(),
  progressThreshold: progressThresholdSchema.optional(),
  paused: z.boolean({ error: 'expected true or false' }).optional(),
  /** The box's whole capacity from now on (what is not named is unlimited); running jobs keep what they hold. */
  resources: resourcesSchema('resources').optional(),
});

export type CompletedOutput = OutputOwner & { path: string; at: string };

export const outputReportSchema = z.strictObject({
  path: z.string().min(1).max(MAX_PATH_LENGTH, `expected at most ${MAX_PATH_LENGTH} characters`),
});

const RECENT_OUTPUT_EVENTS = 200;
// Reports being checked for stability at once; more get 503 rather than each holding a timer.
const MAX_PENDING_REPORTS = 64;

export const priorityPatchSchema = z.strictObject({ priority: prioritySchema });

function parseBody<T extends z.ZodType>(schema: T, body: unknown, unknownFieldNote?: string): z.output<T> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const problem = firstProblem(parsed.error, unknownFieldNote);
  throw new RequestError('invalid', problem.message, problem.field);
}

/**
 * Where waiting jobs are kept, and so how changes to them are made: the supervisor's line on one
 * box (supervisorQueueing), or the farm's table in PostgreSQL (src/farm/farm-queueing.ts).
 */
export interface JobQueueing {
  /** The job as it is stored at submission (a farm pins an external job to the host it waits on). */
  prepare(job: Job): Job;
  /** A new job, durable as queued, joins the line. */
  submitted(job: Job): void;
  /** A failed or cancelled job, durable as queued again. */
  retried(job: Job): void;
  /** Asks for the job's end; the caller waits for it to be finished. */
  cancel(job: Job): Promise<void>;
  /** Moves a waiting job to its new place; resolves once that is durable (or refused). */
  reprioritize(job: Job, priority: number): Promise<void>;
  /** What no host (or this box) could ever give the job, described; null when it can run. */
  unmetNeeds(job: Job): Promise<string | null>;
}

/** The line of one box: the supervisor holds every waiting job, and makes each change to one. */
export function supervisorQueueing(supervisor: Actor<typeof supervisorMachine>, ledger: JobLedger, nowIso: () => string): JobQueueing {
  return {
    prepare: (job) => job,
    submitted: (job) => supervisor.send({ type: 'SUBMIT', job, at: job.updatedAt }),
    retried: (job) => supervisor.send({ type: 'RETRY', job, at: job.updatedAt }),
    cancel: async (job) => void supervisor.send({ type: 'CANCEL', id: job.id, at: nowIso() }),
    reprioritize: async (job, priority) => {
      supervisor.send({ type: 'REPRIORITIZE', id: job.id, priority, at: nowIso() });
      await ledger.whenDurable(job.id);
    },
    unmetNeeds: async (job) => {
      const { capacity, gpuDevices } = supervisor.getSnapshot().context;
      return unmetNeeds(job.needs, capacity, gpuDevices.length);
    },
  };
}

export interface JobRequestsDeps {
  ledger: JobLedger;
  supervisor: Actor<typeof supervisorMachine>;
  queueing: JobQueueing;
  newId: () => string;
  nowIso: () => string;
  defaultCwd: string;
  /** How long cancel waits for the encoder to be gone before answering. */
  cancelWaitMs: number;
  jobDefaults: JobDefaults;
  /** Where reported outputs may lie, and how still they must be. */
  reports: ReportCheckOptions;
  /** Deletes a job's log file (gone already is fine). */
  removeLog: (jobId: string) => Promise<void>;
  /** Removes the webhook deliveries of jobs removed for good (those still to be made stay). */
  removeDeliveries: (jobIds: readonly string[]) => Promise<void>;
  nowMs: () => number;
  /** The PATH encoders start with: a program not on it is refused at submit. */
  searchPath: string;
  /** Whether a watched or report folder covers an external job's output. */
  coversOutput: (path: string) => boolean;
  /** Samples the free space of the folder this job writes to (the supervisor hears if it is short). */
  checkDisk: (job: Job) => Promise<void>;
  /** The GPU indices to hand out under a new capacity: the cards found, else 0 … gpu-1. */
  gpuDevicesFor: (capacity: Record<string, number>) => number[];
}

export const cleanSchema = z.strictObject({
  olderThan: z.union([z.string(), z.number()], { error: 'expected an age such as 30d, 12h or seconds' }).transform((value, context) => {
    const seconds = typeof value === 'number' ? value : parseAge(value);
    if (seconds === null || !(seconds >= 0)) {
      context.addIssue({ code: 'custom', message: 'expected an age such as 30d, 12h, 90m or a number of seconds' });
      return z.NEVER;
    }
    return seconds;
  }),
  status: z.array(z.enum(['done', 'failed', 'cancelled'], { error: 'expected done, failed or cancelled' })).min(1).optional(),
});

export const retryFailedSchema = z.strictObject({
  q: z.string().max(200).optional(),
  since: z.string().refine((text) => !Number.isNaN(Date.parse(text)), 'expected an ISO 8601 time').optional(),
});

// Shorter prefixes would match by accident as the store grows.
const MIN_ID_PREFIX = 4;

export class JobRequests {
  readonly #outputEvents: CompletedOutput[] = [];
  readonly #outputListeners = new Set<(event: CompletedOutput) => void>();
  readonly #pendingReports = new Map<string, Promise<CompletedOutput>>();
  /** Idempotency key → job id; filled from the stored jobs at the first keyed submission. */
  #clientIds: Map<string, string> | null = null;
  readonly #submitting = new Map<string, Promise<Job>>();
  constructor(private readonly deps: JobRequestsDeps) {}

  get accepting(): boolean {
    return this.deps.supervisor.getSnapshot().matches('accepting');
  }

  /**
   * A new job, or, for an idempotency key already used (the `Idempotency-Key` header or the
   * `clientId` field), the job that key made: a client that retries after a timeout, whether or not
   * its first try got through, gets one job. `replayed` says which.
   */
  async submit(body: unknown): Promise<Job> {
    return (await this.submitOnce(body, null)).job;
  }

  async submitOnce(body: unknown, idempotencyKey: string | null): Promise<{ job: Job; replayed: boolean }> {
    this.#requireAccepting();
    const withKey = withIdempotencyKey(body, idempotencyKey);
    const key = withKey.clientId;
    if (key !== undefined) {
      const known = await this.#byClientId(key);
      if (known) return { job: known, replayed: true };
      const inFlight = this.#submitting.get(key);
      if (inFlight) return { job: await inFlight, replayed: true };
    }
    const submitting = this.#submitNew(withKey.body);
    if (key === undefined) return { job: await submitting, replayed: false };
    this.#submitting.set(key, submitting);
    try {
      const job = await submitting;
      this.#keys().set(key, job.id);
      return { job, replayed: false };
    } finally {
      this.#submitting.delete(key);
    }
  }

  async #byClientId(key: string): Promise<Job | undefined> {
    const id = this.#keys().get(key);
    return id === undefined ? undefined : this.deps.ledger.read(id);
  }

  /** Built once from the stored jobs; kept up to date by submit from then on. */
  #keys(): Map<string, string> {
    if (this.#clientIds === null) {
      this.#clientIds = new Map();
      for (const job of this.deps.ledger.list()) if (job.clientId !== null) this.#clientIds.set(job.clientId, job.id);
    }
    return this.#clientIds;
  }

  async #submitNew(body: unknown): Promise<Job> {
    const parsed = parseSubmission(body);
    if (!parsed.ok) throw new RequestError('invalid', parsed.problem.message, parsed.problem.field);
    const job = this.deps.queueing.prepare(newJobRecord(parsed.submission, this.deps.newId(), this.deps.nowIso(), this.deps.defaultCwd, this.deps.jobDefaults));
    if (!existsSync(job.cwd) || !statSync(job.cwd).isDirectory()) {
      throw new RequestError('invalid', `cwd: ${job.cwd} is not a folder on the daemon's machine`, 'cwd');
    }
    const unrunnable = checkRunnable(job, { path: this.deps.searchPath, coversOutput: this.deps.coversOutput, checkInputs: parsed.submission.checkInputs !== false });
    if (unrunnable) throw new RequestError('invalid', unrunnable.message, unrunnable.field);
    const unmet = await this.deps.queueing.unmetNeeds(job);
    if (unmet) throw new RequestError('invalid', `needs: ${unmet}`, 'needs');
    const accepted = await this.#store(job, 'the job was not accepted; try again once the store is writable');
    // Its folder's free space is known before it can start: a short disk makes it wait, not fail.
    await this.deps.checkDisk(accepted);
    this.deps.queueing.submitted(accepted);
    return accepted;
  }

  /** The job with this id, or the only one whose id starts with it (at least 4 characters), as git takes hashes. */
  async get(idOrPrefix: string): Promise<Job> {
    const id = this.idOf(idOrPrefix);
    const job = await this.deps.ledger.read(id);
    if (job === undefined) throw new RequestError('not-found', `job ${id}: its record could not be read back from the store`);
    return job;
  }

  /** The id of the job with this id, or of the only one whose id starts with it. */
  idOf(idOrPrefix: string): string {
    if (this.deps.ledger.has(idOrPrefix)) return idOrPrefix;
    const matches = idOrPrefix.length >= MIN_ID_PREFIX ? this.deps.ledger.list().filter((each) => each.id.startsWith(idOrPrefix)) : [];
    if (matches.length === 1) return matches[0]!.id;
    if (matches.length > 1) {
      throw new RequestError('conflict', `${idOrPrefix} is the start of ${matches.length} job ids (${matches.slice(0, 5).map((each) => each.id).join(', ')}${matches.length > 5 ? ', …' : ''}): give more of it`);
    }
    throw new RequestError('not-found', `no job with id ${idOrPrefix}`);
  }

  async cancel(idOrPrefix: string): Promise<Job> {
    const job = await this.get(idOrPrefix);
    const id = job.id;
    if (isFinished(job.status)) throw new RequestError('conflict', `job ${id} is already ${job.status}; there is nothing to cancel`);
    await this.deps.queueing.cancel(job);
    const ended = await this.deps.ledger.waitFor(id, (each) => isFinished(each.status), this.deps.cancelWaitMs);
    return ended ?? job;
  }

  async retry(idOrPrefix: string): Promise<Job> {
    this.#requireAccepting();
    const job = await this.get(idOrPrefix);
    const id = job.id;
    if (job.status !== 'failed' && job.status !== 'cancelled') {
      throw new RequestError('conflict', `job ${id} is ${job.status}; only a failed or cancelled job can be retried`);
    }
    // A manual retry allows as many attempts again as the job was given.
    const fresh = requeueByHand(job);
    const queued = await this.#store(fresh, 'the job was not queued again');
    await this.deps.checkDisk(queued);
    this.deps.queueing.retried(queued);
    return queued;
  }

  /**
   * A waiting job moves to its new place in line; a running or finished one can't. The supervisor,
   * which holds the waiting line, makes the change, so it can't cross a cancel being written.
   */
  async setPriority(idOrPrefix: string, body: unknown): Promise<Job> {
    const { priority } = parseBody(priorityPatchSchema, body);
    const job = await this.get(idOrPrefix);
    const id = job.id;
    const refused = (status: string) => new RequestError('conflict', `job ${id} is ${status}; only a job waiting in line can change its priority`);
    if (job.status !== 'queued') throw refused(job.status);
    await this.deps.queueing.reprioritize(job, priority);
    const changed = await this.get(id);
    if (changed.status !== 'queued' || changed.priority !== priority) throw refused(changed.status);
    return changed;
  }

  /** Removes finished jobs that ended longer ago than `olderThan` (and their logs); how many. */
  async clean(body: unknown): Promise<{ removed: number }> {
    const { olderThan, status } = parseBody(cleanSchema, body);
    return { removed: (await this.removeFinished(finishedBefore(this.deps.ledger.list(), this.deps.nowMs(), olderThan, status))).length };
  }

  /** Removes these finished jobs, their logs and their webhook deliveries, for good; the ids removed. */
  async removeFinished(jobs: readonly Pick<Job, 'id'>[]): Promise<string[]> {
    const removed = await this.deps.ledger.forget(jobs.map((job) => job.id));
    for (const id of removed) await this.deps.removeLog(id);
    await this.deps.removeDeliveries(removed);
    return removed;
  }

  /** Removes these jobs' log files; their records (with their last lines) stay. */
  async removeLogs(jobs: readonly Pick<Job, 'id'>[]): Promise<void> {
    for (const job of jobs) await this.deps.removeLog(job.id);
  }

  /** Queues every failed job again (those matching `q` / `since`, where given); the jobs queued. */
  async retryFailed(body: unknown): Promise<{ retried: string[] }> {
    this.#requireAccepting();
    const { q, since } = parseBody(retryFailedSchema, body);
    const failed = this.deps.ledger.list('failed').filter((job) => matches(job, { ...(q ? { q } : {}), ...(since ? { sinceMs: Date.parse(since) } : {}) }));
    const retried: string[] = [];
    for (const job of failed) retried.push((await this.retry(job.id)).id);
    return { retried };
  }

  settings(): RuntimeSettings {
    const { maxConcurrent, progressThreshold, paused, capacity } = this.deps.supervisor.getSnapshot().context;
    return { maxConcurrent, progressThreshold, paused, resources: { ...capacity } };
  }

  updateSettings(body: unknown): RuntimeSettings {
    const { maxConcurrent, progressThreshold, paused, resources } = parseBody(settingsPatchSchema, body, 'not a setting that can change at runtime');
    if (resources !== undefined) this.deps.supervisor.send({ type: 'SET_RESOURCES', capacity: resources, gpuDevices: this.deps.gpuDevicesFor(resources) });
    if (paused !== undefined) this.deps.supervisor.send({ type: 'SET_PAUSED', paused });
    if (progressThreshold !== undefined) this.deps.supervisor.send({ type: 'SET_PROGRESS_THRESHOLD', progressThreshold });
    if (maxConcurrent !== undefined) this.deps.supervisor.send({ type: 'SET_MAX_CONCURRENT', maxConcurrent });
    return this.settings();
  }

  /**
   * A complete file seen by a watcher (the daemon's, or `encsup watch-output` elsewhere): sends
   * OUTPUT_READY to the job that waits for it; anything else is only recorded as an event.
   */
  outputComplete(path: string, at: string): CompletedOutput {
    const match = ownerOfOutput(path, this.deps.ledger.list());
    if (match.kind === 'job-output') this.deps.supervisor.send({ type: 'OUTPUT_READY', id: match.jobId, path, at });
    const event = { ...match, path, at };
    this.#outputEvents.push(event);
    this.#outputListeners.forEach((listener) => listener(event));
    if (this.#outputEvents.length > RECENT_OUTPUT_EVENTS) this.#outputEvents.shift();
    return event;
  }

  /**
   * A file a client says is complete: routed once the daemon has seen it inside an accepted folder
   * and still for the stability window. Reports of one path while it is checked share one answer.
   */
  async reportOutput(body: unknown): Promise<CompletedOutput> {
    const { path } = parseBody(outputReportSchema, body);
    const pending = this.#pendingReports.get(path);
    if (pending) return pending;
    if (this.#pendingReports.size >= MAX_PENDING_REPORTS) {
      throw new RequestError('unavailable', `${MAX_PENDING_REPORTS} reported files are being checked already; report this one again shortly`);
    }
    const checked = confirmReportedOutput(path, this.deps.reports).then(
      (confirmed) => this.outputComplete(confirmed, this.deps.nowIso()),
      (error: unknown) => {
        if (!(error instanceof ReportRefused)) throw error;
        throw new RequestError(error.reason === 'still-writing' ? 'conflict' : 'invalid', error.message, 'path');
      },
    );
    this.#pendingReports.set(path, checked);
    try {
      return await checked;
    } finally {
      this.#pendingReports.delete(path);
    }
  }

  onOutput(listener: (event: CompletedOutput) => void): () => void {
    this.#outputListeners.add(listener);
    return () => this.#outputListeners.delete(listener);
  }

  /** The latest output events, oldest first. */
  outputEvents(): CompletedOutput[] {
    return [...this.#outputEvents];
  }

  /** One try to store a change a client asked for; the durable version, or a 503 saying so. */
  async #store(job: Job, consequence: string): Promise<Job> {
    try {
      await this.deps.ledger.tryRecord(job);
    } catch (error) {
      throw new RequestError('unavailable', `the job store cannot be written (${(error as Error).message}): ${consequence}`);
    }
    return this.deps.ledger.latest(job.id) ?? job;
  }

  #requireAccepting(): void {
    if (!this.accepting) throw new RequestError('unavailable', 'the daemon is shutting down and takes no new work');
  }
}

/** The submission with its idempotency key in `clientId`, from the header or the body (they must agree). */
function withIdempotencyKey(body: unknown, header: string | null): { body: unknown; clientId: string | undefined } {
  const fromBody = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as { clientId?: unknown }).clientId : undefined;
  if (header === null) return { body, clientId: typeof fromBody === 'string' ? checkedKey(fromBody, 'clientId') : undefined };
  const key = checkedKey(header, 'Idempotency-Key');
  if (fromBody !== undefined && fromBody !== key) throw new RequestError('invalid', 'clientId: differs from the Idempotency-Key header; send one of them', 'clientId');
  return { body: { ...(body as object), clientId: key }, clientId: key };
}

function checkedKey(key: string, field: string): string {
  const checked = idempotencyKeySchema.safeParse(key);
  if (!checked.success) throw new RequestError('invalid', `${field}: ${checked.error.issues[0]!.message}`, 'clientId');
  return key;
}

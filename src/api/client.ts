// The encsup API for Node: typed calls for every operation (GET /api/openapi.json describes the
// same ones), and errors that say what to do. The CLI uses it; so can an application, as
// `import { ApiClient } from 'encsup/client'`.
import { randomUUID } from 'node:crypto';
import type { HostView } from '../farm/host-view.js';
import type { JobGraph } from '../../machines/job-graph.js';
import type { Job, JobStatus } from '../../machines/job-record.js';
import type { JobView } from '../forecast/job-view.js';
import type { JobForecast } from '../forecast/queue-forecast.js';
import type { KindEstimate } from '../forecast/run-history.js';
import type { JobPage, ListOrder } from '../jobs/job-listing.js';
import type { CompletedOutput, RuntimeSettings } from '../jobs/job-requests.js';
import type { Transition } from '../jobs/transition-log.js';
import type { Delivery } from '../webhooks/webhook-outbox.js';
import { type EventChoice, type StreamEvent, followEvents } from './event-client.js';
import { type FetchLike, type HttpAnswer, httpFetch } from './http-fetch.js';
import type { StatechartLayout } from './statechart-layout.js';

export type { Job, JobStatus, JobView, JobForecast, CompletedOutput, RuntimeSettings, Transition, Delivery, StreamEvent, EventChoice, KindEstimate };

export interface PageQuery {
  status?: JobStatus;
  q?: string;
  /** Only jobs submitted at or after this ISO time. */
  since?: string;
  order?: ListOrder;
  limit?: number;
  cursor?: string;
}

export type Page = Omit<JobPage, 'jobs'> & { jobs: JobView[] };

export class ClientError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    /** The request field the daemon named as wrong, where it named one. */
    readonly field?: string,
  ) {
    super(message);
  }
}

// A submission that could not reach the daemon is tried this often, with its one key.
const SUBMIT_TRIES = 3;

export const DEFAULT_URL = 'http://127.0.0.1:8787';

export function daemonUrl(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const given = flag || env['ENCSUP_URL'];
  // `localhost:8787` or `render1:8787` as people type them: http is meant.
  if (given) return /^[a-z][a-z0-9+.-]*:\/\//i.test(given) ? given : `http://${given}`;
  if (env['ENCSUP_PORT']) return `http://127.0.0.1:${env['ENCSUP_PORT']}`;
  return DEFAULT_URL;
}

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    /** ENCSUP_TOKEN or the daemon's token file; null for a daemon run with --no-auth. */
    readonly token: string | null = null,
    /** node:http unless told: through fetch (undici) a submission costs its sender about 0.6 ms more of CPU. */
    private readonly fetchImpl: FetchLike = httpFetch,
  ) {}

  /**
   * Submits once, whatever happens on the way: the submission carries an idempotency key (the
   * body's clientId, or a new UUID), and a try that could not reach the daemon or lost its answer
   * is made again with the same key, so the daemon makes one job of them.
   */
  async submit(body: Record<string, unknown>): Promise<Job> {
    const key = typeof body['clientId'] === 'string' ? body['clientId'] : randomUUID();
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#json<Job>('POST', '/api/jobs', body, { 'idempotency-key': key });
      } catch (error) {
        if (!(error instanceof ClientError) || error.status !== undefined || attempt >= SUBMIT_TRIES) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
      }
    }
  }
  /** A page of jobs: filtered, in a stable order, with counts; pass `next` back as `cursor`. */
  page(query: PageQuery = {}): Promise<Page> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries({ limit: 100, ...query })) if (value !== undefined) params.set(key, String(value));
    return this.#json('GET', `/api/jobs?${params}`);
  }
  /** Every job matching the filter, oldest first, read a page at a time. */
  async list(status?: JobStatus, query: Omit<PageQuery, 'status' | 'cursor' | 'limit' | 'order'> = {}): Promise<JobView[]> {
    const jobs: JobView[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.page({ ...query, ...(status ? { status } : {}), order: 'oldest', limit: 1000, ...(cursor ? { cursor } : {}) });
      jobs.push(...page.jobs);
      cursor = page.next ?? undefined;
    } while (cursor);
    return jobs;
  }
  get(id: string): Promise<JobView> {
    return this.#json('GET', `/api/jobs/${encodeURIComponent(id)}`);
  }
  cancel(id: string): Promise<Job> {
    return this.#json('POST', `/api/jobs/${encodeURIComponent(id)}/cancel`);
  }
  retry(id: string): Promise<Job> {
    return this.#json('POST', `/api/jobs/${encodeURIComponent(id)}/retry`);
  }
  setPriority(id: string, priority: number | 'high' | 'normal' | 'low'): Promise<Job> {
    return this.#json('PATCH', `/api/jobs/${encodeURIComponent(id)}`, { priority });
  }
  /** The whole log, or its last `tail` lines. */
  async log(id: string, options: { tail?: number } = {}): Promise<string> {
    const response = await this.#request('GET', `/api/jobs/${encodeURIComponent(id)}/log${options.tail ? `?tail=${options.tail}` : ''}`);
    return response.text();
  }
  /** What the log holds past `offset` bytes, and the offset to ask from next. */
  async logFrom(id: string, offset: number): Promise<{ text: string; next: number }> {
    const response = await this.#request('GET', `/api/jobs/${encodeURIComponent(id)}/log?offset=${offset}`);
    const text = await response.text();
    return { text, next: Number(response.headers.get('x-log-size') ?? offset) };
  }
  clean(body: { olderThan: string | number; status?: string[] }): Promise<{ removed: number }> {
    return this.#json('POST', '/api/jobs/clean', body);
  }
  retryFailed(body: { q?: string; since?: string }): Promise<{ retried: string[] }> {
    return this.#json('POST', '/api/jobs/retry-failed', body);
  }
  transitions(id: string): Promise<{ status: JobStatus; transitions: Transition[] }> {
    return this.#json('GET', `/api/jobs/${encodeURIComponent(id)}/transitions`);
  }
  deliveries(id: string): Promise<Delivery[]> {
    return this.#json('GET', `/api/jobs/${encodeURIComponent(id)}/deliveries`);
  }
  forecast(): Promise<{ kinds: KindEstimate[]; jobs: Record<string, JobForecast | null> }> {
    return this.#json('GET', '/api/forecast');
  }
  outputs(): Promise<CompletedOutput[]> {
    return this.#json('GET', '/api/outputs');
  }
  pause(): Promise<RuntimeSettings> {
    return this.#json('POST', '/api/queue/pause');
  }
  resume(): Promise<RuntimeSettings> {
    return this.#json('POST', '/api/queue/resume');
  }
  hosts(): Promise<HostView[]> {
    return this.#json('GET', '/api/hosts');
  }
  drainHost(name: string): Promise<HostView> {
    return this.#json('POST', `/api/hosts/${encodeURIComponent(name)}/drain`);
  }
  resumeHost(name: string): Promise<HostView> {
    return this.#json('POST', `/api/hosts/${encodeURIComponent(name)}/resume`);
  }
  machine(): Promise<JobGraph & { layout: StatechartLayout }> {
    return this.#json('GET', '/api/machine');
  }
  health(): Promise<{ ok: boolean } & Record<string, unknown>> {
    return this.#json('GET', '/healthz', undefined, {}, [503]);
  }
  async metrics(): Promise<string> {
    return (await this.#request('GET', '/metrics')).text();
  }
  async metricsAvailable(): Promise<boolean> {
    return (await this.#request('HEAD', '/metrics')).ok;
  }
  logout(): Promise<{ loggedOut: true }> {
    return this.#json('POST', '/api/logout');
  }
  openApi(): Promise<{ openapi: string } & Record<string, unknown>> {
    return this.#json('GET', '/api/openapi.json');
  }
  /**
   * Follows the event stream (one job's, or every job's) until `onEvent` returns true or `signal`
   * aborts; progress deltas arrive applied to whole jobs. `onOpen` runs once the stream is open.
   */
  events(jobId: string | null, onEvent: (event: StreamEvent) => boolean | void, signal: AbortSignal, onOpen?: (remember: (job: Job) => void) => Promise<boolean | void>, only?: EventChoice): Promise<void> {
    return followEvents(this, jobId, onEvent, signal, onOpen, only);
  }
  reportOutput(path: string): Promise<CompletedOutput> {
    return this.#json('POST', '/api/outputs', { path });
  }
  settings(): Promise<RuntimeSettings> {
    return this.#json('GET', '/api/settings');
  }
  updateSettings(patch: Partial<RuntimeSettings>): Promise<RuntimeSettings> {
    return this.#json('PATCH', '/api/settings', patch);
  }

  async #json<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, answersToo: number[] = []): Promise<T> {
    return (await (await this.#request(method, path, body, headers, answersToo)).json()) as T;
  }

  async #request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, answersToo: number[] = []): Promise<HttpAnswer> {
    let response: HttpAnswer;
    // The daemon takes changes only as JSON, so a change with nothing to say sends {}.
    const payload = method === 'GET' || method === 'HEAD' ? null : JSON.stringify(body ?? {});
    try {
      response = await this.fetchImpl(new URL(path, this.baseUrl), {
        method,
        headers: { ...(payload === null ? {} : { 'content-type': 'application/json' }), ...(this.token ? { authorization: `Bearer ${this.token}` } : {}), ...headers },
        body: payload,
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new ClientError(`cannot reach the encsup daemon at ${this.baseUrl} (${cause}): is it running? Start it with "encsup daemon".`);
    }
    if (!response.ok && !answersToo.includes(response.status)) {
      const text = await response.text();
      let message = text;
      let field: string | undefined;
      try {
        const answer = JSON.parse(text) as { error?: string; field?: string };
        message = answer.error ?? text;
        field = typeof answer.field === 'string' ? answer.field : undefined;
      } catch {
        // not JSON: keep the text as it came
      }
      if (response.status === 401) {
        message += this.token
          ? ' (the token sent is not this daemon\'s: check ENCSUP_TOKEN or --data-dir)'
          : ' (no token found: set ENCSUP_TOKEN, or point --data-dir / ENCSUP_DATA_DIR at the daemon\'s data folder)';
      }
      throw new ClientError(message, response.status, field);
    }
    return response;
  }
}

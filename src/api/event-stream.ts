// GET /api/events: Server-Sent Events for the dashboard and the CLI. Every lifecycle event is a
// `lifecycle` event in its documented shape (stored progress ticks are these small deltas); each
// one that is not progress is followed by a `job` event with the whole record (environment values
// masked); a running job's progress as it is now, stored or not, is a `live` event a few times a
// second; watcher findings are `output` events; in a farm, a job another host changed is a `job`
// event. `?job=ID` narrows it to one job, `?events=`, `?kinds=` and `?status=` to some events
// (event-filter.ts). Each event is serialized once, whatever the number of clients, and not at all
// when no client wants it (a box with no dashboard open, or whose clients wait for ends alone, pays
// nothing for the rest); a client that stops reading is dropped once its backlog passes a limit,
// and the number of clients is capped, so no client can make the daemon hold memory for it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Job } from '../../machines/job-record.js';
import type { LifecycleEvent } from '../../machines/lifecycle.js';
import type { CompletedOutput } from '../jobs/job-requests.js';
import type { LiveProgress } from '../runner/runner-actor.js';
import { type FrameFacts, wantsFrame } from './event-filter.js';
import { ApiError, sendError } from './http.js';
import type { EventsQuery } from './operations.js';
import { publicJob } from './public-job.js';

export interface EventSource {
  /** Each event with the job's record as the event left it, for the `job` event that follows. */
  onLifecycle(listener: (event: LifecycleEvent, job: Job | undefined) => void): () => void;
  /** A running job's progress as it is now (not durable), a few times a second. */
  onLive(listener: (live: LiveProgress) => void): () => void;
  onOutput(listener: (event: CompletedOutput) => void): () => void;
  /** A job changed elsewhere (by another host of a farm), as it is now. */
  onJob?(listener: (job: Job) => void): () => void;
}

export interface EventHubLimits {
  maxClients: number;
  /** Bytes written but not yet taken by a client before it is dropped. */
  maxBacklogBytes: number;
  keepaliveMs: number;
}

export const DEFAULT_EVENT_LIMITS: EventHubLimits = { maxClients: 64, maxBacklogBytes: 4 * 1024 * 1024, keepaliveMs: 15_000 };

interface Client {
  response: ServerResponse;
  wants: EventsQuery;
}

export class EventHub {
  readonly #clients = new Set<Client>();
  readonly #stop: (() => void)[];
  readonly #keepalive: NodeJS.Timeout;

  constructor(
    source: EventSource,
    private readonly limits: EventHubLimits = DEFAULT_EVENT_LIMITS,
  ) {
    this.#stop = [
      source.onLifecycle((event, job) => {
        this.#broadcast(() => `event: lifecycle\ndata: ${JSON.stringify(event)}\n\n`, { type: 'lifecycle', jobId: event.jobId, kind: event.kind });
        if (job && event.kind !== 'progress') this.#broadcastJob(job);
      }),
      source.onLive((live) => this.#broadcast(() => `event: live\ndata: ${JSON.stringify(live)}\n\n`, { type: 'live', jobId: live.jobId })),
      source.onOutput((event) => this.#broadcast(() => `event: output\ndata: ${JSON.stringify(event)}\n\n`, { type: 'output', jobId: 'jobId' in event ? event.jobId : null })),
      source.onJob?.((job) => this.#broadcastJob(job)) ?? (() => undefined),
    ];
    // A comment now and then keeps proxies from closing an idle stream.
    this.#keepalive = setInterval(() => this.#broadcast(() => ': keepalive\n\n', null), limits.keepaliveMs);
    this.#keepalive.unref();
  }

  get clients(): number {
    return this.#clients.size;
  }

  serve(request: IncomingMessage, response: ServerResponse, wants: EventsQuery): void {
    if (this.#clients.size >= this.limits.maxClients) {
      return sendError(response, new ApiError(503, `too many event streams are open (${this.limits.maxClients}); close one and try again`));
    }
    response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
    response.write(': encsup events\n\n');
    const client: Client = { response, wants };
    this.#clients.add(client);
    request.on('close', () => this.#clients.delete(client));
  }

  close(): void {
    clearInterval(this.#keepalive);
    this.#stop.forEach((stop) => stop());
    for (const client of this.#clients) client.response.end();
    this.#clients.clear();
  }

  #broadcastJob(job: Job): void {
    this.#broadcast(() => `event: job\ndata: ${JSON.stringify(publicJob(job))}\n\n`, { type: 'job', jobId: job.id, status: job.status });
  }

  /** `frame` is called once, at the first client that wants the event; `facts` null: every client does. */
  #broadcast(frame: () => string, facts: FrameFacts | null): void {
    let text: string | null = null;
    for (const client of this.#clients) {
      if (facts !== null && !wantsFrame(client.wants, facts)) continue;
      if (client.response.writableLength > this.limits.maxBacklogBytes) {
        // It stopped reading: what it missed can be read again from /api/jobs when it reconnects.
        this.#clients.delete(client);
        client.response.destroy();
        continue;
      }
      client.response.write((text ??= frame()));
    }
  }
}

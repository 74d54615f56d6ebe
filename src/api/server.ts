// The HTTP API that the CLI and the dashboard use. Every request passes the guard (Host, origin,
// JSON for changes, token) before a route runs; routes map to JobRequests; errors come back as JSON
// {error, field?}. Nothing a request carries can end the daemon: a request that breaks a handler
// gets a 500 and a log line, a malformed one a 400.
import type { HostView } from '../farm/host-view.js';
import { open } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { REQUEST_WAITS, limitConnections } from './connection-limits.js';
import type { Registry } from 'prom-client';
import type { JobGraph } from '../../machines/job-graph.js';
import type { Job } from '../../machines/job-record.js';
import type { JobViews } from '../forecast/job-view.js';
import { listPage } from '../jobs/job-listing.js';
import type { KindEstimate } from '../forecast/run-history.js';
import type { Delivery } from '../webhooks/webhook-outbox.js';
import { type JobRequests, RequestError, type RequestErrorKind } from '../jobs/job-requests.js';
import type { TransitionLog } from '../jobs/transition-log.js';
import type { JobLedger } from '../store/job-ledger.js';
import type { z } from 'zod';
import { firstProblem } from '../validation-problem.js';
import { serveDashboardFile } from './dashboard-files.js';
import { openApiDocument } from './openapi.js';
import { type Operation, type OperationId, OPERATIONS, eventsQuery, listJobsQuery, logQuery, pathPattern } from './operations.js';
import type { EventHub } from './event-stream.js';
import { ApiError, readJsonBody, sendError, sendJson, sendText } from './http.js';
import { publicJob } from './public-job.js';
import {
  type GuardOptions,
  checkChangeIsJson,
  checkHost,
  checkSameOrigin,
  isAuthenticated,
  loginCookie,
  logoutCookie,
} from './request-guard.js';
import { setSecurityHeaders } from './security-headers.js';
import { tokenMatches } from './token.js';

export interface ApiDeps {
  requests: JobRequests;
  ledger: JobLedger;
  /** Jobs as they are now (live progress, ETA counted down), with when each should start and end. */
  views: JobViews;
  /** What finished jobs taught about each kind of job. */
  kinds: () => KindEstimate[];
  /** A job's webhook deliveries and how each went. */
  deliveries: (jobId: string) => Promise<Delivery[]>;
  events: EventHub;
  metrics: Registry;
  transitions: TransitionLog;
  /** The job graph at the level of statuses, from the machine definition (the dashboard draws it). */
  jobGraph: JobGraph;
  logPath: (jobId: string) => string;
  /** The farm's hosts, where this daemon is one (null on one box). */
  hosts: FarmHosts | null;
  /** What /healthz says: open to monitors, so nothing about jobs. */
  health: () => Promise<{ ok: boolean }>;
  guard: GuardOptions;
  /** A handler failed in a way no request should cause: logged, answered 500, the daemon goes on. */
  onError: (error: unknown, request: { method: string; path: string }) => void;
}

export interface FarmHosts {
  list(): Promise<HostView[]>;
  /** The host, drained or resumed; null when the farm has no host of that name. */
  setDraining(name: string, draining: boolean): Promise<HostView | null>;
}

async function setDraining(hosts: FarmHosts | null, name: string, draining: boolean): Promise<HostView> {
  if (!hosts) throw new RequestError('conflict', 'this daemon is not a host of a farm: its store is the file in its data folder (see --store)');
  const host = await hosts.setDraining(name, draining);
  if (!host) throw new RequestError('not-found', `no host named ${name} in this farm`);
  return host;
}

type Handler = (request: IncomingMessage, response: ServerResponse, params: string[], url: URL) => Promise<void> | void;
interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
  access: NonNullable<Operation['access']>;
  /** Answered from every job the store holds: waits while the finished ones are still being read. */
  needsEveryJob: boolean;
}

// Operations answered from what runs now, the settings or the farm's hosts, never from the book
// of jobs: they need not wait for a start's read of the finished jobs (finished-loading.ts). Any
// other does, so a new one waits unless it is named here.
const ANSWERED_WITHOUT_THE_BOOK: ReadonlySet<OperationId> = new Set<OperationId>([
  'events',
  'health',
  'logout',
  'openApi',
  'machine',
  'forecast',
  'getSettings',
  'updateSettings',
  'getConfig',
  'updateConfig',
  'pauseQueue',
  'resumeQueue',
  'listHosts',
  'drainHost',
  'resumeHost',
]);

const STATUS_OF: Record<RequestErrorKind, number> = { invalid: 400, 'not-found': 404, conflict: 409, unavailable: 503 };
const DASHBOARD_PAGE = /^\/(?:jobs\/[^/]+)?$/;

export function createApiServer(deps: ApiDeps): Server {
  const { requests, ledger } = deps;
  // The graph and where the dashboard draws it, and the API's description: made at the first
  // request for them (the layout library loads then), once: neither changes while it runs.
  let machine: Promise<unknown> | null = null;
  const machineView = () => (machine ??= import('./statechart-layout.js').then(({ layoutStatechart }) => ({ ...deps.jobGraph, layout: layoutStatechart(deps.jobGraph) })));
  let document: ReturnType<typeof openApiDocument> | null = null;
  const view = (job: Job) => publicJob(deps.views.present([job])[0]!);
  const serveMetrics: Handler = async (_q, res) => {
    res.writeHead(200, { 'content-type': deps.metrics.contentType });
    res.end(await deps.metrics.metrics());
  };
  const settings: Handler = async (req, res) => sendJson(res, 200, req.method === 'PATCH' ? requests.updateSettings(await readJsonBody(req)) : requests.settings());
  // One handler for each operation in the table (the compiler holds them to it): the table gives
  // the method, the path and the query's schema.
  const handlers: Record<OperationId, Handler> = {
    metrics: serveMetrics,
    // Monitors check the endpoint with HEAD; Node sends the headers and no body.
    metricsHead: serveMetrics,
    events: (req, res, _p, url) => deps.events.serve(req, res, readQuery(eventsQuery, url)),
    submitJob: async (req, res) => {
      const key = req.headers['idempotency-key'];
      const { job, replayed } = await requests.submitOnce(await readJsonBody(req), typeof key === 'string' ? key : null);
      // A replay answers 200 with the job the key made the first time; a new job, 201.
      if (replayed) res.setHeader('idempotent-replayed', 'true');
      sendJson(res, replayed ? 200 : 201, publicJob(job));
    },
    listJobs: async (_q, res, _p, url) => {
      const { status, q, since, order, limit, cursor } = readQuery(listJobsQuery, url);
      const page = listPage(ledger.list(), { order, limit, cursor: cursor ?? null, ...(status ? { status } : {}), ...(q ? { q } : {}), ...(since ? { sinceMs: Date.parse(since) } : {}) }, ledger.counts());
      // The page's jobs whole: finished ones are read from the store, a page at a time.
      const jobs = (await Promise.all(page.jobs.map((summary) => ledger.read(summary.id)))).filter((job) => job !== undefined);
      sendJson(res, 200, { ...page, jobs: deps.views.present(jobs).map(publicJob) });
    },
    getJob: async (_q, res, [id]) => sendJson(res, 200, view(await requests.get(id!))),
    forecast: (_q, res) => sendJson(res, 200, { kinds: deps.kinds(), jobs: Object.fromEntries(deps.views.present(ledger.active()).map((job) => [job.id, job.forecast])) }),
    setPriority: async (req, res, [id]) => sendJson(res, 200, publicJob(await requests.setPriority(id!, await readJsonBody(req)))),
    cancelJob: async (_q, res, [id]) => sendJson(res, 200, publicJob(await requests.cancel(id!))),
    retryJob: async (_q, res, [id]) => sendJson(res, 200, publicJob(await requests.retry(id!))),
    jobLog: async (_q, res, [id], url) => sendLog(res, deps, id!, readQuery(logQuery, url)),
    jobDeliveries: async (_q, res, [id]) => sendJson(res, 200, await deps.deliveries(requests.idOf(id!))),
    jobTransitions: async (_q, res, [id]) => {
      const job = await requests.get(id!);
      sendJson(res, 200, { status: job.status, transitions: deps.transitions.of(job) });
    },
    reportOutput: async (req, res) => sendJson(res, 202, await requests.reportOutput(await readJsonBody(req))),
    listOutputs: (_q, res) => sendJson(res, 200, requests.outputEvents()),
    machine: async (_q, res) => sendJson(res, 200, await machineView()),
    listHosts: async (_q, res) => sendJson(res, 200, deps.hosts ? await deps.hosts.list() : []),
    drainHost: async (_q, res, [name]) => sendJson(res, 200, await setDraining(deps.hosts, decodeURIComponent(name!), true)),
    resumeHost: async (_q, res, [name]) => sendJson(res, 200, await setDraining(deps.hosts, decodeURIComponent(name!), false)),
    cleanJobs: async (req, res) => sendJson(res, 200, await requests.clean(await readJsonBody(req))),
    retryFailedJobs: async (req, res) => sendJson(res, 200, await requests.retryFailed(await readJsonBody(req))),
    pauseQueue: (_q, res) => sendJson(res, 200, requests.updateSettings({ paused: true })),
    resumeQueue: (_q, res) => sendJson(res, 200, requests.updateSettings({ paused: false })),
    getSettings: settings,
    updateSettings: settings,
    // The runtime settings' old name, kept for existing scripts.
    getConfig: settings,
    updateConfig: settings,
    health: async (_q, res) => {
      const health = await deps.health();
      sendJson(res, health.ok ? 200 : 503, health);
    },
    logout: (request, res) => {
      res.setHeader('set-cookie', logoutCookie(request.socket.localPort ?? 0));
      sendJson(res, 200, { loggedOut: true });
    },
    openApi: (_q, res) => sendJson(res, 200, (document ??= openApiDocument())),
  };
  const routes: Route[] = [
    ...(Object.entries(OPERATIONS) as [OperationId, Operation][]).map(([id, operation]) => ({
      method: operation.method,
      pattern: pathPattern(operation.path),
      handler: handlers[id],
      access: operation.access ?? 'token',
      needsEveryJob: !ANSWERED_WITHOUT_THE_BOOK.has(id),
    })),
    { method: 'GET', pattern: DASHBOARD_PAGE, handler: (_q, res) => serveDashboardFile(res, 'index.html'), access: 'token', needsEveryJob: false },
  ];

  const handle = async (request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> => {
    const path = url.pathname;
    const method = request.method ?? 'GET';
    const matching = routes.filter((route) => route.pattern.test(path));
    const route = matching.find((candidate) => candidate.method === method);
    const params = () => route!.pattern.exec(path)!.slice(1).map(decodeParam);
    // Open to monitors, whatever name they use: it says nothing about jobs.
    if (route?.access === 'monitor') return route.handler(request, response, params(), url);
    const refused = checkHost(request, deps.guard) ?? checkSameOrigin(request, path) ?? checkChangeIsJson(request);
    if (refused) return sendError(response, refused);
    if (route?.access === 'guarded') return route.handler(request, response, params(), url);
    const port = request.socket.localPort ?? 0;
    // The page's own files hold no data; the pages and the API need the token.
    const asset = /^\/dashboard\/([\w.-]+)$/.exec(path);
    if (asset && method === 'GET') return serveDashboardFile(response, asset[1]!);
    const isPage = DASHBOARD_PAGE.test(path) && method === 'GET';
    const offered = url.searchParams.get('token');
    if (isPage && offered !== null && deps.guard.token !== null && tokenMatches(offered, deps.guard.token)) {
      // Log in: the token moves into an HttpOnly cookie and out of the address bar and history.
      url.searchParams.delete('token');
      response.writeHead(303, { location: `${path}${url.search}`, 'set-cookie': loginCookie(port, deps.guard.token) });
      return void response.end();
    }
    if (!isAuthenticated(request, deps.guard, port)) {
      if (isPage) return serveDashboardFile(response, 'login.html', 401);
      return sendError(response, new ApiError(401, 'a token is needed: send Authorization: Bearer <token> (the CLI reads <data-dir>/token or ENCSUP_TOKEN)'));
    }
    if (!route) {
      return sendError(response, matching.length > 0 ? new ApiError(405, `${method} is not allowed on ${path}`) : new ApiError(404, `no such endpoint: ${path}`));
    }
    if (route.needsEveryJob && !ledger.whole) await ledger.whenWhole();
    await route.handler(request, response, params(), url);
  };

  const server = createServer(REQUEST_WAITS, (request, response) => {
    setSecurityHeaders(response);
    request.on('error', () => response.destroy());
    let url: URL;
    try {
      url = requestUrl(request.url);
    } catch (error) {
      return sendError(response, error as ApiError);
    }
    handle(request, response, url).catch((error: unknown) => {
      if (error instanceof ApiError) return sendError(response, error);
      if (error instanceof RequestError) return sendError(response, new ApiError(STATUS_OF[error.kind], error.message, error.field));
      deps.onError(error, { method: request.method ?? '', path: url.pathname });
      if (response.headersSent) return response.destroy();
      sendError(response, new ApiError(500, 'internal error: the daemon logged it and carries on'));
    });
  });
  limitConnections(server);
  // A request Node could not even parse, or whose headers or body did not come in time: answer
  // 400 or 408 and close, never throw.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    else socket.destroy();
  });
  return server;
}

/** The request target as a URL; anything but a path (`//[`, `*`, an absolute form) is a 400. */
function requestUrl(target: string | undefined): URL {
  if (target === undefined || !target.startsWith('/') || target.startsWith('//')) {
    throw new ApiError(400, 'the request target must be a path such as /api/jobs');
  }
  try {
    return new URL(target, 'http://encsup.invalid');
  } catch {
    throw new ApiError(400, 'the request target is not a valid path');
  }
}

function decodeParam(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new ApiError(400, `the path holds a malformed percent-escape: ${text.slice(0, 80)}`);
  }
}

/** The query, checked by its schema: a wrong value is a 400 that names the parameter. */
function readQuery<T extends z.ZodObject>(schema: T, url: URL): z.output<T> {
  const parsed = schema.safeParse(Object.fromEntries(url.searchParams));
  if (parsed.success) return parsed.data;
  const problem = firstProblem(parsed.error);
  throw new ApiError(400, problem.message, problem.field);
}

// What one request may read of a log: a 16 MiB log whole is for the download, not for a page.
const TAIL_WINDOW_BYTES = 4 * 1024 * 1024;

/**
 * A job's log: whole (`?download=1` as an attachment), its last `?tail=N` lines, or what follows
 * `?offset=BYTES` (for following it: the answer's `x-log-size` is the next offset; a log that was
 * cut shorter than the offset, at its size cap, is sent from its start again).
 */
async function sendLog(response: ServerResponse, deps: ApiDeps, idOrPrefix: string, query: z.output<typeof logQuery>): Promise<void> {
  const job = await deps.requests.get(idOrPrefix);
  const lines = query.tail ?? null;
  const from = query.offset ?? null;
  let handle;
  try {
    handle = await open(deps.logPath(job.id), 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    // Never started, or a log from before logs were kept: the tail the record holds.
    const text = job.logTail.map((line) => `${line}\n`).join('');
    response.setHeader('x-log-size', '0');
    return sendText(response, 200, lines === null ? text : text.split('\n').slice(-lines - 1).join('\n'));
  }
  try {
    const { size } = await handle.stat();
    response.setHeader('x-log-size', String(size));
    if (query.download !== undefined) response.setHeader('content-disposition', `attachment; filename="${job.id}.log"`);
    const start = from !== null ? (from > size ? 0 : from) : lines !== null ? Math.max(0, size - TAIL_WINDOW_BYTES) : 0;
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    const text = buffer.toString('utf8');
    sendText(response, 200, lines === null ? text : lastLines(text, lines));
  } finally {
    await handle.close();
  }
}

function lastLines(text: string, count: number): string {
  const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  return `${lines.slice(-count).join('\n')}\n`;
}

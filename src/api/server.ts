// The HTTP API that the CLI and the dashboard use. Every request passes the guard (Host, origin,
// JSON for changes, token) before a route runs; routes map to JobRequests; errors come back as JSON
// {error, field?}. Nothing a request carries can end the daemon: a request that breaks a handler
// gets a 500 and a log line, a malformed one a 400.
import { open } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { Registry } from 'prom-client';
import type { JobGraph } from '../../machines/job-graph.js';
import { type Job, JOB_STATUSES, type JobStatus } from '../../machines/job-record.js';
import type { JobViews } from '../forecast/job-view.js';
import { LIST_ORDERS, type ListOrder, type ListQuery, decodeCursor, listPage } from '../jobs/job-listing.js';
import type { KindEstimate } from '../forecast/run-history.js';
import type { Delivery } from '../webhooks/webhook-outbox.js';
import { type JobRequests, RequestError, type RequestErrorKind } from '../jobs/job-requests.js';
import type { TransitionLog } from '../jobs/transition-log.js';
import type { JobLedger } from '../store/job-ledger.js';
import { serveDashboardFile } from './dashboard-files.js';
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
import { layoutStatechart } from './statechart-layout.js';
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
  /** What /healthz says: open to monitors, so nothing about jobs. */
  health: () => { ok: boolean } & Record<string, unknown>;
  guard: GuardOptions;
  /** A handler failed in a way no request should cause: logged, answered 500, the daemon goes on. */
  onError: (error: unknown, request: { method: string; path: string }) => void;
}

type Handler = (request: IncomingMessage, response: ServerResponse, params: string[], url: URL) => Promise<void> | void;

const STATUS_OF: Record<RequestErrorKind, number> = { invalid: 400, 'not-found': 404, conflict: 409, unavailable: 503 };
const DASHBOARD_PAGE = /^\/(?:jobs\/[^/]+)?$/;

export function createApiServer(deps: ApiDeps): Server {
  const { requests, ledger } = deps;
  // The graph and where the dashboard draws it: laid out once, the machine does not change.
  const machine = { ...deps.jobGraph, layout: layoutStatechart(deps.jobGraph) };
  const view = (job: Job) => publicJob(deps.views.present([job])[0]!);
  const serveMetrics: Handler = async (_q, res) => {
    res.writeHead(200, { 'content-type': deps.metrics.contentType });
    res.end(await deps.metrics.metrics());
  };
  const routes: [string, RegExp, Handler][] = [
    ['GET', /^\/metrics$/, serveMetrics],
    // Monitors check the endpoint with HEAD; Node sends the headers and no body.
    ['HEAD', /^\/metrics$/, serveMetrics],
    ['GET', /^\/api\/events$/, (req, res, _p, url) => deps.events.serve(req, res, url.searchParams.get('job'))],
    ['POST', /^\/api\/jobs$/, async (req, res) => {
      const key = req.headers['idempotency-key'];
      const { job, replayed } = await requests.submitOnce(await readJsonBody(req), typeof key === 'string' ? key : null);
      // A replay answers 200 with the job the key made the first time; a new job, 201.
      if (replayed) res.setHeader('idempotent-replayed', 'true');
      sendJson(res, replayed ? 200 : 201, publicJob(job));
    }],
    ['GET', /^\/api\/jobs$/, (_q, res, _p, url) => {
      const query = pageQuery(url.searchParams);
      if (query === null) return sendJson(res, 200, deps.views.present(listJobs(ledger, url.searchParams.get('status'))).map(publicJob));
      const page = listPage(ledger.list(), query);
      sendJson(res, 200, { ...page, jobs: deps.views.present(page.jobs).map(publicJob) });
    }],
    ['GET', /^\/api\/jobs\/([^/]+)$/, (_q, res, [id]) => sendJson(res, 200, view(requests.get(id!)))],
    ['GET', /^\/api\/forecast$/, (_q, res) => sendJson(res, 200, { kinds: deps.kinds(), jobs: Object.fromEntries(deps.views.present(ledger.list().filter(isWaitingOrRunning)).map((job) => [job.id, job.forecast])) })],
    ['PATCH', /^\/api\/jobs\/([^/]+)$/, async (req, res, [id]) => sendJson(res, 200, publicJob(await requests.setPriority(id!, await readJsonBody(req))))],
    ['POST', /^\/api\/jobs\/([^/]+)\/cancel$/, async (_q, res, [id]) => sendJson(res, 200, publicJob(await requests.cancel(id!)))],
    ['POST', /^\/api\/jobs\/([^/]+)\/retry$/, async (_q, res, [id]) => sendJson(res, 200, publicJob(await requests.retry(id!)))],
    ['GET', /^\/api\/jobs\/([^/]+)\/log$/, async (_q, res, [id], url) => sendLog(res, deps, id!, url.searchParams)],
    ['GET', /^\/api\/jobs\/([^/]+)\/deliveries$/, async (_q, res, [id]) => sendJson(res, 200, await deps.deliveries(requests.get(id!).id))],
    ['GET', /^\/api\/jobs\/([^/]+)\/transitions$/, (_q, res, [id]) => {
      const job = requests.get(id!);
      sendJson(res, 200, { status: job.status, transitions: deps.transitions.of(job.id) });
    }],
    ['POST', /^\/api\/outputs$/, async (req, res) => sendJson(res, 202, await requests.reportOutput(await readJsonBody(req)))],
    ['GET', /^\/api\/outputs$/, (_q, res) => sendJson(res, 200, requests.outputEvents())],
    ['GET', /^\/api\/machine$/, (_q, res) => sendJson(res, 200, machine)],
    // The runtime settings; /api/config is their old name, kept for existing scripts.
    ['POST', /^\/api\/jobs\/clean$/, async (req, res) => sendJson(res, 200, await requests.clean(await readJsonBody(req)))],
    ['POST', /^\/api\/jobs\/retry-failed$/, async (req, res) => sendJson(res, 200, await requests.retryFailed(await readJsonBody(req)))],
    ['POST', /^\/api\/queue\/(pause|resume)$/, (_q, res, [action]) => sendJson(res, 200, requests.updateSettings({ paused: action === 'pause' }))],
    ['GET', /^\/api\/(?:settings|config)$/, (_q, res) => sendJson(res, 200, requests.settings())],
    ['PATCH', /^\/api\/(?:settings|config)$/, async (req, res) => sendJson(res, 200, requests.updateSettings(await readJsonBody(req)))],
    ['GET', DASHBOARD_PAGE, (_q, res) => serveDashboardFile(res, 'index.html')],
  ];

  const handle = async (request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> => {
    const path = url.pathname;
    const method = request.method ?? 'GET';
    // Open to monitors, whatever name they use: it says nothing about jobs.
    if (path === '/healthz' && method === 'GET') {
      const health = deps.health();
      return sendJson(response, health.ok ? 200 : 503, health);
    }
    const refused = checkHost(request, deps.guard) ?? checkSameOrigin(request, path) ?? checkChangeIsJson(request);
    if (refused) return sendError(response, refused);
    const port = request.socket.localPort ?? 0;
    if (method === 'POST' && path === '/api/logout') {
      response.setHeader('set-cookie', logoutCookie(port));
      return sendJson(response, 200, { loggedOut: true });
    }
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
    const matching = routes.filter(([, pattern]) => pattern.test(path));
    const route = matching.find(([routeMethod]) => routeMethod === method);
    if (!route) {
      return sendError(response, matching.length > 0 ? new ApiError(405, `${method} is not allowed on ${path}`) : new ApiError(404, `no such endpoint: ${path}`));
    }
    const params = route[1].exec(path)!.slice(1).map(decodeParam);
    await route[2](request, response, params, url);
  };

  const server = createServer((request, response) => {
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
  // A request Node could not even parse: answer 400 and close, never throw.
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
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

const PAGE_PARAMS = ['limit', 'cursor', 'q', 'order', 'since'];
const MAX_PAGE = 1000;

/** A paged listing's query, or null for the plain list (none of its parameters given). */
function pageQuery(params: URLSearchParams): ListQuery | null {
  if (!PAGE_PARAMS.some((name) => params.has(name))) return null;
  const status = params.get('status');
  if (status !== null && !JOB_STATUSES.includes(status as JobStatus)) throw new ApiError(400, `status: expected one of ${JOB_STATUSES.join(', ')}`, 'status');
  const limit = params.has('limit') ? Number(params.get('limit')) : 100;
  if (!(Number.isInteger(limit) && limit >= 1 && limit <= MAX_PAGE)) throw new ApiError(400, `limit: expected a whole number from 1 to ${MAX_PAGE}`, 'limit');
  const order = params.get('order') ?? 'view';
  if (!(LIST_ORDERS as readonly string[]).includes(order)) throw new ApiError(400, `order: expected one of ${LIST_ORDERS.join(', ')}`, 'order');
  const cursor = params.get('cursor');
  if (cursor !== null && decodeCursor(cursor) === null) throw new ApiError(400, 'cursor: not a cursor this daemon gave (use the `next` of the previous page)', 'cursor');
  const since = params.get('since');
  const sinceMs = since === null ? undefined : Date.parse(since);
  if (sinceMs !== undefined && Number.isNaN(sinceMs)) throw new ApiError(400, 'since: expected an ISO 8601 time, e.g. 2026-11-26T08:00:00Z', 'since');
  const q = params.get('q') ?? undefined;
  if (q !== undefined && q.length > 200) throw new ApiError(400, 'q: expected at most 200 characters', 'q');
  return { order: order as ListOrder, limit, cursor, ...(status === null ? {} : { status: status as JobStatus }), ...(q ? { q } : {}), ...(sinceMs === undefined ? {} : { sinceMs }) };
}

function isWaitingOrRunning(job: Job): boolean {
  return job.status === 'queued' || job.status === 'encoding' || job.status === 'finalizing';
}

function listJobs(ledger: JobLedger, status: string | null) {
  if (status !== null && !JOB_STATUSES.includes(status as JobStatus)) {
    throw new ApiError(400, `status: expected one of ${JOB_STATUSES.join(', ')}`, 'status');
  }
  return ledger.list((status as JobStatus | null) ?? undefined).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

// What one request may read of a log: a 16 MiB log whole is for the download, not for a page.
const MAX_TAIL_LINES = 10_000;
const TAIL_WINDOW_BYTES = 4 * 1024 * 1024;

/**
 * A job's log: whole (`?download=1` as an attachment), its last `?tail=N` lines, or what follows
 * `?offset=BYTES` (for following it: the answer's `x-log-size` is the next offset; a log that was
 * cut shorter than the offset, at its size cap, is sent from its start again).
 */
async function sendLog(response: ServerResponse, deps: ApiDeps, idOrPrefix: string, query: URLSearchParams): Promise<void> {
  const job = deps.requests.get(idOrPrefix);
  const tail = query.get('tail');
  const offset = query.get('offset');
  const lines = tail === null ? null : Number(tail);
  if (lines !== null && !(Number.isInteger(lines) && lines >= 1 && lines <= MAX_TAIL_LINES)) throw new ApiError(400, `tail: expected a whole number of lines from 1 to ${MAX_TAIL_LINES}`, 'tail');
  const from = offset === null ? null : Number(offset);
  if (from !== null && !(Number.isInteger(from) && from >= 0)) throw new ApiError(400, 'offset: expected a byte offset, 0 or more', 'offset');
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
    if (query.get('download') !== null) response.setHeader('content-disposition', `attachment; filename="${job.id}.log"`);
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

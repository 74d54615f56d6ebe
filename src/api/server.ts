// The HTTP API that the CLI and the dashboard use. Routes map to JobControl; errors come back as
// JSON {error, field?} with 400/401/404/409/503. Off loopback, every route but /healthz needs the
// token.
import { readFile } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { Registry } from 'prom-client';
import { JOB_STATUSES, type JobStatus } from '../../machines/job-record.js';
import { type JobControl, RequestError, type RequestErrorKind } from '../jobs/job-control.js';
import type { TransitionLog } from '../jobs/transition-log.js';
import type { JobLedger } from '../store/job-ledger.js';
import { presentedToken, tokenMatches } from './auth.js';
import { serveDashboardFile } from './dashboard-files.js';
import { type EventSource, serveEventStream } from './event-stream.js';
import { ApiError, readJsonBody, sendError, sendJson, sendText } from './http.js';

export interface ApiDeps {
  control: JobControl;
  ledger: JobLedger;
  events: EventSource;
  metrics: Registry;
  transitions: TransitionLog;
  logPath: (jobId: string) => string;
  health: () => Record<string, unknown>;
  /** null on loopback: no token needed. */
  token: string | null;
}

type Handler = (request: IncomingMessage, response: ServerResponse, params: string[], url: URL) => Promise<void> | void;

const STATUS_OF: Record<RequestErrorKind, number> = { invalid: 400, 'not-found': 404, conflict: 409, unavailable: 503 };

export function createApiServer(deps: ApiDeps): Server {
  const { control, ledger } = deps;
  const routes: [string, RegExp, Handler][] = [
    ['GET', /^\/healthz$/, (_q, res) => {
      const health = deps.health();
      sendJson(res, health['ok'] ? 200 : 503, health);
    }],
    ['GET', /^\/metrics$/, async (_q, res) => {
      res.writeHead(200, { 'content-type': deps.metrics.contentType });
      res.end(await deps.metrics.metrics());
    }],
    ['GET', /^\/api\/events$/, (req, res, _p, url) => serveEventStream(req, res, deps.events, url.searchParams.get('job'))],
    ['POST', /^\/api\/jobs$/, async (req, res) => sendJson(res, 201, await control.submit(await readJsonBody(req)))],
    ['GET', /^\/api\/jobs$/, (_q, res, _p, url) => sendJson(res, 200, listJobs(ledger, url.searchParams.get('status')))],
    ['GET', /^\/api\/jobs\/([^/]+)$/, (_q, res, [id]) => sendJson(res, 200, control.get(id!))],
    ['PATCH', /^\/api\/jobs\/([^/]+)$/, async (req, res, [id]) => sendJson(res, 200, await control.setPriority(id!, await readJsonBody(req)))],
    ['POST', /^\/api\/jobs\/([^/]+)\/cancel$/, async (_q, res, [id]) => sendJson(res, 200, await control.cancel(id!))],
    ['POST', /^\/api\/jobs\/([^/]+)\/retry$/, async (_q, res, [id]) => sendJson(res, 200, await control.retry(id!))],
    ['GET', /^\/api\/jobs\/([^/]+)\/log$/, async (_q, res, [id]) => sendText(res, 200, await readLog(deps, id!))],
    ['GET', /^\/api\/jobs\/([^/]+)\/transitions$/, (_q, res, [id]) => sendJson(res, 200, { status: control.get(id!).status, transitions: deps.transitions.of(id!) })],
    ['POST', /^\/api\/outputs$/, async (req, res) => sendJson(res, 200, control.reportOutput(await readJsonBody(req)))],
    ['GET', /^\/api\/outputs$/, (_q, res) => sendJson(res, 200, control.outputEvents())],
    ['GET', /^\/api\/config$/, (_q, res) => sendJson(res, 200, control.settings())],
    ['PATCH', /^\/api\/config$/, async (req, res) => sendJson(res, 200, control.updateSettings(await readJsonBody(req)))],
    ['GET', /^\/(?:jobs\/[^/]+)?$/, (_q, res) => serveDashboardFile(res, 'index.html')],
    ['GET', /^\/dashboard\/([\w.-]+)$/, (_q, res, [file]) => serveDashboardFile(res, file!)],
  ];

  return createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://encsup.local');
    if (deps.token !== null && url.pathname !== '/healthz' && !tokenMatches(presentedToken(request, url), deps.token)) {
      return sendError(response, new ApiError(401, 'a bearer token is needed: send Authorization: Bearer <ENCSUP_TOKEN>, or ?token= in a browser'));
    }
    const matching = routes.filter(([, pattern]) => pattern.test(url.pathname));
    const route = matching.find(([method]) => method === request.method);
    if (!route) {
      const error = matching.length > 0 ? new ApiError(405, `${request.method} is not allowed on ${url.pathname}`) : new ApiError(404, `no such endpoint: ${url.pathname}`);
      return sendError(response, error);
    }
    const params = route[1].exec(url.pathname)!.slice(1).map(decodeURIComponent);
    Promise.resolve()
      .then(() => route[2](request, response, params, url))
      .catch((error: unknown) => {
        if (error instanceof ApiError) return sendError(response, error);
        if (error instanceof RequestError) return sendError(response, new ApiError(STATUS_OF[error.kind], error.message, error.field));
        sendError(response, new ApiError(500, `internal error: ${(error as Error).message}`));
      });
  });
}

function listJobs(ledger: JobLedger, status: string | null) {
  if (status !== null && !JOB_STATUSES.includes(status as JobStatus)) {
    throw new ApiError(400, `status: expected one of ${JOB_STATUSES.join(', ')}`, 'status');
  }
  return ledger.list((status as JobStatus | null) ?? undefined).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

async function readLog(deps: ApiDeps, id: string): Promise<string> {
  const job = deps.control.get(id);
  try {
    return await readFile(deps.logPath(id), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return job.logTail.map((line) => `${line}\n`).join('');
  }
}

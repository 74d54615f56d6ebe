// `encsup daemon --inspect PORT`: every actor (the supervisor and each job) is shown live in the
// Stately visual inspector. @statelyai/inspect's WebSocket inspector sends the events to a small
// relay served here, bound to loopback and behind the daemon's token (the package's own server
// listens on every interface and lets anyone in); a browser opens the relay's page, which frames
// stately.ai/inspect and hands it the events. What is sent is sanitized: no environment
// variables, no command lines (they can hold secrets), no encoder output.
import { randomBytes } from 'node:crypto';
import { type IncomingMessage, type Server, createServer } from 'node:http';
import { createWebSocketInspector } from '@statelyai/inspect';
import type { InspectionEvent } from 'xstate';
import { WebSocket, WebSocketServer } from 'ws';
import { hostOfHeader, isLoopback } from './api/host-names.js';
import { setSecurityHeaders } from './api/security-headers.js';
import { tokenMatches } from './api/token.js';

const INSPECTOR_URL = 'https://stately.ai/inspect';
// Events kept for a viewer that connects later, and the most one message may carry.
const REPLAYED_EVENTS = 200;
const MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * Any inspection event (or context) as JSON without what may be secret, wherever it sits: a job
 * record can appear in a context, an event, an actor's input or a snapshot, so every `env` is
 * reduced to its names, every `command` to its program, every `logTail` emptied, and the
 * supervisor's waiting line to its size.
 */
export function sanitizeInspection(value: unknown): unknown {
  const seen = new WeakSet<object>();
  const text = JSON.stringify(value, function (this: unknown, key: string, field: unknown) {
    if (field !== null && typeof field === 'object') {
      if (seen.has(field)) return '[circular]';
      seen.add(field);
    }
    if (key === 'env' && field !== null && typeof field === 'object') return Object.keys(field);
    if (key === 'command' && Array.isArray(field)) return [String(field[0] ?? '')];
    if (key === 'logTail') return [];
    if (key === 'queue' && field !== null && typeof field === 'object' && 'size' in field) return { waiting: (field as { size: number }).size };
    return field;
  });
  return text === undefined ? undefined : JSON.parse(text);
}

export interface Inspection {
  inspect: (event: InspectionEvent) => void;
  /** The page to open in a browser (carries the token). */
  url: string;
  stop(): Promise<void>;
}

export async function startInspection(port: number, token: string | null): Promise<Inspection> {
  const relay = await startRelay(port, token);
  const query = token === null ? '' : `?token=${encodeURIComponent(token)}`;
  const inspector = createWebSocketInspector({
    url: `ws://127.0.0.1:${relay.port}/${query}`,
    // The whole event, after the package has turned actor references into ids.
    serialize: (event) => sanitizeInspection(event) as typeof event,
  });
  return {
    inspect: inspector.inspect as (event: InspectionEvent) => void,
    url: `http://127.0.0.1:${relay.port}/${query}`,
    stop: async () => {
      inspector.stop();
      await relay.stop();
    },
  };
}

async function startRelay(port: number, token: string | null) {
  const allowed = (request: IncomingMessage, url: URL) => {
    const host = hostOfHeader(request.headers.host ?? '');
    return host !== null && isLoopback(host) && (token === null || tokenMatches(url.searchParams.get('token'), token));
  };
  const server: Server = createServer((request, response) => {
    setSecurityHeaders(response);
    const url = safeUrl(request.url);
    if (!url || !allowed(request, url)) {
      response.writeHead(401, { 'content-type': 'text/plain; charset=utf-8' });
      return response.end('open the inspector link that the daemon logged at start (it carries the token)\n');
    }
    const nonce = randomBytes(16).toString('base64');
    response.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; frame-src ${INSPECTOR_URL}; connect-src ws://127.0.0.1:* ws://localhost:*; frame-ancestors 'none'`,
    });
    response.end(bridgePage(nonce, token === null ? '' : `?token=${encodeURIComponent(token)}`));
  });
  const sockets = new WebSocketServer({
    server,
    maxPayload: MAX_MESSAGE_BYTES,
    verifyClient: ({ req, origin }: { req: IncomingMessage; origin: string | undefined }) => {
      const url = safeUrl(req.url);
      // The daemon's own client sends no Origin; a browser must be on the relay's own page.
      const originOk = !origin || (safeUrl(origin)?.host ?? '') === (req.headers.host ?? '').toLowerCase();
      return url !== null && originOk && allowed(req, url);
    },
  });
  const replay: string[] = [];
  sockets.on('connection', (socket) => {
    for (const message of replay) socket.send(message);
    socket.on('message', (data) => {
      const message = data.toString();
      replay.push(message);
      if (replay.length > REPLAYED_EVENTS) replay.shift();
      for (const client of sockets.clients) {
        if (client !== socket && client.readyState === WebSocket.OPEN && client.bufferedAmount < MAX_MESSAGE_BYTES * 4) client.send(message);
      }
    });
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as { port: number }).port,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const client of sockets.clients) client.terminate();
        sockets.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function safeUrl(text: string | undefined): URL | null {
  try {
    return text === undefined ? null : new URL(text, 'http://relay.invalid');
  } catch {
    return null;
  }
}

/** The relay's page: frames the Stately inspector and forwards each event into it. */
function bridgePage(nonce: string, query: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>encsup: Stately inspector</title>
<style nonce="${nonce}">html, body, iframe { margin: 0; width: 100%; height: 100%; border: 0; }</style></head>
<body><iframe id="inspector" src="${INSPECTOR_URL}"></iframe>
<script nonce="${nonce}">
  const frame = document.getElementById('inspector');
  const waiting = [];
  let connected = false;
  addEventListener('message', (event) => {
    if (event.origin === ${JSON.stringify(new URL(INSPECTOR_URL).origin)} && event.data && event.data.type === '@statelyai.connected') {
      connected = true;
      waiting.splice(0).forEach((data) => frame.contentWindow.postMessage(data, ${JSON.stringify(new URL(INSPECTOR_URL).origin)}));
    }
  });
  const socket = new WebSocket('ws://' + location.host + '/' + ${JSON.stringify(query)});
  socket.onmessage = (event) => {
    const data = JSON.parse(event.data);
    if (connected) frame.contentWindow.postMessage(data, ${JSON.stringify(new URL(INSPECTOR_URL).origin)});
    else waiting.push(data);
  };
</script></body></html>`;
}

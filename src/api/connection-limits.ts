// How many HTTP connections the daemon holds at once, and how long it waits for a request. Every
// connection is a file descriptor, and so is every encoder's terminal or pipe, its log and the
// store: a client that opens connections without end (a leak in a platform's worker, a script gone
// wrong) would otherwise take the last descriptors, and the next encoder would fail to start
// ("Too many open files") and spend the job's attempts. So the API takes at most a quarter of the
// descriptors the daemon may open, and a connection that has not sent its request's headers
// within a few seconds is closed, as is one that has sent nothing at all.
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** Whatever the limit, so many connections are always possible: the CLI, a dashboard, a platform. */
const MIN_CONNECTIONS = 16;
/** Far more than any box's clients need; past it a connection costs memory for nothing. */
const MAX_CONNECTIONS = 1024;
const SHARE_OF_DESCRIPTORS = 4;

/** A request's headers are a few hundred bytes: a client that takes longer than this is not sending them. */
export const HEADERS_TIMEOUT_MS = 10_000;
/** A whole request, body included (at most 1 MiB). */
export const REQUEST_TIMEOUT_MS = 30_000;
/** How often Node looks for connections past those times. */
const CHECK_EVERY_MS = 2_000;

/** The soft "Max open files" of /proc/self/limits (null: unlimited, or not Linux). */
export function openFilesLimit(limits: string): number | null {
  const soft = /^Max open files\s+(\S+)/m.exec(limits)?.[1];
  if (soft === undefined || soft === 'unlimited') return null;
  const value = Number(soft);
  return Number.isSafeInteger(value) && value > 0 ? value : null;
}

/** The most connections the API holds at once, for a process that may open `openFiles` descriptors. */
export function connectionCap(openFiles: number | null): number {
  if (openFiles === null) return MAX_CONNECTIONS;
  return Math.min(MAX_CONNECTIONS, Math.max(MIN_CONNECTIONS, Math.floor(openFiles / SHARE_OF_DESCRIPTORS)));
}

function readOpenFilesLimit(): number | null {
  try {
    return openFilesLimit(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return null;
  }
}

/** Node's createServer options for the waits above. */
export const REQUEST_WAITS = {
  headersTimeout: HEADERS_TIMEOUT_MS,
  requestTimeout: REQUEST_TIMEOUT_MS,
  connectionsCheckingInterval: CHECK_EVERY_MS,
} as const;

/**
 * Caps the server's connections by this process's own open-files limit, and closes a connection
 * that has not made its first request within the headers' time (Node's own wait for the headers
 * starts only at a request's first byte: a connection that sends nothing would be held for good).
 * Returns the cap.
 */
export function limitConnections(server: Server, openFiles: number | null = readOpenFilesLimit()): number {
  server.maxConnections = connectionCap(openFiles);
  const awaitingRequest = new WeakMap<Socket, NodeJS.Timeout>();
  server.on('connection', (socket: Socket) => {
    // Later than Node's own check would answer a request begun at once: that one is told 408.
    const timer = setTimeout(() => socket.destroy(), HEADERS_TIMEOUT_MS + 2 * CHECK_EVERY_MS);
    timer.unref();
    awaitingRequest.set(socket, timer);
    socket.once('close', () => clearTimeout(timer));
  });
  server.on('request', ({ socket }: { socket: Socket }) => {
    clearTimeout(awaitingRequest.get(socket));
    awaitingRequest.delete(socket);
  });
  return server.maxConnections;
}

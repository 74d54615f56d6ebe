// What every request must pass before a route runs, in this order: a Host the daemon answers to
// (DNS rebinding), a request from the daemon's own pages or from no browser at all (cross-site
// requests: another loopback port is "same-site" to a browser, so origins are compared exactly),
// a JSON content type on every change (no HTML form or no-cors fetch can send one), and the token.
import type { IncomingMessage } from 'node:http';
import { type HostPolicy, hostOfHeader } from './host-names.js';
import { ApiError } from './http.js';
import { tokenMatches } from './token.js';

export interface GuardOptions {
  hosts: HostPolicy;
  /** null when the daemon runs with --no-auth. */
  token: string | null;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The dashboard's cookie, named per port: cookies are shared by every port of a host. */
export function cookieName(port: number): string {
  return `encsup-${port}`;
}

export function checkHost(request: IncomingMessage, options: GuardOptions): ApiError | null {
  const header = request.headers.host;
  const host = header === undefined ? null : hostOfHeader(header);
  if (host === null) return new ApiError(400, 'the Host header is missing or malformed');
  if (!options.hosts.allows(host)) {
    return new ApiError(403, `this daemon does not answer to the name "${host}": add it with --allowed-hosts (ENCSUP_ALLOWED_HOSTS) if it is yours`);
  }
  return null;
}

/**
 * Browsers say where a request comes from (Origin, Sec-Fetch-Site); clients that are not
 * browsers (the CLI, curl, other hosts) send neither and are judged by their token alone.
 */
export function checkSameOrigin(request: IncomingMessage, path: string): ApiError | null {
  const origin = request.headers.origin;
  const site = request.headers['sec-fetch-site'];
  const method = request.method ?? 'GET';
  if (origin !== undefined) {
    if (!sameOrigin(origin, request.headers.host ?? '')) return new ApiError(403, `requests from ${origin} are refused: only this daemon's own pages may call it`);
    return null;
  }
  if (site === undefined || site === 'same-origin' || site === 'none') return null;
  // Following a link to the dashboard from another site is fine; fetching from it is not.
  const isNavigation = method === 'GET' && request.headers['sec-fetch-mode'] === 'navigate' && !path.startsWith('/api/');
  return isNavigation ? null : new ApiError(403, `a ${site} request is refused: only this daemon's own pages may call it`);
}

function sameOrigin(origin: string, hostHeader: string): boolean {
  if (origin === 'null') return false;
  try {
    // The scheme is not compared: behind a TLS proxy the page is https and the daemon http.
    return new URL(origin).host.toLowerCase() === hostHeader.toLowerCase();
  } catch {
    return false;
  }
}

/**
 * A change must say it is JSON: an HTML form or a no-cors fetch cannot, so neither can trigger one.
 * The body is read as plain UTF-8 (RFC 8259), so a body that says it is in another charset or
 * compressed is refused by name rather than misread into a parse error about its first byte.
 */
export function checkChangeIsJson(request: IncomingMessage): ApiError | null {
  if (SAFE_METHODS.has(request.method ?? 'GET')) return null;
  const [type = '', ...parameters] = (request.headers['content-type'] ?? '').split(';').map((part) => part.trim().toLowerCase());
  if (type !== 'application/json') {
    return new ApiError(415, `${request.method} needs content-type: application/json (send {} when there is nothing to say)`, 'content-type');
  }
  const charset = parameters.find((parameter) => parameter.startsWith('charset='))?.slice('charset='.length).replace(/^"(.*)"$/, '$1');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    return new ApiError(415, `the body must be UTF-8 JSON, not charset=${charset}`, 'content-type');
  }
  const encoding = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity') {
    return new ApiError(415, `the body must be sent uncompressed, not content-encoding: ${encoding}`, 'content-encoding');
  }
  return null;
}

/** The token from `Authorization: Bearer`, else from the dashboard's cookie. */
export function presentedToken(request: IncomingMessage, port: number): string | null {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice('Bearer '.length).trim();
  return readCookie(request.headers.cookie, cookieName(port));
}

export function isAuthenticated(request: IncomingMessage, options: GuardOptions, port: number): boolean {
  return options.token === null || tokenMatches(presentedToken(request, port), options.token);
}

function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return null;
}

/** The dashboard's login cookie: script can't read it, and no other site's request carries it. */
export function loginCookie(port: number, token: string): string {
  return `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}

export function logoutCookie(port: number): string {
  return `${cookieName(port)}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
}

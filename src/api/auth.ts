// Who may use the API. On loopback anyone on the machine may, as with any local daemon; bound to
// another address (--host) the daemon needs a token (ENCSUP_TOKEN), sent as `Authorization: Bearer`
// or, where a browser can't set headers (the dashboard's first load, EventSource), as `?token=`.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function presentedToken(request: IncomingMessage, url: URL): string | null {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice('Bearer '.length).trim();
  return url.searchParams.get('token');
}

export function tokenMatches(presented: string | null, expected: string): boolean {
  if (presented === null) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

// Headers on every response: no framing (clickjacking of the cancel buttons), no content sniffing,
// no Referer carrying a job page's address elsewhere, nothing cached.
import type { ServerResponse } from 'node:http';

const EVERY_RESPONSE: Record<string, string> = {
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

// API answers are data, never a document: a browser that opens one runs and loads nothing.
const API_POLICY = "default-src 'none'; frame-ancestors 'none'";
// The dashboard runs only its own files: encoder output can never become markup that runs.
export const PAGE_POLICY = "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

export function setSecurityHeaders(response: ServerResponse): void {
  for (const [name, value] of Object.entries(EVERY_RESPONSE)) response.setHeader(name, value);
  response.setHeader('content-security-policy', API_POLICY);
}

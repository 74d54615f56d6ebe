// The dashboard's files, served by the daemon itself so it works offline (no CDN). They live in
// src/dashboard/ (plain HTML, CSS and JavaScript: no build step), found in the package however the
// code runs (encsup-package.ts).
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageFile } from '../encsup-package.js';
import { ApiError, sendError } from './http.js';
import { PAGE_POLICY } from './security-headers.js';

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

const DASHBOARD_DIR = dirname(packageFile('src', 'dashboard', 'index.html') ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'dashboard', 'index.html'));

export async function serveDashboardFile(response: ServerResponse, name: string, status = 200): Promise<void> {
  const type = TYPES[extname(name)];
  if (!type) return sendError(response, new ApiError(404, `no such dashboard file: ${name}`));
  try {
    const body = await readFile(join(DASHBOARD_DIR, name));
    response.writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'content-security-policy': PAGE_POLICY });
    response.end(body);
  } catch {
    sendError(response, new ApiError(404, `no such dashboard file: ${name}`));
  }
}

// A real daemon for a test: real store file in a temporary folder, real pty runner, a real HTTP
// server on a free loopback port.
import type { Job } from '../../machines/job-record.js';
import { ApiClient } from '../../src/api/client.js';
import { type ConfigFlags, resolveConfig } from '../../src/config.js';
import { type Daemon, startDaemon } from '../../src/daemon.js';
import { type Deps, createDefaultDeps } from '../../src/deps.js';
import { silentLogger } from '../../src/logger.js';
import { type TempDir, tempDir } from './temp.js';
import { until } from './wait.js';

export interface TestDaemon {
  daemon: Daemon;
  api: ApiClient;
  url: string;
  token: string;
  /** fetch with the daemon's token, as the CLI sends it. */
  authed: (path: string, init?: RequestInit) => Promise<Response>;
  close: () => Promise<void>;
}

export async function startTestDaemon(dataDir: string, flags: ConfigFlags = {}, deps: Partial<Deps> = {}): Promise<TestDaemon> {
  const config = resolveConfig({ port: 0, killGraceSec: 2, ...flags, dataDir }, {});
  const daemon = await startDaemon(config, createDefaultDeps({ logger: silentLogger, ...deps }));
  const token = daemon.token ?? '';
  return {
    daemon,
    api: new ApiClient(daemon.url, daemon.token),
    url: daemon.url,
    token,
    authed: (path, init = {}) => authedFetch(daemon.url, token, path, init),
    close: () => daemon.close(),
  };
}

/** A request as a non-browser client sends it: the bearer token, and JSON for every change. */
export function authedFetch(url: string, token: string, path: string, init: RequestInit = {}): Promise<Response> {
  const isChange = (init.method ?? 'GET') !== 'GET';
  return fetch(new URL(path, url), {
    ...init,
    headers: { ...(isChange ? { 'content-type': 'application/json' } : {}), authorization: `Bearer ${token}`, ...(init.headers as Record<string, string> | undefined) },
  });
}

/**
 * Runs `body` against a fresh daemon with its data in a temporary folder, then closes the daemon
 * and removes the folder, whatever the body did.
 */
export async function withTestDaemon(flags: ConfigFlags, body: (daemon: TestDaemon & { dir: TempDir }) => Promise<void>, deps: Partial<Deps> = {}): Promise<void> {
  const dir = tempDir();
  const daemon = await startTestDaemon(dir.path, flags, deps);
  try {
    await body({ ...daemon, dir });
  } finally {
    await daemon.close();
    dir.remove();
  }
}

export async function waitForStatus(api: ApiClient, id: string, statuses: Job['status'][], timeoutMs = 30_000): Promise<Job> {
  let last: Job | null = null;
  try {
    return await until(async () => {
      last = await api.get(id);
      return statuses.includes(last.status) ? last : null;
    }, `job ${id} to be ${statuses.join(' or ')}`, timeoutMs);
  } catch (error) {
    // Where it was instead says which step took the time.
    const seen: Job | null = last;
    if (seen === null || !(error instanceof Error)) throw error;
    const { status, attempts, pid, exitCode, signal, terminationReason, timedOutAt, error: reason } = seen;
    error.message += `; last seen ${JSON.stringify({ status, attempts, pid, exitCode, signal, terminationReason, timedOutAt, error: reason })}`;
    throw error;
  }
}

export async function postRaw(daemon: Pick<TestDaemon, 'authed'>, path: string, body: string): Promise<{ status: number; json: { error: string; field?: string } }> {
  const response = await daemon.authed(path, { method: 'POST', body });
  return { status: response.status, json: (await response.json()) as { error: string; field?: string } };
}

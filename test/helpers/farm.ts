// Hosts of a farm for the tests: real daemon processes on one PostgreSQL database, each with its
// own data folder; a /proc sampler that sees every encoder run (by its run tag) on the machine; and
// a TCP proxy between one host and the database that can be cut (a network partition).
import { type Socket, createServer, connect } from 'node:net';
import { join } from 'node:path';
import { ApiClient } from '../../src/api/client.js';
import { readTokenFileSync } from '../../src/api/token.js';
import { taggedProcesses } from '../../src/runner/process-tag.js';
import { type DaemonProcess, spawnDaemon } from './daemon-process.js';

export interface Host extends DaemonProcess {
  name: string;
  api: ApiClient;
  dataDir: string;
  /** Ends the daemon (SIGTERM) and waits for its exit. */
  stop(): Promise<void>;
  /** True once its log has a line with this message. */
  logged(message: string | RegExp): boolean;
}

export async function startHost(root: string, name: string, storeUrl: string, args: string[] = []): Promise<Host> {
  const dataDir = join(root, name);
  const daemon = await spawnDaemon(dataDir, ['--store', storeUrl, '--host-name', name, ...args]);
  const api = new ApiClient(daemon.url, readTokenFileSync(dataDir));
  return {
    ...daemon,
    name,
    api,
    dataDir,
    async stop() {
      if (daemon.child.exitCode === null && daemon.child.signalCode === null) {
        daemon.child.kill('SIGCONT');
        daemon.child.kill('SIGTERM');
      }
      await daemon.exited;
    },
    logged: (message) => daemon.stdout().split('\n').some((line) => (typeof message === 'string' ? line.includes(message) : message.test(line))),
  };
}

export async function stopHosts(hosts: Host[]): Promise<void> {
  await Promise.all(hosts.map((host) => host.stop()));
}

/**
 * Samples every encoder run on the machine from /proc (each run's processes carry its tag:
 * folder/job/attempt). It records any moment when one job has runs of two different tags alive
 * (two encoders of one job), and the most runs each data folder (host) had at once.
 */
export interface SampledRuns {
  overlaps: string[];
  mostAtOnce: Map<string, number>;
  runsOf: Map<string, Set<string>>;
  /** When each run (tag) was first and last seen alive, in ms (performance.now()). */
  seen: Map<string, { first: number; last: number }>;
}

export function sampleRuns(everyMs = 20): { read(): SampledRuns; stop(): SampledRuns } {
  const overlaps: string[] = [];
  const seen = new Map<string, { first: number; last: number }>();
  const mostAtOnce = new Map<string, number>();
  const runsOf = new Map<string, Set<string>>();
  const timer = setInterval(() => {
    const tags = new Set(taggedProcesses(() => true).map((found) => found.tag));
    const now = performance.now();
    for (const tag of tags) seen.set(tag, { first: seen.get(tag)?.first ?? now, last: now });
    const byJob = new Map<string, string[]>();
    const byFolder = new Map<string, number>();
    for (const tag of tags) {
      const [folder, job] = tag.split('/');
      byJob.set(job!, [...(byJob.get(job!) ?? []), tag]);
      byFolder.set(folder!, (byFolder.get(folder!) ?? 0) + 1);
      runsOf.set(job!, (runsOf.get(job!) ?? new Set()).add(tag));
    }
    for (const [job, runs] of byJob) if (runs.length > 1) overlaps.push(`${job}: ${runs.join(' and ')} at ${new Date().toISOString()}`);
    for (const [folder, count] of byFolder) mostAtOnce.set(folder, Math.max(mostAtOnce.get(folder) ?? 0, count));
  }, everyMs);
  return {
    read: () => ({ overlaps, mostAtOnce, runsOf, seen }),
    stop() {
      clearInterval(timer);
      return { overlaps, mostAtOnce, runsOf, seen };
    },
  };
}

export interface Proxy {
  port: number;
  /** Drops every connection and refuses new ones, until `heal`. */
  cut(): void;
  heal(): void;
  close(): Promise<void>;
}

/** A TCP proxy to `target` (host:port) on a loopback port, that can be cut. */
export async function tcpProxy(targetHost: string, targetPort: number): Promise<Proxy> {
  const sockets = new Set<Socket>();
  let cut = false;
  const server = createServer((client) => {
    if (cut) return void client.destroy();
    const upstream = connect(targetPort, targetHost);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    cut() {
      cut = true;
      for (const socket of sockets) socket.destroy();
    },
    heal() {
      cut = false;
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The URL with its host and port swapped for the proxy's. */
export function throughProxy(url: string, port: number): string {
  const parsed = new URL(url);
  parsed.hostname = '127.0.0.1';
  parsed.port = String(port);
  return parsed.toString();
}

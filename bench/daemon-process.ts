// A real `encsup daemon` process, as it runs in production (the built JavaScript in dist/, not
// through tsx), for the figures measured from outside: start time, memory, CPU, throughput.
import { readFileSync } from 'node:fs';
import type { ApiClient } from '../src/api/client.js';
import { readTokenFileSync } from '../src/api/token.js';
import { spawnDaemon } from '../test/helpers/daemon-process.js';
import { processCpu } from './lib.js';

export interface DaemonProcess {
  url: string;
  /** The token the daemon keeps in its data folder, as the CLI reads it. */
  token: string | null;
  /** Seconds from spawn to its "started" log line. */
  pid: number;
  startSeconds: number;
  rssMb: () => number;
  /** CPU seconds of the daemon itself, and of its reaped children (the encoders). */
  cpu: () => { self: number; children: number };
  stop: () => Promise<void>;
}

export async function startDaemonProcess(dataDir: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<DaemonProcess> {
  const started = performance.now();
  const daemon = await spawnDaemon(dataDir, args, env, 'built');
  const startSeconds = (performance.now() - started) / 1000;
  const pid = daemon.child.pid!;
  return {
    pid,
    url: daemon.url,
    token: readTokenFileSync(dataDir),
    startSeconds,
    rssMb: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024,
    cpu: () => processCpu(pid),
    stop: async () => {
      daemon.child.kill('SIGTERM');
      await daemon.exited;
    },
  };
}

/**
 * Runs `submit` (which names each job it submits) and waits until every job it submitted has
 * ended, told by the event stream (its end events only): no polling, so the daemon and its
 * encoders have the cores to themselves. Rejects when a job ends other than done.
 */
export async function runToEnd(api: ApiClient, submit: (submitted: (id: string) => void) => Promise<void>): Promise<void> {
  const ids = new Set<string>();
  // Every end heard, submitted by this call or not yet known to be: an end may be heard before its
  // submission is answered.
  const ended = new Set<string>();
  const stop = new AbortController();
  let failure: string | null = null;
  let submitting = true;
  let finish: (() => void) | null = null;
  const settle = () => {
    if (!submitting && (failure !== null || [...ids].every((id) => ended.has(id)))) finish?.();
  };
  await new Promise<void>((opened) => {
    api.events(
      null,
      (event) => {
        if (event.type !== 'lifecycle' || !['done', 'failed', 'cancelled'].includes(event.event.kind)) return false;
        if (event.event.kind !== 'done') failure = `${event.event.jobId} ended ${event.event.kind}`;
        ended.add(event.event.jobId);
        settle();
        return false;
      },
      stop.signal,
      async () => opened(),
      // The ends alone, as a platform that waits for its jobs asks: the daemon makes no other frame for it.
      { events: ['lifecycle'], kinds: ['done', 'failed', 'cancelled'] },
    ).catch(() => undefined); // ended by the abort below
  });
  await submit((id) => ids.add(id));
  submitting = false;
  await new Promise<void>((resolve, reject) => {
    finish = () => {
      finish = null;
      stop.abort();
      if (failure) reject(new Error(failure));
      else resolve();
    };
    settle();
  });
}

// A real `encsup daemon` process, as it runs in production (the built JavaScript in dist/, not
// through tsx), for the figures measured from outside: start time, memory, CPU, throughput.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { ApiClient } from '../src/api/client.js';
import { readTokenFileSync } from '../src/api/token.js';
import { daemonUrlFromLog } from '../test/helpers/daemon-process.js';

export interface DaemonProcess {
  url: string;
  /** The token the daemon keeps in its data folder, as the CLI reads it. */
  token: string | null;
  pid: number;
  /** Seconds from spawn to its "started" log line. */
  startSeconds: number;
  rssMb: () => number;
  /** CPU seconds of the daemon itself, and of its reaped children (the encoders). */
  cpu: () => { self: number; children: number };
  stop: () => Promise<void>;
}

const BIN = new URL('../dist/src/cli/bin.js', import.meta.url).pathname;
const TICKS_PER_SECOND = 100;

export async function startDaemonProcess(dataDir: string, args: string[] = []): Promise<DaemonProcess> {
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, 'daemon', '--port', '0', '--data-dir', dataDir, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ENCSUP_LOG_LEVEL: 'info' },
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  // Off a terminal the daemon says where it listens only in its JSON log; the rest is read and dropped.
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const found = daemonUrlFromLog(stdout.slice(0, stdout.lastIndexOf('\n') + 1));
      if (found) {
        stdout = '';
        child.stdout.removeAllListeners('data');
        child.stdout.resume();
        resolve(found);
      }
    });
    child.on('exit', (code) => reject(new Error(`daemon exited ${code}: ${stderr}`)));
  });
  const startSeconds = (performance.now() - started) / 1000;
  const stat = () => {
    const text = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ').map(Number);
  };
  return {
    url,
    token: readTokenFileSync(dataDir),
    pid: child.pid!,
    startSeconds,
    rssMb: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024,
    cpu: () => {
      const fields = stat();
      // Fields 14-17 of /proc/PID/stat (utime stime cutime cstime) are 11-14 after the name.
      return { self: (fields[11]! + fields[12]!) / TICKS_PER_SECOND, children: (fields[13]! + fields[14]!) / TICKS_PER_SECOND };
    },
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * Runs `submit` (which names each job it submits) and waits until every job it submitted has
 * ended, told by the event stream: no polling, so the daemon and its encoders have the cores to
 * themselves. Rejects when a job ends other than done.
 */
export async function runToEnd(api: ApiClient, submit: (submitted: (id: string) => void) => Promise<void>): Promise<void> {
  const ids = new Set<string>();
  const ended = new Set<string>();
  const stop = new AbortController();
  let failure: string | null = null;
  let submitting = true;
  await new Promise<void>((opened) => {
    api.events(
      null,
      (event) => {
        if (event.type !== 'lifecycle' || !['done', 'failed', 'cancelled'].includes(event.event.kind)) return false;
        if (event.event.kind !== 'done') failure = `${event.event.jobId} ended ${event.event.kind}`;
        ended.add(event.event.jobId);
        return false;
      },
      stop.signal,
      async () => opened(),
    ).catch(() => undefined); // ended by the abort below
  });
  await submit((id) => ids.add(id));
  submitting = false;
  await new Promise<void>((resolve, reject) => {
    const check = setInterval(() => {
      if (submitting || (failure === null && ![...ids].every((id) => ended.has(id)))) return;
      clearInterval(check);
      stop.abort();
      if (failure) reject(new Error(failure));
      else resolve();
    }, 5);
  });
}

// The real `encsup daemon` executable as a child process, for tests that kill it or signal it.
import { type ChildProcess, spawn } from 'node:child_process';

export interface DaemonProcess {
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr: () => string;
  /** Its JSON log. */
  stdout: () => string;
}

/**
 * How to run the daemon: from the sources through tsx (tests), the bundled executable in dist/bin
 * (benchmarks), or a bundle made elsewhere (its path).
 */
export type DaemonEntry = 'source' | 'built' | { executable: string };

/** What `npm run build` bundles (scripts/bundle.mjs): the `encsup` executable as it is installed. */
export const BUILT_EXECUTABLE = new URL('../../dist/bin/encsup.js', import.meta.url).pathname;

const ENTRY = {
  source: ['--import', 'tsx', 'src/cli/bin.ts'],
  built: [BUILT_EXECUTABLE],
};

const LISTEN_TIMEOUT_MS = 20_000;

export async function spawnDaemon(
  dataDir: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
  entry: DaemonEntry = 'source',
  limits: { openFiles?: number } = {},
): Promise<DaemonProcess> {
  const command = [process.execPath, ...(typeof entry === 'string' ? ENTRY[entry] : [entry.executable]), 'daemon', '--port', '0', '--data-dir', dataDir, ...args];
  // A lower open-files limit, as a service manager sets one: the shell lowers it and becomes the daemon.
  const [file, ...rest] = limits.openFiles === undefined ? command : ['/bin/sh', '-c', `ulimit -n ${limits.openFiles} && exec "$0" "$@"`, ...command];
  const child = spawn(file!, rest, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ENCSUP_LOG_LEVEL: 'info', ...env },
  });
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // Told as soon as the start line is written (a start time measured on it is exact), or why not.
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${LISTEN_TIMEOUT_MS} ms waiting for the daemon to listen`)), LISTEN_TIMEOUT_MS);
    let listening = false;
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      // Read until the start line, and no more: a daemon logs a line for every change of every
      // job, and reading its whole log again at each chunk took a core of a benchmark's client.
      if (listening) return;
      const found = daemonUrlFromLog(stdout.slice(0, stdout.lastIndexOf('\n') + 1));
      if (found === undefined) return;
      listening = true;
      clearTimeout(timer);
      resolve(found);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the daemon exited with ${code} before listening: ${stderr}`));
    });
  });
  return { url, child, exited, stderr: () => stderr, stdout: () => stdout };
}

/** The daemon's address, from its JSON log's start line. */
export function daemonUrlFromLog(stdout: string): string | undefined {
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { msg?: string; url?: string };
    if (entry.msg === 'encsup daemon started') return entry.url;
  }
  return undefined;
}

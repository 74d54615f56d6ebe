// The real `encsup daemon` executable as a child process, for tests that kill it or signal it.
import { type ChildProcess, spawn } from 'node:child_process';
import { until } from './wait.js';

export interface DaemonProcess {
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr: () => string;
  /** Its JSON log. */
  stdout: () => string;
}

export async function spawnDaemon(dataDir: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<DaemonProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', 'daemon', '--port', '0', '--data-dir', dataDir, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ENCSUP_LOG_LEVEL: 'info', ...env },
  });
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  const url = await until(() => {
    if (exitCode !== undefined) throw new Error(`the daemon exited with ${exitCode} before listening: ${stderr}`);
    return daemonUrlFromLog(stdout);
  }, 'the daemon to listen', 20_000);
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

// The only door to node-pty. Encoders run in a real terminal so they print live progress; the pty
// makes each one a session leader, so its pid is also its process group id.
import { constants } from 'node:os';
import * as pty from 'node-pty';

export interface PtyExit {
  exitCode: number | null;
  signal: string | null;
}

export interface PtyProcess {
  pid: number;
  onData(listener: (chunk: string) => void): void;
  onExit(listener: (exit: PtyExit) => void): void;
}

export interface PtySpawnOptions {
  cwd: string;
  env: Record<string, string>;
}

export type SpawnPty = (file: string, args: string[], options: PtySpawnOptions) => PtyProcess;

// Wide enough that tools which size their bars to the terminal (tqdm) print whole lines.
const COLUMNS = 160;
const ROWS = 40;

export const spawnPty: SpawnPty = (file, args, options) => {
  const child = pty.spawn(file, args, { name: 'xterm-256color', cols: COLUMNS, rows: ROWS, cwd: options.cwd, env: options.env });
  return {
    pid: child.pid,
    onData: (listener) => void child.onData(listener),
    onExit: (listener) =>
      void child.onExit(({ exitCode, signal }) => {
        const signalName = signal ? signalNameOf(signal) : null;
        listener({ exitCode: signalName ? null : exitCode, signal: signalName });
      }),
  };
};

function signalNameOf(signal: number): string {
  const entry = Object.entries(constants.signals).find(([, number]) => number === signal);
  return entry ? entry[0] : `signal ${signal}`;
}

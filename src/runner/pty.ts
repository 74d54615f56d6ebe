// The only door to node-pty. Encoders run in a real terminal so they print live progress; the pty
// makes each one a session leader, so its pid is also its process group id.
import { constants } from 'node:os';
import * as pty from 'node-pty';
import { type SpawnProcess, signalName } from './child-process.js';

// Wide enough that tools which size their bars to the terminal (tqdm) print whole lines.
const COLUMNS = 160;
const ROWS = 40;

export const spawnPty: SpawnProcess = (file, args, options) => {
  const child = pty.spawn(file, args, { name: 'xterm-256color', cols: COLUMNS, rows: ROWS, cwd: options.cwd, env: options.env });
  return {
    pid: child.pid,
    onData: (listener) => void child.onData(listener),
    onExit: (listener) =>
      // node-pty tells the exit once the terminal's output has closed (read to EIO): no byte comes
      // after it, so there is nothing to wait for (800 runs of fast output, none late).
      void child.onExit(({ exitCode, signal }) => {
        const name = signal ? signalName(signal, constants.signals) : null;
        listener({ exitCode: name ? null : exitCode, signal: name });
      }),
  };
};

// Running `encsup` in-process as a user would, with its output captured.
import { type CliIo, runCli } from '../../src/cli/main.js';
import { until } from './wait.js';

function captureIo(env: NodeJS.ProcessEnv, stopSignal: () => Promise<string>) {
  const out = { stdout: '', stderr: '' };
  const io: CliIo = {
    stdout: (text) => (out.stdout += text),
    stderr: (text) => (out.stderr += text),
    env,
    cwd: process.cwd(),
    stdin: () => (async function* () {})(),
    stopSignal,
  };
  return { io, out };
}

export async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const { io, out } = captureIo(env, () => new Promise(() => undefined));
  const code = await runCli(args, io);
  return { code, ...out };
}

/** A long-running command (watch, watch-output) started, to be stopped as Ctrl-C would. */
export async function cliUntilStopped(args: string[], env: NodeJS.ProcessEnv = {}) {
  let stop: ((signal: string) => void) | undefined;
  const { io, out } = captureIo(env, () => new Promise((resolve) => (stop = resolve)));
  const exited = runCli(args, io);
  await until(() => stop !== undefined, `${args.join(' ')} to start`);
  return { out, exited, stop: () => stop!('SIGINT') };
}

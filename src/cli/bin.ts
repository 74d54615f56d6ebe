#!/usr/bin/env node
// The `encsup` executable: the only place that reads process.argv, listens for signals and exits.
import { runCli } from './main.js';

const code = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
  stdin: () => process.stdin,
  ...(process.stdout.isTTY ? { terminal: process.stdout } : {}),
  stopSignal: () =>
    new Promise((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    }),
});
process.exitCode = code;
// Leave time for output to drain, but never hang on a handle someone forgot to close.
setTimeout(() => process.exit(code), 2000).unref();

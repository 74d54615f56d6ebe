// Structured logs through pino: JSON lines on standard output, with the job id (`jobId`) on every
// line that concerns a job; human-readable (pino-pretty) when the output is a terminal.
import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';

export type { Logger };

export function createLogger(options: { level?: string; pretty?: boolean } = {}): Logger {
  // An empty variable is no choice: the default.
  const level = options.level || process.env['ENCSUP_LOG_LEVEL'] || 'info';
  const pretty = options.pretty ?? process.stdout.isTTY === true;
  return pretty
    ? pino({ level, base: { app: 'encsup' } }, prettyStream())
    : pino({ level, base: { app: 'encsup' } }, pino.destination({ dest: 1, sync: false, maxLength: LOG_BUFFER_BYTES }));
}

// Lines are written off the event loop (pino's asynchronous destination, flushed on exit): a
// write to a pipe per line was a tenth of a short job's cost. A reader that stops reading costs
// at most this much memory; lines past it are dropped, not waited for, as a blocked write would
// stall every job.
const LOG_BUFFER_BYTES = 16 * 1024 * 1024;

// pino-pretty in this thread, as a stream, not as a pino transport: a transport is a worker that
// pino starts from a file path next to its own module, which the bundled executable (dist/bin) does
// not have. Loaded only here, so a daemon whose output is not a terminal never reads it.
function prettyStream(): PinoPretty.PrettyStream {
  const build = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
  return build({ colorize: true, ignore: 'app,pid,hostname', translateTime: 'SYS:HH:MM:ss' });
}

export const silentLogger: Logger = pino({ level: 'silent' });

// Structured logs through pino: JSON lines on standard output, with the job id (`jobId`) on every
// line that concerns a job; human-readable (pino-pretty) when the output is a terminal.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(options: { level?: string; pretty?: boolean } = {}): Logger {
  // An empty variable is no choice: the default.
  const level = options.level || process.env['ENCSUP_LOG_LEVEL'] || 'info';
  const pretty = options.pretty ?? process.stdout.isTTY === true;
  return pretty
    ? pino({ level, base: { app: 'encsup' }, transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'app,pid,hostname', translateTime: 'SYS:HH:MM:ss' } } })
    : pino({ level, base: { app: 'encsup' } });
}

export const silentLogger: Logger = pino({ level: 'silent' });

// Structured logs through pino: JSON lines, with the job id on every line that concerns a job.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino({ level: options.level ?? process.env['ENCSUP_LOG_LEVEL'] ?? 'info', base: { app: 'encsup' } }, options.destination as never);
}

export const silentLogger: Logger = pino({ level: 'silent' });

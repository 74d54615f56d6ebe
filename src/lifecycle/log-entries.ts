// One log line per lifecycle event, so `journalctl -u encsup` tells each job's story. Every kind
// has its level and message (the type checker asks for a new kind's), as zx's LogEntry does.
import type { Job } from '../../machines/job-record.js';
import type { LifecycleEvent, LifecycleEventOf, LifecycleKind } from '../../machines/lifecycle.js';
import type { Logger } from '../logger.js';

type Level = 'debug' | 'info' | 'warn';
/** A kind's level comes apart from its message, so a line below the logger's level is never built. */
interface Format<K extends LifecycleKind> {
  level: Level | ((event: LifecycleEventOf<K>) => Level);
  message: (event: LifecycleEventOf<K>) => string;
}

const FORMATS: { [K in LifecycleKind]: Format<K> } = {
  submitted: { level: 'info', message: (e) => `job submitted: ${e.name}` },
  started: { level: 'info', message: (e) => (e.external ? 'waiting for the external output' : `attempt ${e.attempt} started`) },
  'encoder-started': { level: 'info', message: (e) => `attempt ${e.attempt}: encoder running as pid ${e.pid}` },
  // Two a second in a long encode: at debug, below the default level.
  progress: { level: 'debug', message: (e) => (e.progress.progress === null ? `frame ${e.progress.frame ?? '?'}, total unknown` : `progress ${e.progress.progress.toFixed(1)} %`) },
  stalled: { level: 'warn', message: (e) => `stalled: nothing new for ${e.stallTimeoutSec} s; ending the encoder` },
  'timed-out': { level: 'warn', message: (e) => `timed out after ${e.timeoutSec} s; ending the encoder` },
  'attempt-ended': { level: (e) => (e.outcome === 'done' ? 'info' : 'warn'), message: (e) => `attempt ${e.attempt} ended: ${e.outcome}${e.reason ? ` (${e.reason})` : ''}` },
  'retry-scheduled': { level: 'info', message: (e) => `attempt ${e.attempt} in ${(e.delayMs / 1000).toFixed(1)} s` },
  'output-ready': { level: 'info', message: (e) => `output complete: ${e.path}` },
  finalized: { level: 'info', message: () => 'checking the output' },
  done: { level: 'info', message: (e) => `job done in ${e.elapsedSeconds.toFixed(1)} s` },
  failed: { level: 'warn', message: (e) => `job failed: ${e.reason}` },
  cancelled: { level: 'info', message: () => 'job cancelled' },
  requeued: { level: 'info', message: (e) => `job queued again (${e.reason})` },
  reprioritized: { level: 'info', message: (e) => `priority now ${e.priority}` },
};

/**
 * Writes each event as one structured line: `jobId`, `kind` and the event's fields; a job's end
 * also says what it made (`output`) and how long it encoded.
 */
export function logLifecycle(log: Logger): (event: LifecycleEvent, job?: Job) => void {
  return (event, job) => {
    const format = FORMATS[event.kind] as Format<LifecycleKind>;
    const level = typeof format.level === 'function' ? format.level(event as never) : format.level;
    if (!log.isLevelEnabled(level)) return;
    const { progress: _progress, ...fields } = event as LifecycleEvent & { progress?: unknown };
    const ending = job && (event.kind === 'done' || event.kind === 'failed' || event.kind === 'cancelled') ? { name: job.name, output: job.output, elapsedSeconds: job.elapsedSeconds, attempts: job.attempts } : {};
    log[level]({ ...fields, ...ending }, format.message(event as never));
  };
}

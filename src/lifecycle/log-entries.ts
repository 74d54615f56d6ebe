// One log line per lifecycle event, so `journalctl -u encsup` tells each job's story. Every kind
// has its formatter (the type checker asks for a new kind's), as zx's LogEntry does.
import type { Job } from '../../machines/job-record.js';
import type { LifecycleEvent, LifecycleEventOf, LifecycleKind } from '../../machines/lifecycle.js';
import type { Logger } from '../logger.js';

type Level = 'debug' | 'info' | 'warn';
type Formatter<K extends LifecycleKind> = (event: LifecycleEventOf<K>) => { level: Level; message: string };

const FORMATTERS: { [K in LifecycleKind]: Formatter<K> } = {
  submitted: (e) => ({ level: 'info', message: `job submitted: ${e.name}` }),
  started: (e) => ({ level: 'info', message: e.external ? 'waiting for the external output' : `attempt ${e.attempt} started` }),
  'encoder-started': (e) => ({ level: 'info', message: `attempt ${e.attempt}: encoder running as pid ${e.pid}` }),
  progress: (e) => ({ level: 'debug', message: e.progress.progress === null ? `frame ${e.progress.frame ?? '?'}, total unknown` : `progress ${e.progress.progress.toFixed(1)} %` }),
  stalled: (e) => ({ level: 'warn', message: `stalled: nothing new for ${e.stallTimeoutSec} s; ending the encoder` }),
  'timed-out': (e) => ({ level: 'warn', message: `timed out after ${e.timeoutSec} s; ending the encoder` }),
  'attempt-ended': (e) => ({ level: e.outcome === 'done' ? 'info' : 'warn', message: `attempt ${e.attempt} ended: ${e.outcome}${e.reason ? ` (${e.reason})` : ''}` }),
  'retry-scheduled': (e) => ({ level: 'info', message: `attempt ${e.attempt} in ${(e.delayMs / 1000).toFixed(1)} s` }),
  'output-ready': (e) => ({ level: 'info', message: `output complete: ${e.path}` }),
  finalized: () => ({ level: 'info', message: 'checking the output' }),
  done: (e) => ({ level: 'info', message: `job done in ${e.elapsedSeconds.toFixed(1)} s` }),
  failed: (e) => ({ level: 'warn', message: `job failed: ${e.reason}` }),
  cancelled: () => ({ level: 'info', message: 'job cancelled' }),
  requeued: (e) => ({ level: 'info', message: `job queued again (${e.reason})` }),
  reprioritized: (e) => ({ level: 'info', message: `priority now ${e.priority}` }),
};

export function formatLifecycle(event: LifecycleEvent): { level: Level; message: string } {
  return (FORMATTERS[event.kind] as Formatter<LifecycleKind>)(event as never);
}

/**
 * Writes each event as one structured line: `jobId`, `kind` and the event's fields; a job's end
 * also says what it made (`output`) and how long it encoded.
 */
export function logLifecycle(log: Logger): (event: LifecycleEvent, job?: Job) => void {
  return (event, job) => {
    // Progress (at debug, two a second in a long encode) is dropped before its message is built.
    if (event.kind === 'progress' && !log.isLevelEnabled('debug')) return;
    const { level, message } = formatLifecycle(event);
    if (!log.isLevelEnabled(level)) return;
    const { progress: _progress, ...fields } = event as LifecycleEvent & { progress?: unknown };
    const ending = job && (event.kind === 'done' || event.kind === 'failed' || event.kind === 'cancelled') ? { name: job.name, output: job.output, elapsedSeconds: job.elapsedSeconds, attempts: job.attempts } : {};
    log[level]({ ...fields, ...ending }, message);
  };
}

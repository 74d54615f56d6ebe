// `encsup daemon --inspect [PORT]`: every actor (the supervisor and each job) is shown live in the
// Stately visual inspector, through @statelyai/inspect's inspector server and WebSocket inspector.
// What is sent is sanitized: no environment variables, no command lines (they can hold secrets).
import { createWebSocketInspector } from '@statelyai/inspect';
import { createInspectorServer } from '@statelyai/inspect/server';
import type { InspectionEvent } from 'xstate';

type Context = Record<string, unknown>;

/** A job's context without what may be secret; the supervisor's waiting line as its size. */
export function sanitizeContext(context: Context): Context {
  const clean: Context = {};
  for (const [key, value] of Object.entries(context)) {
    if (key === 'job' && value && typeof value === 'object') {
      const { env: _env, command, logTail: _logTail, ...job } = value as Context & { command?: unknown[] };
      clean['job'] = { ...job, command: Array.isArray(command) ? [String(command[0] ?? '')] : [] };
    } else if (key === 'queue' && value && typeof value === 'object' && 'size' in value) {
      clean['queue'] = { waiting: (value as { size: number }).size };
    } else {
      clean[key] = value;
    }
  }
  return clean;
}

export function sanitizeEvent<T extends { type: string }>(event: T): T {
  if ('job' in event && event.job && typeof event.job === 'object') return { ...event, job: sanitizeContext({ job: event.job })['job'] };
  return event;
}

export interface Inspection {
  inspect: (event: InspectionEvent) => void;
  stop(): void;
}

export function startInspection(port: number): Inspection {
  const server = createInspectorServer({ port, autoOpen: false });
  const inspector = createWebSocketInspector({
    url: `ws://localhost:${port}`,
    sanitizeContext: (context) => sanitizeContext(context as Context),
    sanitizeEvent: (event) => sanitizeEvent(event),
  });
  return {
    inspect: inspector.inspect as (event: InspectionEvent) => void,
    stop: () => {
      inspector.stop();
      server.stop();
    },
  };
}

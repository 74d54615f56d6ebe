// Which frames of the event stream a client asked for (GET /api/events?job=&events=&kinds=&status=):
// each filter it gave narrows what it gets; a filter it did not give lets everything through.
import type { JobStatus } from '../../machines/job-record.js';
import type { LifecycleKind } from '../../machines/lifecycle.js';
import type { EventFrame, EventsQuery } from './operations.js';

/** A frame as the filters see it: its type, its job (null: none), and the kind or status it carries. */
export interface FrameFacts {
  type: EventFrame;
  jobId: string | null;
  kind?: LifecycleKind;
  status?: JobStatus;
}

export function wantsFrame(query: EventsQuery, frame: FrameFacts): boolean {
  if (query.job !== undefined && query.job !== frame.jobId) return false;
  if (query.events !== undefined && !query.events.has(frame.type)) return false;
  if (frame.kind !== undefined && query.kinds !== undefined && !query.kinds.has(frame.kind)) return false;
  return frame.status === undefined || query.status === undefined || query.status.has(frame.status);
}

// The job machine's graph at the level of the statuses a client sees, read from the machine
// definition itself, so the dashboard's statechart (GET /api/machine) can never drift from it.
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { FINISHED_STATUSES, JOB_STATUSES, type JobStatus } from './job-record.js';

export interface StatusTransition {
  from: JobStatus;
  to: JobStatus;
  /** What makes it happen: event names, `after <delay>`, the output check's verdict. */
  events: string[];
}

export interface JobGraph {
  statuses: readonly JobStatus[];
  finished: readonly JobStatus[];
  transitions: StatusTransition[];
}

/** The status each top-level state of the job machine reports. */
const STATUS_OF_STATE: Record<string, JobStatus | 'transient'> = {
  queued: 'queued',
  running: 'encoding',
  awaitingExternalOutput: 'encoding',
  waitingForOutput: 'finalizing',
  finalizing: 'finalizing',
  attemptFailed: 'transient',
  done: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
  retrying: 'queued',
  interrupted: 'queued',
};

// Made by the supervisor, not the job machine: a failed or cancelled job queued again by hand.
const MANUAL_RETRY: StatusTransition[] = [
  { from: 'failed', to: 'queued', events: ['RETRY'] },
  { from: 'cancelled', to: 'queued', events: ['RETRY'] },
];

export function describeJobGraph(machine: AnyStateMachine): JobGraph {
  const edges = new Map<string, StatusTransition>();
  const add = (from: JobStatus, to: JobStatus, event: string) => {
    if (from === to) return;
    const key = `${from}>${to}`;
    const edge = edges.get(key) ?? { from, to, events: [] };
    if (!edge.events.includes(event)) edge.events.push(event);
    edges.set(key, edge);
  };
  const targetsOf = (node: AnyStateNode): AnyStateNode[] =>
    // A transient state stands for where it goes at once.
    statusOf(node) === 'transient' ? (node.always ?? []).flatMap((transition) => (transition.target ?? []).flatMap(targetsOf)) : [node];
  const visit = (node: AnyStateNode) => {
    const from = statusOf(node);
    if (from !== 'transient' && from !== null) {
      for (const [type, transitions] of node.transitions) {
        for (const transition of transitions) {
          for (const target of (transition.target ?? []).flatMap(targetsOf)) {
            const to = statusOf(target);
            if (to !== null && to !== 'transient') add(from, to, eventLabel(type));
          }
        }
      }
    }
    Object.values(node.states).forEach(visit);
  };
  visit(machine.root);
  for (const edge of MANUAL_RETRY) add(edge.from, edge.to, edge.events[0]!);
  return { statuses: JOB_STATUSES, finished: FINISHED_STATUSES, transitions: [...edges.values()] };
}

function statusOf(node: AnyStateNode): JobStatus | 'transient' | null {
  const top = node.path[0];
  return top === undefined ? null : (STATUS_OF_STATE[top] ?? null);
}

function eventLabel(type: string): string {
  if (type.startsWith('xstate.after.')) return `after ${type.split('.')[2]}`;
  if (type.startsWith('xstate.done.actor.')) return 'output valid';
  if (type.startsWith('xstate.error.actor.')) return 'output invalid';
  return type;
}

// A farm host as the API and `encsup hosts` show it, from its row: its state read from the age of
// its heartbeat against a lease (a host silent for a whole lease has lost every job it held).
import type { HostRow } from './farm-host.js';

export type HostState = 'up' | 'late' | 'lost' | 'stopped';

export interface HostView {
  name: string;
  state: HostState;
  labels: string[];
  apiUrl: string | null;
  maxConcurrent: number;
  capacity: Record<string, number>;
  /** Encoders running there at its last heartbeat. */
  running: number;
  draining: boolean;
  startedAt: string;
  heartbeatAt: string;
  heartbeatAgeSec: number;
  stoppedAt: string | null;
  /** The jobs it holds now (running, or claimed and about to run). */
  jobs: string[];
}

export function hostView(row: HostRow, leaseSec: number): HostView {
  const age = Math.max(0, row.heartbeat_age_sec);
  const state: HostState = row.stopped_at !== null ? 'stopped' : age > leaseSec ? 'lost' : age > leaseSec / 3 ? 'late' : 'up';
  return {
    name: row.name,
    state,
    labels: row.labels,
    apiUrl: row.api_url,
    maxConcurrent: row.max_concurrent,
    capacity: row.capacity,
    running: state === 'up' || state === 'late' ? row.running : 0,
    draining: row.draining,
    startedAt: row.started_at.toISOString(),
    heartbeatAt: row.heartbeat_at.toISOString(),
    heartbeatAgeSec: Math.round(age * 10) / 10,
    stoppedAt: row.stopped_at?.toISOString() ?? null,
    jobs: row.held_jobs,
  };
}

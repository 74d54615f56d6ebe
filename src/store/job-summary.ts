// What the daemon keeps in memory of a finished job: enough to list, count, search, page and clean
// away a hundred thousand of them, and no more (a whole record is a few KB, mostly its last lines
// and history). The whole record is read from the store when someone asks for that job. The job
// file writes the summary beside each finished record, so a start reads it without parsing the
// record. Pure.
import { JOB_STATUSES, type Job, type JobStatus, isFinished } from '../../machines/job-record.js';

export interface JobSummary {
  id: string;
  status: JobStatus;
  name: string;
  /** The command as one line, for searching. */
  commandLine: string;
  output: string | null;
  clientId: string | null;
  /** The run-history kind (forecast.ts learns from the latest done runs of each). */
  kind: string;
  priority: number;
  createdAt: string;
  /** When the run under way began (the view lists running jobs by it); null once finished, where no listing needs it. */
  startedAt: string | null;
  updatedAt: string;
  finishedAt: string | null;
}

export function summarize(job: Job): JobSummary {
  return {
    id: job.id,
    status: job.status,
    name: job.name,
    commandLine: job.command.join(' '),
    output: job.output,
    clientId: job.clientId,
    kind: job.kind,
    priority: job.priority,
    createdAt: job.createdAt,
    startedAt: isFinished(job.status) ? null : job.startedAt,
    updatedAt: job.updatedAt,
    finishedAt: job.finishedAt,
  };
}

// The summary's fields in the order a stored row holds them: an array parses faster than an
// object, and a start parses a hundred thousand.
const ROW: readonly (keyof JobSummary)[] = ['id', 'status', 'name', 'commandLine', 'output', 'clientId', 'kind', 'priority', 'createdAt', 'startedAt', 'updatedAt', 'finishedAt'];

/** The summary as it is stored: its values in a fixed order. */
export function summaryRow(summary: JobSummary): unknown[] {
  return ROW.map((field) => summary[field]);
}

const isText = (value: unknown): value is string => typeof value === 'string';
const isTextOrNull = (value: unknown): value is string | null => value === null || typeof value === 'string';
// The shape of an ISO 8601 time, checked cheaply: a start checks three for each finished job.
const isTime = (value: unknown): value is string => typeof value === 'string' && value.length >= 20 && value.length <= 30 && value.charCodeAt(4) === 0x2d && value.charCodeAt(10) === 0x54;
// A kind is shared by many jobs: one string for all of them.
const kinds = new Map<string, string>();
const MAX_KINDS = 10_000;

/**
 * A summary read back from the store, checked field by field (the file is input like any other);
 * null when it is not one, and the caller reads the whole record instead.
 */
export function readSummaryRow(row: unknown): JobSummary | null {
  if (!Array.isArray(row) || row.length !== ROW.length) return null;
  const [id, status, name, commandLine, output, clientId, kind, priority, createdAt, startedAt, updatedAt, finishedAt] = row as unknown[];
  if (!isText(id) || !JOB_STATUSES.includes(status as JobStatus) || !isText(name) || !isText(commandLine) || !isTextOrNull(output) || !isTextOrNull(clientId) || !isText(kind)) return null;
  if (typeof priority !== 'number' || !Number.isFinite(priority) || !isTime(createdAt) || !(startedAt === null || isTime(startedAt)) || !isTime(updatedAt) || !(finishedAt === null || isTime(finishedAt))) return null;
  let shared = kinds.get(kind);
  if (shared === undefined && kinds.size < MAX_KINDS) kinds.set(kind, (shared = kind));
  return {
    id,
    status: status as JobStatus,
    name,
    commandLine,
    output,
    clientId,
    kind: shared ?? kind,
    priority,
    createdAt,
    startedAt,
    updatedAt,
    // Most often the same time: one string for both.
    finishedAt: finishedAt === updatedAt ? updatedAt : finishedAt,
  };
}

// What the daemon keeps in memory of a finished job: enough to list, count, search, page and clean
// away a hundred thousand of them, and no more (a whole record is a few KB, mostly its last lines
// and history). The whole record is read from the store when someone asks for that job. The job
// file writes the summary beside each finished record, so a start reads it without parsing the
// record. Few fields, times as numbers and the searched text as one string: each string and
// object a job holds costs its header as well as its contents. Pure.
import { JOB_STATUSES, type Job, type JobStatus, isFinished } from '../../machines/job-record.js';

export interface JobSummary {
  id: string;
  status: JobStatus;
  /** The name, the command line and the output, lowercased, one a line: where a search looks. */
  searchText: string;
  output: string | null;
  clientId: string | null;
  /** The run-history kind (forecast.ts learns from the latest done runs of each). */
  kind: string;
  priority: number;
  /** When it was submitted, ms since the epoch. */
  createdMs: number;
  /** When the run under way began (the view lists running jobs by it); null once finished. */
  startedMs: number | null;
  /** When it finished, or, not finished, when it last changed: ms since the epoch. */
  endedMs: number;
}

/** What a summary is made of: a job's record needs no more (a store may read only these). */
export type SummarizedFields = Pick<Job, 'id' | 'status' | 'name' | 'command' | 'output' | 'clientId' | 'kind' | 'priority' | 'createdAt' | 'startedAt' | 'finishedAt' | 'updatedAt'>;

export function summarize(job: SummarizedFields): JobSummary {
  return {
    id: job.id,
    status: job.status,
    searchText: searchTextOf(job),
    output: job.output,
    clientId: job.clientId,
    kind: job.kind,
    priority: job.priority,
    createdMs: Date.parse(job.createdAt),
    startedMs: isFinished(job.status) || job.startedAt === null ? null : Date.parse(job.startedAt),
    endedMs: Date.parse(job.finishedAt ?? job.updatedAt),
  };
}

/** How many of these jobs have each status (every status named, 0 where none). */
export function countByStatus(...groups: Iterable<Pick<JobSummary, 'status'>>[]): Record<JobStatus, number> {
  const counts = Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<JobStatus, number>;
  for (const jobs of groups) for (const job of jobs) counts[job.status]++;
  return counts;
}

export function searchTextOf(job: Pick<Job, 'name' | 'command' | 'output'>): string {
  return `${job.name}\n${job.command.join(' ')}\n${job.output ?? ''}`.toLowerCase();
}

// The summary's fields in the order a stored row holds them: an array parses faster than an
// object, and a start parses a hundred thousand.
const ROW: readonly (keyof JobSummary)[] = ['id', 'status', 'searchText', 'output', 'clientId', 'kind', 'priority', 'createdMs', 'startedMs', 'endedMs'];

/** The summary as it is stored: its values in a fixed order. */
export function summaryRow(summary: JobSummary): unknown[] {
  return ROW.map((field) => summary[field]);
}

export const isText = (value: unknown): value is string => typeof value === 'string';
export const isTextOrNull = (value: unknown): value is string | null => value === null || typeof value === 'string';
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
// A kind is shared by many jobs: one string for all of them.
const kinds = new Map<string, string>();
const MAX_KINDS = 10_000;

/**
 * A summary read back from the store, checked field by field (the file is input like any other);
 * null when it is not one, and the caller reads the whole record instead.
 */
export function readSummaryRow(row: unknown): JobSummary | null {
  if (!Array.isArray(row) || row.length !== ROW.length) return null;
  const [id, status, searchText, output, clientId, kind, priority, createdMs, startedMs, endedMs] = row as unknown[];
  if (!isText(id) || !JOB_STATUSES.includes(status as JobStatus) || !isText(searchText) || !isTextOrNull(output) || !isTextOrNull(clientId) || !isText(kind)) return null;
  if (!isNumber(priority) || !isNumber(createdMs) || !(startedMs === null || isNumber(startedMs)) || !isNumber(endedMs)) return null;
  return { id, status: status as JobStatus, searchText, output, clientId, kind: sharedKind(kind), priority, createdMs, startedMs, endedMs };
}

/** One string for every summary of a kind, where a start reads a hundred thousand of them. */
export function sharedKind(kind: string): string {
  let shared = kinds.get(kind);
  if (shared === undefined && kinds.size < MAX_KINDS) kinds.set(kind, (shared = kind));
  return shared ?? kind;
}

// Listing jobs a page at a time, for views of thousands: a filter (status, search, since), one of
// three stable orders, counts per status, and a cursor that names the last job shown (its sort
// key), so a page never repeats or skips a job because others were added meanwhile. Pure.
import type { JobStatus } from '../../machines/job-record.js';
import { siftDown, siftUp } from '../../machines/heap-order.js';
import { type JobSummary, countByStatus } from '../store/job-summary.js';

export const LIST_ORDERS = ['view', 'newest', 'oldest'] as const;
export type ListOrder = (typeof LIST_ORDERS)[number];

export interface ListQuery {
  status?: JobStatus;
  /** Case-insensitive text in the name, command or output, or the start of the id. */
  q?: string;
  /** Only jobs created at or after this time (ms since the epoch). */
  sinceMs?: number;
  /**
   * view: running first (oldest start first), then waiting in the order they will start, then
   * finished newest first (what an operator looks at); newest / oldest: by submission.
   */
  order: ListOrder;
  limit: number;
  cursor?: string | null;
}

export interface JobPage {
  jobs: JobSummary[];
  /** Pass as `cursor` for the next page; null on the last one. */
  next: string | null;
  /** Jobs matching the filter, all pages together. */
  matched: number;
  /** Every job in the store by status, whatever the filter: the counts at the top of a view. */
  counts: Record<JobStatus, number>;
}

type SortKey = [number, number, number, string];

function sortKey(job: JobSummary, order: ListOrder): SortKey {
  if (order === 'newest') return [0, -job.createdMs, 0, job.id];
  if (order === 'oldest') return [0, job.createdMs, 0, job.id];
  if (job.status === 'encoding' || job.status === 'finalizing') return [0, job.startedMs ?? job.createdMs, 0, job.id];
  // Waiting: as the supervisor takes them, highest priority first, then oldest.
  if (job.status === 'queued') return [1, -job.priority, job.createdMs, job.id];
  return [2, -job.endedMs, 0, job.id];
}

function compare(a: SortKey, b: SortKey): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return a[3] < b[3] ? -1 : a[3] > b[3] ? 1 : 0;
}

export function encodeCursor(key: SortKey): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The cursor's key, or null when it is not one this listing made (a client's typo, a hostile value). */
export function decodeCursor(cursor: string): SortKey | null {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown;
    if (Array.isArray(key) && key.length === 4 && key.slice(0, 3).every((part) => typeof part === 'number' && Number.isFinite(part)) && typeof key[3] === 'string') return key as SortKey;
  } catch {
    // not JSON
  }
  return null;
}

export function matches(job: JobSummary, query: Pick<ListQuery, 'status' | 'q' | 'sinceMs'>): boolean {
  if (query.status !== undefined && job.status !== query.status) return false;
  if (query.sinceMs !== undefined && job.createdMs < query.sinceMs) return false;
  if (query.q) return job.id.startsWith(query.q) || job.searchText.includes(query.q.toLowerCase());
  return true;
}

export function listPage(all: readonly JobSummary[], query: ListQuery, counts: Record<JobStatus, number> = countByStatus(all)): JobPage {
  const after = query.cursor ? decodeCursor(query.cursor) : null;
  // One pass that keeps only the page's jobs (the `limit` smallest keys past the cursor, in a
  // heap), not a sort of every match: a page of 100 out of 100,000 jobs is a scan, not a sort.
  const page = new PageHeap(query.limit);
  let matched = 0;
  let past = 0;
  for (const job of all) {
    if (!matches(job, query)) continue;
    matched += 1;
    const key = sortKey(job, query.order);
    if (after !== null && compare(key, after) <= 0) continue;
    past += 1;
    page.offer({ job, key });
  }
  const entries = page.sorted();
  const last = entries.at(-1);
  return { jobs: entries.map((entry) => entry.job), next: past > query.limit && last ? encodeCursor(last.key) : null, matched, counts };
}

interface Keyed {
  job: JobSummary;
  key: SortKey;
}

// Largest key first: the top of the page's heap is the entry to let go for a smaller one.
const largerFirst = (a: Keyed, b: Keyed) => compare(a.key, b.key) > 0;

/** The `size` smallest entries offered: a max-heap, so the largest kept is the one to let go. */
class PageHeap {
  readonly #heap: Keyed[] = [];
  constructor(private readonly size: number) {}

  offer(entry: Keyed): void {
    const heap = this.#heap;
    if (heap.length < this.size) {
      heap.push(entry);
      siftUp(heap, heap.length - 1, largerFirst);
    } else if (this.size > 0 && compare(entry.key, heap[0]!.key) < 0) {
      heap[0] = entry;
      siftDown(heap, 0, largerFirst);
    }
  }

  sorted(): Keyed[] {
    return [...this.#heap].sort((a, b) => compare(a.key, b.key));
  }
}

// Following /api/events from Node (the CLI's `watch` and `submit --wait`): a small SSE reader.
// Progress arrives as small deltas (`lifecycle` progress once stored, `live` as it is now); they
// are applied to the last record seen of their job, so a consumer always gets whole jobs.
import type { Job, ProgressFields } from '../../machines/job-record.js';
import type { LifecycleEvent } from '../../machines/lifecycle.js';

export type StreamEvent = { type: 'job'; job: Job } | { type: 'lifecycle'; event: LifecycleEvent } | { type: 'output'; data: unknown };

/**
 * Calls `onEvent` for each event until it returns true or `signal` aborts. `onOpen` runs once the
 * daemon has the stream registered: what happened before can be read then without a gap, and the
 * jobs read are `remember`ed, so their progress deltas become whole jobs.
 */
export async function followEvents(
  api: { baseUrl: string; token: string | null },
  jobId: string | null,
  onEvent: (event: StreamEvent) => boolean | void,
  signal: AbortSignal,
  onOpen: (remember: (job: Job) => void) => Promise<boolean | void> = async () => undefined,
): Promise<void> {
  const latest = new Map<string, Job>();
  const remember = (job: Job) => void latest.set(job.id, job);
  const url = new URL('/api/events', api.baseUrl);
  if (jobId) url.searchParams.set('job', jobId);
  const response = await fetch(url, { signal, headers: api.token ? { authorization: `Bearer ${api.token}` } : {} });
  if (!response.ok || !response.body) throw new Error(`the event stream answered ${response.status}`);
  if ((await onOpen(remember)) === true) return;
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const type = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (!type || data === undefined) continue;
      const events = readEvent(type, JSON.parse(data) as unknown, latest);
      for (const event of events) {
        if (event.type === 'job') remember(event.job);
        // The callback returns true when it has seen enough.
        if (onEvent(event) === true) return;
      }
    }
  }
}

function readEvent(type: string, data: unknown, latest: Map<string, Job>): StreamEvent[] {
  if (type === 'job') return [{ type: 'job', job: data as Job }];
  if (type === 'live') {
    // Progress as it is now, not stored: applied to the last whole record seen.
    const live = data as { jobId: string; at: string; progress: ProgressFields };
    const known = latest.get(live.jobId);
    return known ? [{ type: 'job', job: { ...known, ...live.progress, updatedAt: live.at } }] : [];
  }
  if (type !== 'lifecycle') return [{ type: 'output', data }];
  const event = data as LifecycleEvent;
  const known = latest.get(event.jobId);
  if (event.kind !== 'progress' || !known) return [{ type: 'lifecycle', event }];
  const job: Job = { ...known, ...event.progress, elapsedSeconds: event.elapsedSeconds, updatedAt: event.at };
  return [{ type: 'lifecycle', event }, { type: 'job', job }];
}

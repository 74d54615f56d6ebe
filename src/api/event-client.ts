// Following /api/events from Node (the CLI's `watch` and `submit --wait`, an application through
// `encsup/client`): a small SSE reader. Progress arrives as small deltas (`lifecycle` progress once
// stored, `live` as it is now); they are applied to the last record seen of their job, so a
// consumer always gets whole jobs.
import { request } from 'node:http';
import { type Job, type JobStatus, type ProgressFields, isFinished } from '../../machines/job-record.js';
import type { LifecycleEvent, LifecycleKind } from '../../machines/lifecycle.js';
import type { EventFrame } from './operations.js';

export type StreamEvent = { type: 'job'; job: Job } | { type: 'lifecycle'; event: LifecycleEvent } | { type: 'output'; data: unknown };

/** Some of the events only (`?events=`, `?kinds=`, `?status=`): the daemon makes none of the rest for this stream. */
export interface EventChoice {
  events?: readonly EventFrame[];
  kinds?: readonly LifecycleKind[];
  status?: readonly JobStatus[];
}

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
  only: EventChoice = {},
): Promise<void> {
  // The last whole record of each unfinished job: a finished one gets no more deltas (a retry
  // sends it whole again), so a follower that runs for months holds only the jobs under way.
  const latest = new Map<string, Job>();
  const remember = (job: Job) => void (isFinished(job.status) ? latest.delete(job.id) : latest.set(job.id, job));
  const url = new URL('/api/events', api.baseUrl);
  if (jobId) url.searchParams.set('job', jobId);
  for (const [name, chosen] of Object.entries(only)) if (chosen) url.searchParams.set(name, chosen.join(','));
  const stream = await openStream(url, api.token ? { authorization: `Bearer ${api.token}` } : {}, signal);
  try {
    if ((await onOpen(remember)) === true) return;
    let buffer = '';
    for await (const text of stream.texts) {
      buffer += text;
      let start = 0;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n', start)) {
        const block = buffer.slice(start, end);
        start = end + 2;
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
      buffer = buffer.slice(start);
    }
  } finally {
    stream.close();
  }
}

interface TextStream {
  texts: AsyncIterable<string>;
  close(): void;
}

/**
 * The stream's text as it arrives: over node:http (a follower that hears a dozen events a job
 * spent about half its CPU in fetch's web streams), or fetch for https (a daemon behind a TLS
 * proxy). Rejects as fetch does: a daemon that cannot be reached, an answer that is not 2xx.
 */
async function openStream(url: URL, headers: Record<string, string>, signal: AbortSignal): Promise<TextStream> {
  if (url.protocol !== 'http:') {
    const response = await fetch(url, { signal, headers });
    if (!response.ok || !response.body) throw new Error(`the event stream answered ${response.status}`);
    const body = response.body;
    const decoder = new TextDecoder();
    return {
      texts: (async function* () {
        for await (const chunk of body) yield decoder.decode(chunk as Uint8Array, { stream: true });
      })(),
      close: () => void body.cancel().catch(() => undefined),
    };
  }
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, signal }, (res) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        res.resume();
        req.destroy();
        return reject(new Error(`the event stream answered ${status}`));
      }
      res.setEncoding('utf8');
      resolve({
        texts: (async function* () {
          try {
            for await (const text of res) yield text as string;
          } catch (error) {
            // An abort ends the response as a reset connection ('aborted'): told as fetch tells it.
            throw signal.aborted ? signal.reason : error;
          }
        })(),
        close: () => req.destroy(),
      });
    });
    // fetch's shape: an abort rejects with an AbortError; the cause's code (ECONNREFUSED) says the rest.
    req.on('error', (error) => reject(error.name === 'AbortError' ? error : Object.assign(new TypeError('fetch failed'), { cause: error })));
    req.end();
  });
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

// Following /api/events from Node (the CLI's `watch` and `submit --wait`): a small SSE reader.
import type { Job } from '../../machines/job-record.js';

export type StreamEvent = { type: 'job'; job: Job } | { type: 'output'; data: unknown };

/**
 * Calls `onEvent` for each event until it returns true or `signal` aborts. `onOpen` runs once the
 * daemon has the stream registered: what happened before can be read then without a gap.
 */
export async function followEvents(
  api: { baseUrl: string; token: string | null },
  jobId: string | null,
  onEvent: (event: StreamEvent) => boolean | void,
  signal: AbortSignal,
  onOpen: () => Promise<boolean | void> = async () => undefined,
): Promise<void> {
  const url = new URL('/api/events', api.baseUrl);
  if (jobId) url.searchParams.set('job', jobId);
  const response = await fetch(url, { signal, headers: api.token ? { authorization: `Bearer ${api.token}` } : {} });
  if (!response.ok || !response.body) throw new Error(`the event stream answered ${response.status}`);
  if ((await onOpen()) === true) return;
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
      const event: StreamEvent = type === 'job' ? { type: 'job', job: JSON.parse(data) as Job } : { type: 'output', data: JSON.parse(data) };
      // The callback returns true when it has seen enough.
      if (onEvent(event) === true) return;
    }
  }
}

// GET /api/events: Server-Sent Events for the dashboard and the CLI. Every durable job change is
// an `job` event (the whole record); watcher findings are `output` events. `?job=ID` narrows it
// to one job. A comment every 15 s keeps proxies from closing an idle stream.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Job } from '../../machines/job-record.js';
import type { OutputEvent } from '../jobs/job-control.js';

export interface EventSource {
  onJob(listener: (job: Job) => void): () => void;
  onOutput(listener: (event: OutputEvent) => void): () => void;
}

const KEEPALIVE_MS = 15_000;

export function serveEventStream(request: IncomingMessage, response: ServerResponse, source: EventSource, jobId: string | null): void {
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  response.write(': encsup events\n\n');
  const send = (type: string, data: unknown) => response.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
  const stopJobs = source.onJob((job) => {
    if (jobId === null || job.id === jobId) send('job', job);
  });
  const stopOutputs = source.onOutput((event) => {
    if (jobId === null || ('jobId' in event && event.jobId === jobId)) send('output', event);
  });
  const keepalive = setInterval(() => response.write(': keepalive\n\n'), KEEPALIVE_MS);
  request.on('close', () => {
    clearInterval(keepalive);
    stopJobs();
    stopOutputs();
  });
}

// The part of fetch the API client uses, over node:http (keep-alive: Node's global agent). Node
// loads fetch's implementation (undici) on first use, about 0.1 s, twice what the rest of `encsup
// submit` takes to start; and each request through it costs about 0.6 ms more of CPU, which a
// script submitting thousands of jobs pays on the cores its encoders need. The daemon's answers
// are small JSON or text; the event stream has a reader of its own (event-client.ts).
import { request } from 'node:http';

export interface HttpAnswer {
  ok: boolean;
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
  json(): Promise<unknown>;
}

export type FetchLike = (url: URL, init: { method: string; headers: Record<string, string>; body: string | null }) => Promise<HttpAnswer>;

/** One request, its whole answer read; rejects as fetch does when the daemon cannot be reached. */
export const httpFetch: FetchLike = (url, init) => {
  // https (a daemon behind a TLS proxy): fetch, which speaks it.
  if (url.protocol !== 'http:') return fetch(url, init);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method, headers: init.body === null ? init.headers : { ...init.headers, 'content-length': Buffer.byteLength(init.body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        resolve({
          ok: status >= 200 && status < 300,
          status,
          headers: { get: (name) => [res.headers[name.toLowerCase()] ?? null].flat()[0] ?? null },
          text: async () => text,
          json: async () => JSON.parse(text) as unknown,
        });
      });
    });
    // fetch's shape: the cause's code (ECONNREFUSED) is what the client reports.
    req.on('error', (error) => reject(Object.assign(new TypeError('fetch failed'), { cause: error })));
    req.end(init.body ?? undefined);
  });
};

// The raw frames of a daemon's event stream (`/api/events` with a query), as a client reads them
// off the wire, comments left out: for tests that check what the daemon sends, not what a client
// makes of it.

export function collectFrames(url: string, token: string | null, query = ''): { frames: string[]; stop: () => void } {
  const frames: string[] = [];
  const controller = new AbortController();
  void (async () => {
    const response = await fetch(new URL(`/api/events${query}`, url), { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: controller.signal });
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      const parts = buffer.split('\n\n');
      buffer = parts.pop()!;
      frames.push(...parts.filter((part) => !part.startsWith(':')));
    }
  })().catch(() => undefined);
  return { frames, stop: () => controller.abort() };
}

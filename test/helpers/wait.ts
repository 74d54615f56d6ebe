// Waiting on a condition with a deadline: tests wait for what they assert, never on a fixed sleep.

export async function until<T>(check: () => Promise<T | undefined | null | false> | T | undefined | null | false, what: string, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await check();
    if (result) return result;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** True while a process group led by `pid` has any member left. */
export function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Calls `sample` every `everyMs` until stopped; a failed sample is ignored (the daemon may be closing). */
export function sampleEvery(everyMs: number, sample: () => Promise<void>): { stop: () => Promise<void> } {
  let last: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    last = sample().catch(() => undefined);
  }, everyMs);
  // A test that fails before stop() must not keep the runner alive.
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await last;
    },
  };
}

// Reading a big job file at start is a burst of small objects that live on (a summary for each
// finished job). V8 answers a burst like that by doubling its young generation, and keeps it
// doubled: 16 MB more resident for the daemon's whole life, for one second of work. While the
// store loads, the young generation keeps its size; after, it grows again as V8 sees fit.
// A burst also leaves garbage in the old generation, which V8 keeps resident until its next major
// collection: for a quiet daemon, that may be hours. After a burst that ends while the daemon
// already serves (a farm's finished jobs), it is collected at once.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// V8's default: each growth doubles the young generation.
const DEFAULT_GROWTH_FACTOR = 2;

/** Runs `work` with the young generation held at its size; V8 reads this flag each time it would grow it. */
export async function withYoungGenerationHeld<T>(work: () => Promise<T>): Promise<T> {
  setFlagsFromString('--semi-space-growth-factor=1');
  try {
    return await work();
  } finally {
    setFlagsFromString(`--semi-space-growth-factor=${DEFAULT_GROWTH_FACTOR}`);
  }
}

let collect: (() => void) | null = null;

/**
 * A full garbage collection now (tens of milliseconds on the main thread, once). V8 gives its `gc`
 * only to a context made after --expose-gc is set: a context of its own, not the daemon's globals.
 */
export function collectGarbageNow(): void {
  if (collect === null) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
}

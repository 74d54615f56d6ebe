// Reading a big job file at start is a burst of small objects that live on (a summary for each
// finished job). V8 answers a burst like that by doubling its young generation, and keeps it
// doubled: 16 MB more resident for the daemon's whole life, for one second of work. While the
// store loads, the young generation keeps its size; after, it grows again as V8 sees fit.
import { setFlagsFromString } from 'node:v8';

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

// Nested counters, whichever library prints them (tqdm's nested bars, rich, a script's own
// `item i/N` around `step j/M`): the counter that never restarts is the job, and the one updated
// since it last moved refines it. A counter that restarts inside it is an inner one: it can never
// move the job backwards (the caller keeps the maximum) or to 100 before the outer one ends.
export interface Counter {
  done: number;
  total: number;
  restarts: number;
  /** When it last changed, in samples seen. */
  changedAt: number;
}

export interface Counters {
  byId: Readonly<Record<string, Counter>>;
  seen: number;
}

export const NO_COUNTERS: Counters = { byId: {}, seen: 0 };

export function observeCounter(counters: Counters, id: string, done: number, total: number): Counters {
  const seen = counters.seen + 1;
  const before = counters.byId[id];
  const restarted = before !== undefined && done < before.done;
  const changed = before === undefined || before.done !== done || before.total !== total;
  const counter: Counter = {
    done,
    total,
    restarts: (before?.restarts ?? 0) + (restarted ? 1 : 0),
    changedAt: changed ? seen : before.changedAt,
  };
  return { byId: { ...counters.byId, [id]: counter }, seen };
}

/** The job's fraction done, 0-1, from every counter seen; null before any. */
export function jobFraction(counters: Counters): number | null {
  const all = Object.values(counters.byId).filter((counter) => counter.total > 0);
  if (all.length === 0) return null;
  if (all.length === 1) return Math.min(1, all[0]!.done / all[0]!.total);
  // The outer counter: one that never restarted, and of those the least far along (before the
  // inner one first restarts, both look alike; the outer one is the slower).
  const steady = all.filter((counter) => counter.restarts === 0);
  const outer = (steady.length > 0 ? steady : all).reduce((a, b) => (b.done / b.total < a.done / a.total ? b : a));
  const inner = all.filter((counter) => counter !== outer).reduce<Counter | null>((a, b) => (a === null || b.changedAt > a.changedAt ? b : a), null);
  // An inner count from before the outer one last moved belongs to the unit already counted; a
  // finished inner count takes the unit to just short of done: the outer counter says when it is.
  const within = inner && inner.changedAt > outer.changedAt ? Math.min(0.99, inner.done / inner.total) : 0;
  return Math.min(1, (outer.done + within) / outer.total);
}

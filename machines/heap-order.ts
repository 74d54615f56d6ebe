// The two moves of a binary heap kept in an array, for any order: `before(a, b)` is true when a
// belongs nearer the top. The waiting line (job-queue.ts) and a listing's page (job-listing.ts)
// both keep one.

/** Moves the entry at `index` up until its parent comes before it. */
export function siftUp<T>(heap: T[], index: number, before: (a: T, b: T) => boolean): void {
  while (index > 0) {
    const parent = (index - 1) >>> 1;
    if (!before(heap[index]!, heap[parent]!)) return;
    [heap[index], heap[parent]] = [heap[parent]!, heap[index]!];
    index = parent;
  }
}

/** Moves the entry at `index` down until it comes before both its children. */
export function siftDown<T>(heap: T[], index: number, before: (a: T, b: T) => boolean): void {
  for (;;) {
    const left = 2 * index + 1;
    const right = left + 1;
    let first = index;
    if (left < heap.length && before(heap[left]!, heap[first]!)) first = left;
    if (right < heap.length && before(heap[right]!, heap[first]!)) first = right;
    if (first === index) return;
    [heap[index], heap[first]] = [heap[first]!, heap[index]!];
    index = first;
  }
}

import { describe, expect, it } from '@jest/globals';
import { compactHeap } from './compact-heap.js';

/** Fills the old generation with arrays nothing holds once it returns. */
function makeGarbage(): number {
  const arrays = Array.from({ length: 200 }, () => Array.from({ length: 20_000 }, (_, i) => i));
  return arrays.length;
}

describe('compactHeap', () => {
  it('returns the pages that garbage left in the heap', () => {
    const made = makeGarbage();
    expect(made).toBe(200);
    const { heapBeforeBytes, heapAfterBytes, durationMs } = compactHeap();
    // 200 × 20,000 numbers were at least 30 MB of heap; after the collection they are gone.
    expect(heapBeforeBytes - heapAfterBytes).toBeGreaterThan(20e6);
    expect(durationMs).toBeGreaterThan(0);
  });

  it('does not put a global gc into the calling context', () => {
    compactHeap();
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });
});

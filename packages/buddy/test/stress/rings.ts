/**
 * Single-producer single-consumer rings of (pfn, order) pairs in shared memory, for handing blocks
 * from one worker to another in the stress test: [0] head (next to read), [1] tail (next to write),
 * then `capacity` pairs. Entries are plain stores published by the `Atomics.store` of the tail, and
 * given back by the `Atomics.store` of the head.
 */
export const RING_HEADER = 16; // the indices get a line of their own

export function ringInts(capacity: number): number {
  return RING_HEADER + 2 * capacity;
}

/** Pushes (pfn, order); false when the ring is full. */
export function ringPush(ring: Int32Array, capacity: number, pfn: number, order: number): boolean {
  const tail = ring[1]!;
  if (tail - Atomics.load(ring, 0) >= capacity) return false;
  const at = RING_HEADER + 2 * (tail % capacity);
  ring[at] = pfn;
  ring[at + 1] = order;
  Atomics.store(ring, 1, tail + 1);
  return true;
}

/** Pops into `out` ([pfn, order]); false when empty. */
export function ringPop(ring: Int32Array, capacity: number, out: [number, number]): boolean {
  const head = ring[0]!;
  if (head === Atomics.load(ring, 1)) return false;
  const at = RING_HEADER + 2 * (head % capacity);
  out[0] = ring[at]!;
  out[1] = ring[at + 1]!;
  Atomics.store(ring, 0, head + 1);
  return true;
}

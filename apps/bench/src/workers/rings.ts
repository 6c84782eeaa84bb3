/**
 * Single-producer single-consumer rings of pfns in shared memory, for handing pages from one worker
 * to another: [0] head (next to read), [1] tail (next to write), then `capacity` entries, with the
 * indices on a line of their own. Entries are plain stores published by the `Atomics.store` of the
 * tail and given back by the `Atomics.store` of the head.
 */
export const RING_HEADER = 16;

/** Ints a ring of `capacity` entries needs. */
export function ringInts(capacity: number): number {
  return RING_HEADER + capacity;
}

/** Pushes `pfn`; false when the ring is full. The order is always 0 in the suite. */
export function ringPush(ring: Int32Array, capacity: number, pfn: number, _order: number): boolean {
  const tail = ring[1]!;
  if (tail - Atomics.load(ring, 0) >= capacity) return false;
  ring[RING_HEADER + (tail % capacity)] = pfn;
  Atomics.store(ring, 1, tail + 1);
  return true;
}

/** Pops into `out[0]`; false when empty. */
export function ringPop(ring: Int32Array, capacity: number, out: [number, number]): boolean {
  const head = ring[0]!;
  if (head === Atomics.load(ring, 1)) return false;
  out[0] = ring[RING_HEADER + (head % capacity)]!;
  out[1] = 0;
  Atomics.store(ring, 0, head + 1);
  return true;
}

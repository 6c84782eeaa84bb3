/**
 * Single-producer single-consumer rings of (value, tag) int32 pairs in shared memory, for handing
 * blocks from one worker to another in the shared allocators' stress tests: [0] head (next to
 * read), [1] tail (next to write), then `capacity` pairs, the indices on a line of their own.
 * Entries are plain stores published by the `Atomics.store` of the tail and given back by the
 * `Atomics.store` of the head.
 *
 * @example
 * ```ts
 * const ring = new Int32Array(new SharedArrayBuffer(ringInts(512) * 4));
 * ringPush(ring, 512, pfn, order);          // in the producer
 * const out: [number, number] = [0, 0];
 * if (ringPop(ring, 512, out)) free(out[0], out[1]);   // in the consumer
 * ```
 */
export const RING_HEADER = 16;

/** Int32s a ring of `capacity` pairs needs. */
export function ringInts(capacity: number): number {
  return RING_HEADER + 2 * capacity;
}

/** Pushes (value, tag); false when the ring is full. O(1). */
export function ringPush(ring: Int32Array, capacity: number, value: number, tag: number): boolean {
  const tail = ring[1]!;
  if (tail - Atomics.load(ring, 0) >= capacity) return false;
  const at = RING_HEADER + 2 * (tail % capacity);
  ring[at] = value;
  ring[at + 1] = tag;
  Atomics.store(ring, 1, tail + 1);
  return true;
}

/** Pops into `out` ([value, tag]); false when empty. O(1). */
export function ringPop(ring: Int32Array, capacity: number, out: [number, number]): boolean {
  const head = ring[0]!;
  if (head === Atomics.load(ring, 1)) return false;
  const at = RING_HEADER + 2 * (head % capacity);
  out[0] = ring[at]!;
  out[1] = ring[at + 1]!;
  Atomics.store(ring, 0, head + 1);
  return true;
}

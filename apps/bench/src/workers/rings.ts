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

// Header words of the blocking helpers below: who is asleep on the ring.
const CONSUMER_ASLEEP = 2;
const PRODUCER_ASLEEP = 3;
/** Checks of the other side's index before a blocked side goes to sleep (spinning costs a core). */
const SPINS = 64;

/**
 * Pushes `value`, sleeping while the ring is full (the consumer wakes it after a pop); returns the
 * times it slept. Wakes a consumer asleep on the empty ring. For one producer and one consumer that
 * use {@link ringPopWaiting}. Cost: O(1) plus the waits.
 *
 * @example
 * ```ts
 * ringPushWaiting(ring, 512, address);   // 0 unless the ring was full
 * ```
 */
export function ringPushWaiting(ring: Int32Array, capacity: number, value: number): number {
  const tail = ring[1]!;
  let slept = 0;
  let spins = 0;
  while (tail - Atomics.load(ring, 0) >= capacity) {
    if (++spins < SPINS) continue;
    // Announce the sleep, then look again: the consumer pops (store head) before it reads the flag.
    Atomics.store(ring, PRODUCER_ASLEEP, 1);
    const head = Atomics.load(ring, 0);
    if (tail - head >= capacity) {
      Atomics.wait(ring, 0, head, 1);
      slept++;
    }
    Atomics.store(ring, PRODUCER_ASLEEP, 0);
  }
  ring[RING_HEADER + (tail % capacity)] = value;
  Atomics.store(ring, 1, tail + 1);
  if (Atomics.load(ring, CONSUMER_ASLEEP) !== 0) Atomics.notify(ring, 1);
  return slept;
}

/**
 * Pops the oldest value, sleeping while the ring is empty (the producer wakes it after a push);
 * wakes a producer asleep on the full ring. The counterpart of {@link ringPushWaiting}. Cost: O(1)
 * plus the waits.
 *
 * @example
 * ```ts
 * const address = ringPopWaiting(ring, 512);
 * ```
 */
export function ringPopWaiting(ring: Int32Array, capacity: number): number {
  const head = ring[0]!;
  let spins = 0;
  while (head === Atomics.load(ring, 1)) {
    if (++spins < SPINS) continue;
    Atomics.store(ring, CONSUMER_ASLEEP, 1);
    if (head === Atomics.load(ring, 1)) Atomics.wait(ring, 1, head, 1);
    Atomics.store(ring, CONSUMER_ASLEEP, 0);
  }
  const value = ring[RING_HEADER + (head % capacity)]!;
  Atomics.store(ring, 0, head + 1);
  if (Atomics.load(ring, PRODUCER_ASLEEP) !== 0) Atomics.notify(ring, 0);
  return value;
}

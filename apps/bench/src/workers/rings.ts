/**
 * Single-producer single-consumer rings of numbers in shared memory (an Int32Array over a
 * SharedArrayBuffer), for handing pages or fragments from one worker to another. As the kernel's
 * `ptr_ring` keeps its producer and consumer on cache lines of their own, each side's words share a
 * 64-byte line with nothing the other side writes: [0] head (next to read), [1] the consumer's
 * last look at the tail and [2] its sleeps on an empty ring; [16] tail (next to write), [17] the
 * producer's last look at the head and [18] its sleeps on a full ring;
 * [32] "consumer asleep" and [48] "producer asleep" (written only around a sleep); then `capacity`
 * entries from {@link RING_HEADER}. Entries are plain stores published by the `Atomics.store` of the
 * tail and given back by the `Atomics.store` of the head. A side reads the other's index only when
 * its last look says the ring is full (producer) or empty (consumer).
 */
export const RING_HEADER = 64;
const HEAD = 0;
const TAIL_SEEN = 1;
const CONSUMER_SLEEPS = 2;
const TAIL = 16;
const HEAD_SEEN = 17;
const PRODUCER_SLEEPS = 18;
const CONSUMER_ASLEEP = 32;
const PRODUCER_ASLEEP = 48;
/** Checks of the other side's index before a blocked side goes to sleep (spinning costs a core). */
const SPINS = 64;

/** Ints a ring of `capacity` entries needs. */
export function ringInts(capacity: number): number {
  return RING_HEADER + capacity;
}

/** Pushes `pfn`; false when the ring is full. The order is always 0 in the suite. */
export function ringPush(ring: Int32Array, capacity: number, pfn: number, _order: number): boolean {
  const tail = ring[TAIL]!;
  if (tail - ring[HEAD_SEEN]! >= capacity) {
    ring[HEAD_SEEN] = Atomics.load(ring, HEAD);
    if (tail - ring[HEAD_SEEN]! >= capacity) return false;
  }
  ring[RING_HEADER + (tail % capacity)] = pfn;
  Atomics.store(ring, TAIL, tail + 1);
  return true;
}

/** Pops into `out[0]`; false when empty. */
export function ringPop(ring: Int32Array, capacity: number, out: [number, number]): boolean {
  const head = ring[HEAD]!;
  if (head === ring[TAIL_SEEN]) {
    ring[TAIL_SEEN] = Atomics.load(ring, TAIL);
    if (head === ring[TAIL_SEEN]) return false;
  }
  out[0] = ring[RING_HEADER + (head % capacity)]!;
  out[1] = 0;
  Atomics.store(ring, HEAD, head + 1);
  return true;
}

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
  const tail = ring[TAIL]!;
  let slept = 0;
  if (tail - ring[HEAD_SEEN]! >= capacity) {
    let spins = 0;
    for (let head = Atomics.load(ring, HEAD); tail - head >= capacity; head = Atomics.load(ring, HEAD)) {
      if (++spins < SPINS) continue;
      // Announce the sleep, then look again: the consumer stores the head before it reads the flag.
      Atomics.store(ring, PRODUCER_ASLEEP, 1);
      head = Atomics.load(ring, HEAD);
      if (tail - head >= capacity) {
        Atomics.wait(ring, HEAD, head, 1);
        slept++;
        ring[PRODUCER_SLEEPS]++;
      }
      Atomics.store(ring, PRODUCER_ASLEEP, 0);
    }
    ring[HEAD_SEEN] = Atomics.load(ring, HEAD);
  }
  ring[RING_HEADER + (tail % capacity)] = value;
  Atomics.store(ring, TAIL, tail + 1);
  if (Atomics.load(ring, CONSUMER_ASLEEP) !== 0) Atomics.notify(ring, TAIL);
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
  const head = ring[HEAD]!;
  if (head === ring[TAIL_SEEN]) {
    let spins = 0;
    for (let tail = Atomics.load(ring, TAIL); tail === head; tail = Atomics.load(ring, TAIL)) {
      if (++spins < SPINS) continue;
      Atomics.store(ring, CONSUMER_ASLEEP, 1);
      if (head === Atomics.load(ring, TAIL)) {
        Atomics.wait(ring, TAIL, head, 1);
        ring[CONSUMER_SLEEPS]++;
      }
      Atomics.store(ring, CONSUMER_ASLEEP, 0);
    }
    ring[TAIL_SEEN] = Atomics.load(ring, TAIL);
  }
  const value = ring[RING_HEADER + (head % capacity)]!;
  Atomics.store(ring, HEAD, head + 1);
  if (Atomics.load(ring, PRODUCER_ASLEEP) !== 0) Atomics.notify(ring, HEAD);
  return value;
}

/**
 * How often each side of a ring driven by {@link ringPushWaiting} / {@link ringPopWaiting} slept:
 * the producer on a full ring, the consumer on an empty one (read while both are quiescent).
 *
 * @example
 * ```ts
 * const { producer, consumer } = ringSleeps(ring);   // producer >> consumer: the consumer is the slower side
 * ```
 */
export function ringSleeps(ring: Int32Array): { producer: number; consumer: number } {
  return { producer: Atomics.load(ring, PRODUCER_SLEEPS), consumer: Atomics.load(ring, CONSUMER_SLEEPS) };
}

/**
 * The kernel's `page_frag_test` shape (mm/page_frag_test.c, tools/testing/selftests/mm): one thread
 * allocates fragments from its page-fragment cache and pushes them through a 512-entry ring to a
 * thread on another CPU, which frees them. This module holds the size mixes and the loops the
 * `page-frag` suite runs, in worker threads (producer, consumer) and in one thread.
 */
import { ringPopWaiting, ringPushWaiting } from "../workers/rings.js";

/** Entries of the ring, as the kernel test's `nr_objs`. */
export const PAGE_FRAG_RING = 512;

/** A word of the ring's header nobody writes: the producer's short sleep while its cache is dry. */
const RING_IDLE_WORD = 60;

/** What the loops need of a fragment cache (`FragmentCache` and `SharedFragmentCache` both fit). */
export interface FragmentFace {
  alloc(size: number, align?: number): number;
  free(address: number): void;
}

/** One mix of fragment sizes: a name, and how to draw its `length` sizes and alignments. */
export interface PageFragMix {
  name: string;
  /** Sizes and alignments, the same in every contender; `length` is a power of two. */
  make(length: number): { sizes: Int32Array; aligns: Int32Array };
}

/**
 * The size mixes the suite runs: IMIX (the bench's 7:4:1 of 64/576/1500 bytes, `imix`), and the
 * kernel test's three runs of `test_page_frag.sh`: `test_alloc_len` 2048 (the module's default, the
 * "smoke" run), 12 bytes "nonaligned", and 12 bytes "aligned" (`page_frag_alloc_align` to
 * `SMP_CACHE_BYTES`, 64).
 *
 * @example
 * ```ts
 * const mixes = pageFragMixes((n) => imixSizes(seed, n));
 * mixes[1]!.make(4).sizes;   // Int32Array [2048, 2048, 2048, 2048]
 * ```
 */
export function pageFragMixes(imix: (length: number) => Int32Array): PageFragMix[] {
  const fixed = (size: number, align: number) => (length: number) => ({ sizes: new Int32Array(length).fill(size), aligns: new Int32Array(length).fill(align) });
  return [
    { name: "IMIX 7:4:1 of 64/576/1500 B", make: (length) => ({ sizes: imix(length), aligns: new Int32Array(length).fill(1) }) },
    { name: "kernel test default: 2048 B", make: fixed(2048, 1) },
    { name: "kernel test nonaligned: 12 B", make: fixed(12, 1) },
    { name: "kernel test aligned: 12 B at 64", make: fixed(12, 64) },
  ];
}

/**
 * Where a one-thread run stands between rounds: [0] cursor into the size sequence, [1] oldest entry
 * of the in-flight queue, [2] entries in it.
 */
export function oneThreadState(): Int32Array {
  return new Int32Array(3);
}

/**
 * The same sequence in one thread: allocate each fragment, queue it, and free the oldest once more
 * than `depth` are queued (`depth` 0: freed at once; 512: as many in flight as the kernel's ring
 * holds when the consumer lags). `queue` has `depth + 1` entries; the state carries over between
 * calls. Throws when the cache runs dry (the suite sizes memory so it never does). Returns the sum
 * of the addresses (so the work is consumed). Cost: n allocs and n frees.
 *
 * @example
 * ```ts
 * oneThreadLoop(cache, new Int32Array(513), sizes, aligns, oneThreadState(), 512, 10_000);
 * ```
 */
export function oneThreadLoop(cache: FragmentFace, queue: Int32Array, sizes: Int32Array, aligns: Int32Array, state: Int32Array, depth: number, n: number): number {
  const mask = sizes.length - 1;
  const slots = depth + 1;
  let c = state[0]!;
  let head = state[1]!;
  let count = state[2]!;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const a = cache.alloc(sizes[c]!, aligns[c]!);
    if (a === -1) throw new Error(`page-frag: the cache ran dry at fragment ${i} (size ${sizes[c]})`);
    c = (c + 1) & mask;
    queue[(head + count) % slots] = a;
    count++;
    while (count > depth) {
      cache.free(queue[head]!);
      head = (head + 1) % slots;
      count--;
    }
    sum += a;
  }
  state[0] = c;
  state[1] = head;
  state[2] = count;
  return sum;
}

/**
 * The producer of `page_frag_test`: allocates `n` fragments of the sequence from `cursor[0]` on and
 * pushes each address through the ring, sleeping while it is full. When the cache has nothing (the
 * consumer still holds the memory) it waits a little and tries again, as the kernel test retries.
 * Returns the failed allocations. Cost: n allocs and pushes.
 *
 * @example
 * ```ts
 * producerLoop(cache, ring, sizes, aligns, cursor, 100_000);   // 0 when memory sufficed
 * ```
 */
export function producerLoop(cache: FragmentFace, ring: Int32Array, sizes: Int32Array, aligns: Int32Array, cursor: Int32Array, n: number): number {
  const mask = sizes.length - 1;
  let c = cursor[0]!;
  let failed = 0;
  for (let i = 0; i < n; i++) {
    let a = cache.alloc(sizes[c]!, aligns[c]!);
    while (a === -1) {
      failed++;
      Atomics.wait(ring, RING_IDLE_WORD, 0, 0.05);
      a = cache.alloc(sizes[c]!, aligns[c]!);
    }
    c = (c + 1) & mask;
    ringPushWaiting(ring, PAGE_FRAG_RING, a);
  }
  cursor[0] = c;
  return failed;
}

/**
 * The consumer of `page_frag_test`: pops `n` addresses (sleeping while the ring is empty) and frees
 * each from its own cache. Returns the sum of the addresses. Cost: n pops and frees.
 *
 * @example
 * ```ts
 * consumerLoop(cache, ring, 100_000);
 * ```
 */
export function consumerLoop(cache: FragmentFace, ring: Int32Array, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const a = ringPopWaiting(ring, PAGE_FRAG_RING);
    cache.free(a);
    sum += a;
  }
  return sum;
}

/**
 * The floor's producer: the ring alone, pushing `n` numbers. Cost: n pushes.
 *
 * @example
 * ```ts
 * ringProducerLoop(ring, 100_000);
 * ```
 */
export function ringProducerLoop(ring: Int32Array, n: number): number {
  for (let i = 0; i < n; i++) ringPushWaiting(ring, PAGE_FRAG_RING, i);
  return n;
}

/**
 * The floor's consumer: pops `n` numbers; returns their sum. Cost: n pops.
 *
 * @example
 * ```ts
 * ringConsumerLoop(ring, 100_000);
 * ```
 */
export function ringConsumerLoop(ring: Int32Array, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += ringPopWaiting(ring, PAGE_FRAG_RING);
  return sum;
}

/**
 * A seeded source of integers in `[0, n)` for tests (mulberry32, scaled from its high bits). A
 * linear congruential generator taken modulo `n` repeats its low bits with a short period, and in
 * float arithmetic `seed * 1103515245` is not even exact; this one is exact and uniform enough.
 *
 * @example
 * ```ts
 * const below = seededInts(11);
 * const pfn = below(1 << 14); // the same sequence on every run
 * ```
 */
export function seededInts(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n: number): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

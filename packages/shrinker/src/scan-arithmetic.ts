/**
 * The arithmetic of the kernel's `do_shrink_slab` (mm/shrinker.c), as pure functions on JS numbers.
 * Every value is a non-negative integer below 2^53; `>>` in the kernel is written as a floored
 * division here so counts above 2^31 stay exact.
 */

/** `x >> shift` for any non-negative safe integer (not limited to 32 bits). */
function shiftRight(x: number, shift: number): number {
  return Math.floor(x / 2 ** shift);
}

/**
 * New scan work a pass adds for a cache of `freeable` objects:
 * `(freeable >> priority) * 4 / seeks`, or `freeable / 2` when `seeks` is 0 (objects that cost no
 * I/O to recreate are trimmed hard whatever the priority). Integer division, as the kernel's `do_div`.
 *
 * Cost: O(1).
 *
 * @example
 * ```ts
 * scanDelta(10_000, 12, 2); // (10000 >> 12) * 4 / 2 = 2 * 4 / 2 = 4
 * scanDelta(10_000, 0, 0);  // 10000 / 2 = 5000
 * ```
 */
export function scanDelta(freeable: number, priority: number, seeks: number): number {
  if (seeks === 0) return Math.floor(freeable / 2);
  return Math.floor((shiftRight(freeable, priority) * 4) / seeks);
}

/**
 * Objects a pass scans in total: `min((deferred >> priority) + delta, 2 * freeable)`.
 *
 * Cost: O(1).
 *
 * @example
 * ```ts
 * totalScan(10_000, 3_000, 2, 2); // min((3000 >> 2) + (10000 >> 2) * 4 / 2, 20000) = min(750 + 5000, 20000) = 5750
 * ```
 */
export function totalScan(freeable: number, deferred: number, priority: number, seeks: number): number {
  return Math.min(shiftRight(deferred, priority) + scanDelta(freeable, priority, seeks), 2 * freeable);
}

/**
 * Work carried to the next pass on this node: the deferred work taken plus this pass's delta, less
 * what was scanned, never negative, capped at `2 * freeable`.
 *
 * Cost: O(1).
 *
 * @example
 * ```ts
 * nextDeferred(100, 0, 0, 100); // max(100 + 0 - 0, 0) capped at 200 = 100
 * nextDeferred(1000, 50, 0, 100); // 1050 capped at 200 = 200
 * ```
 */
export function nextDeferred(deferred: number, delta: number, scanned: number, freeable: number): number {
  return Math.min(Math.max(deferred + delta - scanned, 0), 2 * freeable);
}

/**
 * The sizes of the `scan` calls one pass makes when every call scans what it is asked: batches of
 * `batch` while at least `batch` remain, then, only if what remains is at least `freeable` (a cache
 * smaller than a batch under heavy pressure), one last short batch.
 *
 * Cost: O(total / batch) time and memory; for tests and explanations, not for hot paths.
 *
 * @example
 * ```ts
 * scanBatches(300, 1000, 128); // [128, 128]: 44 left over is below both batch and freeable
 * scanBatches(100, 60, 128);   // [100]: a small cache under pressure is scanned in one short call
 * ```
 */
export function scanBatches(total: number, freeable: number, batch: number): number[] {
  const out: number[] = [];
  while (total > 0 && (total >= batch || total >= freeable)) {
    const n = Math.min(batch, total);
    out.push(n);
    total -= n;
  }
  return out;
}

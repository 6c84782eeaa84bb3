import { ErrorCode, MmkitError, requireInteger } from "@mmkit/physmem";
import { DEF_PRIORITY } from "./constants.js";

/**
 * The arithmetic of the kernel's `do_shrink_slab` (mm/shrinker.c), as pure functions on JS numbers.
 * Every value is a non-negative integer below 2^53; `>>` in the kernel is written as a floored
 * division here so counts above 2^31 stay exact. So that they do: `freeable` is at most 2^50 (the
 * registry clamps counts there), deferred work, deltas, totals and scanned counts at most 2^52,
 * `priority` 0..12, `seeks` 0..2^20 and `batch` 1..2^40 (as `register` accepts them); anything else
 * throws `ERR_INVALID_ARGUMENT` (not an integer) or `ERR_OUT_OF_RANGE`, naming the argument.
 */

const MAX_FREEABLE = 2 ** 50;
const MAX_WORK = 2 ** 52;
const MAX_SEEKS = 2 ** 20;
const MAX_BATCH = 2 ** 40;
/** `scanBatches` builds its answer: at most this many batches. */
const MAX_BATCHES = 2 ** 20;

/** True for an integer in [0, max]; false for anything else (NaN, fractions, non-numbers, BigInts). */
function within(x: number, max: number): boolean {
  return Number.isSafeInteger(x) && x >= 0 && x <= max;
}

/** The diagnosis, off the fast path: throws for the first argument outside its range. */
function rejectArguments(fn: string, args: readonly (readonly [value: unknown, name: string, min: number, max: number])[]): never {
  for (const [value, name, min, max] of args) requireInteger(value, `${fn} ${name}`, min, max);
  throw new MmkitError(ErrorCode.InvalidArgument, `${fn}: bad arguments`);
}

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
  if (!(within(freeable, MAX_FREEABLE) && within(priority, DEF_PRIORITY) && within(seeks, MAX_SEEKS))) {
    rejectArguments("scanDelta", [
      [freeable, "freeable", 0, MAX_FREEABLE],
      [priority, "priority", 0, DEF_PRIORITY],
      [seeks, "seeks", 0, MAX_SEEKS],
    ]);
  }
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
  if (!(within(freeable, MAX_FREEABLE) && within(deferred, MAX_WORK) && within(priority, DEF_PRIORITY) && within(seeks, MAX_SEEKS))) {
    rejectArguments("totalScan", [
      [freeable, "freeable", 0, MAX_FREEABLE],
      [deferred, "deferred", 0, MAX_WORK],
      [priority, "priority", 0, DEF_PRIORITY],
      [seeks, "seeks", 0, MAX_SEEKS],
    ]);
  }
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
  if (!(within(deferred, MAX_WORK) && within(delta, MAX_WORK) && within(scanned, MAX_WORK) && within(freeable, MAX_FREEABLE))) {
    rejectArguments("nextDeferred", [
      [deferred, "deferred", 0, MAX_WORK],
      [delta, "delta", 0, MAX_WORK],
      [scanned, "scanned", 0, MAX_WORK],
      [freeable, "freeable", 0, MAX_FREEABLE],
    ]);
  }
  return Math.min(Math.max(deferred + delta - scanned, 0), 2 * freeable);
}

/**
 * The sizes of the `scan` calls one pass makes when every call scans what it is asked: batches of
 * `batch` while at least `batch` remain, then, only if what remains is at least `freeable` (a cache
 * smaller than a batch under heavy pressure), one last short batch.
 *
 * Cost: O(total / batch) time and memory; for tests and explanations, not for hot paths (at most
 * 2^20 batches: more is `ERR_OUT_OF_RANGE`).
 *
 * @example
 * ```ts
 * scanBatches(300, 1000, 128); // [128, 128]: 44 left over is below both batch and freeable
 * scanBatches(100, 60, 128);   // [100]: a small cache under pressure is scanned in one short call
 * ```
 */
export function scanBatches(total: number, freeable: number, batch: number): number[] {
  if (!(within(total, MAX_WORK) && within(freeable, MAX_FREEABLE) && within(batch, MAX_BATCH) && batch >= 1)) {
    rejectArguments("scanBatches", [
      [total, "total", 0, MAX_WORK],
      [freeable, "freeable", 0, MAX_FREEABLE],
      [batch, "batch", 1, MAX_BATCH],
    ]);
  }
  if (total / batch > MAX_BATCHES) {
    throw new MmkitError(ErrorCode.OutOfRange, `scanBatches(${total}, ${freeable}, ${batch}) would list ${Math.ceil(total / batch)} batches, more than ${MAX_BATCHES}`);
  }
  const out: number[] = [];
  while (total > 0 && (total >= batch || total >= freeable)) {
    const n = Math.min(batch, total);
    out.push(n);
    total -= n;
  }
  return out;
}

import { POW2, alignmentLog2, floorLog2 } from "./layout.js";
import {
  CPU_SHIFT,
  C_FLUSHED,
  C_MERGES,
  C_SPLITS,
  ORDERS,
  ORDER_MASK,
  ORDER_SHIFT,
  SHARED_FRONT_ORDERS,
  STATE_MASK,
  S_CACHED,
  S_FREE,
  S_NONE,
  frontStride,
  type SharedPotadArrays,
} from "./shared-layout.js";
import type { SharedSpaces } from "./shared-spaces.js";

/**
 * The buddy allocator behind a shared POTAD's fronts, over the shared tables: every function here
 * runs under the zone lock (or at creation, before anyone else can see the tables). Blocks are
 * global granule indices; a block of order k in space s starts at an absolute granule number
 * aligned to 2^k, as POTAD's blocks are aligned to their size. Splits keep the lower half's slot,
 * merges keep the lower buddy's, so a slot describes "the block starting at this granule".
 */
export interface SharedCore {
  readonly a: SharedPotadArrays;
  readonly sp: SharedSpaces;
  /** Ints per CPU in `fronts`. */
  readonly stride: number;
}

/** Bundles the arrays and the geometry. O(1). */
export function sharedCore(a: SharedPotadArrays, sp: SharedSpaces): SharedCore {
  return { a, sp, stride: frontStride(sp.count) };
}

/** Index in `fronts` of CPU `cpu`'s front of space `s`, front order `fi` ([head, count]). */
export function frontAt(c: SharedCore, cpu: number, s: number, fi: number): number {
  return cpu * c.stride + (s * SHARED_FRONT_ORDERS + fi) * 2;
}

/** Pushes the block at `g` on space `s`'s free list of order `k` (LIFO). O(1). */
export function pushFree(c: SharedCore, s: number, g: number, k: number): void {
  const { slots, heads, freeCounts } = c.a;
  const h = s * ORDERS + k;
  const head = heads[h]!;
  slots[g << 2] = S_FREE | (k << ORDER_SHIFT);
  slots[(g << 2) + 1] = head;
  slots[(g << 2) + 2] = -1;
  if (head >= 0) slots[(head << 2) + 2] = g;
  heads[h] = g;
  freeCounts[h]! += 1;
}

/** Takes the block at `g` off its free list of order `k` (its state is left for the caller). O(1). */
export function unlinkFree(c: SharedCore, s: number, g: number, k: number): void {
  const { slots, heads, freeCounts } = c.a;
  const n = slots[(g << 2) + 1]!;
  const p = slots[(g << 2) + 2]!;
  if (p >= 0) slots[(p << 2) + 1] = n;
  else heads[s * ORDERS + k] = n;
  if (n >= 0) slots[(n << 2) + 2] = p;
  freeCounts[s * ORDERS + k]! -= 1;
}

/**
 * The global index of the buddy of the order-`k` block at `g` in space `s`, or -1 when the buddy
 * would reach outside the space. O(1).
 */
export function buddyOf(c: SharedCore, s: number, g: number, k: number): number {
  const sp = c.sp;
  const local = g - sp.offset[s]!;
  const n = POW2[k]!;
  // Parity of the block's absolute granule number over 2^k: even blocks have their buddy above.
  const even = ((sp.baseGranule[s]! + local) / n) % 2 === 0;
  const b = even ? local + n : local - n;
  if (b < 0 || b + n > sp.granules[s]!) return -1;
  return sp.offset[s]! + b;
}

/**
 * Frees the order-`k` block at `g` of space `s` into the free lists, merging with free buddies as
 * far as they go. O(merges).
 */
export function freeBlock(c: SharedCore, s: number, g: number, k: number): void {
  const slots = c.a.slots;
  const top = c.sp.maxOrder[s]!;
  let merges = 0;
  while (k < top) {
    const b = buddyOf(c, s, g, k);
    if (b < 0 || slots[b << 2] !== (S_FREE | (k << ORDER_SHIFT))) break;
    unlinkFree(c, s, b, k);
    const high = b > g ? b : g;
    slots[high << 2] = S_NONE;
    if (b < g) g = b;
    k++;
    merges++;
  }
  if (merges > 0) c.a.counters[C_MERGES]! += merges;
  pushFree(c, s, g, k);
}

/**
 * Takes a free block of order `k` from space `s` (splitting a larger one; the upper halves go on
 * their free lists) and returns its global index with its state left to the caller, or -1 when
 * no free block of order >= k exists. O(orders) to find, O(1) per split.
 */
export function allocBlock(c: SharedCore, s: number, k: number): number {
  const { heads, slots } = c.a;
  const top = c.sp.maxOrder[s]!;
  const h0 = s * ORDERS;
  let j = k;
  while (j <= top && heads[h0 + j]! < 0) j++;
  if (j > top) return -1;
  const g = heads[h0 + j]!;
  unlinkFree(c, s, g, j);
  if (j > k) c.a.counters[C_SPLITS]! += j - k;
  while (j > k) {
    j--;
    pushFree(c, s, g + POW2[j]!, j);
  }
  slots[g << 2] = S_NONE | (k << ORDER_SHIFT);
  return g;
}

/**
 * Merges up to `n` blocks from the top of CPU `cpu`'s front (space `s`, front order `fi`) into
 * the free lists. Only that CPU's owner (or anyone while it is quiescent) may call it. O(n merges).
 */
export function flushFront(c: SharedCore, cpu: number, s: number, fi: number, n: number): number {
  const { fronts, slots } = c.a;
  const at = frontAt(c, cpu, s, fi);
  const k = c.sp.frontOrder[s]! + fi;
  let done = 0;
  while (done < n) {
    const g = fronts[at]!;
    if (g < 0) break;
    fronts[at] = slots[(g << 2) + 1]!;
    fronts[at + 1]! -= 1;
    freeBlock(c, s, g, k);
    done++;
  }
  c.a.counters[C_FLUSHED]! += done;
  return done;
}

/** Merges every block on CPU `cpu`'s fronts of space `s` (all spaces when `s` is -1). O(blocks held). */
export function drainFronts(c: SharedCore, cpu: number, s: number): void {
  for (let t = s < 0 ? 0 : s; t < (s < 0 ? c.sp.count : s + 1); t++) {
    for (let fi = 0; fi < SHARED_FRONT_ORDERS; fi++) flushFront(c, cpu, t, fi, Infinity);
  }
}

/** Pushes the order-`k` block at `g` on CPU `cpu`'s front `fi` of space `s`, marked cached there. Returns the new count. O(1). */
export function pushFront(c: SharedCore, cpu: number, s: number, fi: number, g: number, k: number): number {
  const { fronts, slots } = c.a;
  const at = frontAt(c, cpu, s, fi);
  slots[g << 2] = S_CACHED | (k << ORDER_SHIFT) | (cpu << CPU_SHIFT);
  slots[(g << 2) + 1] = fronts[at]!;
  fronts[at] = g;
  return (fronts[at + 1]! += 1);
}

/** The state bits of a `meta` word. */
export function stateOf(m: number): number {
  return m & STATE_MASK;
}

/** The order of a `meta` word. */
export function orderOf(m: number): number {
  return (m >> ORDER_SHIFT) & ORDER_MASK;
}

/**
 * Refills CPU `cpu`'s empty front `fi` of space `s` with up to `n` blocks of order `k` from the
 * free lists, in the order they were taken (so the front hands them out in that order, as the
 * kernel's `rmqueue_bulk` appends to the list's tail). Returns how many. O(n) blocks.
 */
export function refillFront(c: SharedCore, cpu: number, s: number, fi: number, k: number, n: number): number {
  const { fronts, slots } = c.a;
  const at = frontAt(c, cpu, s, fi);
  const cached = S_CACHED | (k << ORDER_SHIFT) | (cpu << CPU_SHIFT);
  let tail = -1;
  let done = 0;
  for (; done < n; done++) {
    const g = allocBlock(c, s, k);
    if (g < 0) break;
    slots[g << 2] = cached;
    slots[(g << 2) + 1] = -1;
    if (tail < 0) fronts[at] = g;
    else slots[(tail << 2) + 1] = g;
    tail = g;
  }
  fronts[at + 1]! += done;
  return done;
}

/** Covers space `s` with the largest aligned free blocks that fit, as `Potad.addSpace` does. At creation only. O(orders). */
export function tileSpace(c: SharedCore, s: number): void {
  const sp = c.sp;
  const granules = sp.granules[s]!;
  for (let local = 0; local < granules; ) {
    const k = Math.min(alignmentLog2(sp.baseGranule[s]! + local), floorLog2(granules - local));
    pushFree(c, s, sp.offset[s]! + local, k);
    local += POW2[k]!;
  }
}

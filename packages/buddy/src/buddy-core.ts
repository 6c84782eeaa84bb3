import { FALLBACK_ORDER, MigrateType, migratetypeIsMergeable } from "./constants.js";
import { addToFreeList, delFromFreeList, moveToFreeList } from "./free-lists.js";
import {
  FA_HEAD,
  FA_INTS,
  FA_LISTS,
  FA_NR_FREE,
  HEAD_KEY,
  MT_MASK,
  MT_SHIFT,
  NODE_SHIFT,
  ORDER_MASK,
  ORDER_SHIFT,
  PAGE_SHIFT,
  P_FLAGS,
  STATE_ALLOCATED,
  STATE_BUDDY,
  STATE_MASK,
  ZONE_INTS,
  Z_FREE,
  Z_FREE_CMA,
  Z_SPAN_END,
  Z_SPAN_START,
} from "./layout.js";
import type { BuddyState } from "./state.js";

/**
 * The buddy algorithm on one node's free lists: taking a block (`__rmqueue_smallest` + `expand`),
 * falling back to other migratetypes and stealing pageblocks (`__rmqueue_fallback`,
 * `steal_suitable_fallback`), and freeing with merging (`__free_one_page`, `buddy_merge_likely`).
 * Page indices are `pfn - s.base`. These functions do not check watermarks or validate arguments.
 */

/** Sets the migratetype of every pageblock of the block `idx` of `order` (`change_pageblock_range`). */
export function setPageblockRange(s: BuddyState, idx: number, order: number, mt: number): void {
  if (order < s.pbOrder) {
    s.pb[idx >> s.pbOrder] = mt;
    return;
  }
  const first = idx >> s.pbOrder;
  const count = 1 << (order - s.pbOrder);
  for (let i = 0; i < count; i++) s.pb[first + i] = mt;
}

/**
 * `expand()`: the block `idx` of order `high` was taken off its list for a request of order `low`;
 * put the upper halves back at the head of their lists, largest first, and keep the lower part.
 * O(high - low).
 */
export function expand(s: BuddyState, node: number, idx: number, low: number, high: number, mt: number): void {
  let size = 1 << high;
  while (high > low) {
    high--;
    size >>= 1;
    addToFreeList(s, node, idx + size, high, mt, false);
    s.counters.splits++;
  }
}

/** `__rmqueue_smallest`: the first block of the smallest order >= `order` on `mt`'s lists, split down. */
export function rmqueueSmallest(s: BuddyState, node: number, order: number, mt: number): number {
  const fa = s.fa;
  const max = s.maxOrder;
  let line = (node * (max + 1) + order) * FA_INTS + FA_LISTS + mt * 3 + FA_HEAD;
  for (let o = order; o <= max; o++, line += FA_INTS) {
    const head = fa[line]!;
    if (head < 0) continue;
    delFromFreeList(s, node, head, o, mt);
    if (o > order) expand(s, node, head, order, o, mt);
    return head;
  }
  return -1;
}

/** `can_steal_fallback`: may a fallback from a block of `order` claim its whole pageblock? */
function canStealFallback(s: BuddyState, order: number, startMt: number): boolean {
  if (order >= s.pbOrder) return true;
  return order >= s.pbOrder >> 1 || startMt === MigrateType.Reclaimable || startMt === MigrateType.Unmovable;
}

// find_suitable_fallback's second result; module-level so the hot path allocates nothing.
let canSteal = false;

/** `find_suitable_fallback`: the first fallback migratetype with a free block of `order`, or -1. */
function findSuitableFallback(s: BuddyState, node: number, order: number, startMt: number): number {
  const line = (node * (s.maxOrder + 1) + order) * FA_INTS;
  canSteal = false;
  if (s.fa[line + FA_NR_FREE] === 0) return -1;
  const fallbacks = FALLBACK_ORDER[startMt]!;
  for (let i = 0; i < fallbacks.length; i++) {
    const fmt = fallbacks[i]!;
    if (s.fa[line + FA_LISTS + fmt * 3 + FA_HEAD]! < 0) continue;
    if (canStealFallback(s, order, startMt)) canSteal = true;
    return fmt;
  }
  return -1;
}

/**
 * `__rmqueue_fallback`: no block of `startMt` is free; take the largest block of a fallback
 * migratetype (or, for a movable request that may not claim the block, the smallest), claiming its
 * pageblock when allowed. Returns the page index or -1. O(maxOrder + pageblock pages).
 */
export function rmqueueFallback(s: BuddyState, node: number, order: number, startMt: number): number {
  let current = -1;
  let fmt = -1;
  for (let o = s.maxOrder; o >= order; o--) {
    fmt = findSuitableFallback(s, node, o, startMt);
    if (fmt < 0) continue;
    current = o;
    if (!canSteal && startMt === MigrateType.Movable && o > order) {
      // find_smallest: a movable request that cannot claim the block splits the smallest one.
      for (let o2 = order; o2 <= s.maxOrder; o2++) {
        fmt = findSuitableFallback(s, node, o2, startMt);
        if (fmt >= 0) {
          current = o2;
          break;
        }
      }
    }
    break;
  }
  if (current < 0) return -1;
  const whole = canSteal && s.stealWholeBlocks;
  const head = s.fa[(node * (s.maxOrder + 1) + current) * FA_INTS + FA_LISTS + fmt * 3 + FA_HEAD]!;
  s.counters.fallbacks++;
  return stealSuitableFallback(s, node, head, current, order, startMt, whole);
}

/**
 * `steal_suitable_fallback`: take block `idx` (order `current`, on its pageblock's list) for a
 * request of `order` and `startMt`. Blocks of a pageblock or more change owner outright; smaller
 * ones claim their pageblock when at least half of it is free or alike; otherwise the block is split
 * and its remainder stays with the pageblock's own type.
 */
function stealSuitableFallback(s: BuddyState, node: number, idx: number, current: number, order: number, startMt: number, whole: boolean): number {
  const blockMt = s.pb[idx >> s.pbOrder]!;
  if (current >= s.pbOrder && s.stealWholeBlocks) {
    delFromFreeList(s, node, idx, current, blockMt);
    setPageblockRange(s, idx, current, startMt);
    s.counters.pageblockSteals += 1 << (current - s.pbOrder);
    expand(s, node, idx, order, current, startMt);
    return idx;
  }
  if (whole) {
    const pbPages = 1 << s.pbOrder;
    const start = idx & ~(pbPages - 1);
    const end = start + pbPages;
    const z = node * ZONE_INTS;
    if (start >= s.zone[z + Z_SPAN_START]! && end <= s.zone[z + Z_SPAN_END]!) {
      // prep_move_freepages_block: count free and movable pages of the pageblock.
      const mem = s.mem;
      let free = 0;
      let movable = 0;
      for (let p = start; p < end; ) {
        const f = mem[p << PAGE_SHIFT]!;
        const state = f & STATE_MASK;
        if (state === 0) {
          p++;
          continue;
        }
        const n = 1 << ((f >> ORDER_SHIFT) & ORDER_MASK);
        if (state === STATE_BUDDY) free += n;
        else if (state === STATE_ALLOCATED && ((f >> MT_SHIFT) & MT_MASK) === MigrateType.Movable) movable += n;
        p += n;
      }
      let alike: number;
      if (startMt === MigrateType.Movable) alike = movable;
      else alike = blockMt === MigrateType.Movable ? pbPages - (free + movable) : 0;
      if (free + alike >= pbPages >> 1) {
        moveFreepagesBlock(s, node, start, end, blockMt, startMt);
        s.counters.pageblockSteals++;
        return rmqueueSmallest(s, node, order, startMt);
      }
    }
  }
  // single_page
  delFromFreeList(s, node, idx, current, blockMt);
  if (current > order) expand(s, node, idx, order, current, blockMt);
  return idx;
}

/** `__move_freepages_block`: moves every free block of a pageblock to `toMt`'s lists and retypes it. */
function moveFreepagesBlock(s: BuddyState, node: number, start: number, end: number, fromMt: number, toMt: number): void {
  const mem = s.mem;
  for (let p = start; p < end; ) {
    const f = mem[p << PAGE_SHIFT]!;
    if ((f & STATE_MASK) === STATE_BUDDY) {
      const o = (f >> ORDER_SHIFT) & ORDER_MASK;
      moveToFreeList(s, node, p, o, fromMt, toMt);
      p += 1 << o;
    } else p++;
  }
  s.pb[start >> s.pbOrder] = toMt;
}

/**
 * `__rmqueue`: a block of `order` for `mt` on `node`, falling back to other migratetypes; -1 if
 * none. With a CMA area, a Movable request may use it (`ALLOC_CMA`).
 */
export function rmqueue(s: BuddyState, node: number, order: number, mt: number): number {
  if (mt === MigrateType.Movable && s.cmaStart >= 0) return rmqueueMovableCma(s, node, order);
  const idx = rmqueueSmallest(s, node, order, mt);
  if (idx >= 0 || !s.groupByMobility) return idx;
  return rmqueueFallback(s, node, order, mt);
}

/**
 * `__free_one_page`: frees block `idx` of `order` (whose pageblock type is `mt`) and merges it with
 * free buddies of the same order and node, up to maxOrder. The result goes to the tail of its list
 * when `toTail`, or when its next-higher buddy is free (`buddy_merge_likely`), else to the head.
 * O(merges); touches one page record per buddy inspected.
 */
export function freeOnePage(s: BuddyState, node: number, idx: number, order: number, mt: number, toTail: boolean): void {
  const mem = s.mem;
  const max = s.maxOrder;
  const nodeBits = node << NODE_SHIFT;
  mem[(idx << PAGE_SHIFT) + P_FLAGS] = nodeBits;
  while (order < max) {
    const buddy = idx ^ (1 << order);
    const bf = mem[(buddy << PAGE_SHIFT) + P_FLAGS]!;
    if ((bf & HEAD_KEY) !== (nodeBits | (order << ORDER_SHIFT) | STATE_BUDDY)) break;
    const bmt = (bf >> MT_SHIFT) & MT_MASK;
    if (bmt !== mt) {
      // An Isolate or CMA block never merges with another type (`migratetype_is_mergeable`).
      if (!migratetypeIsMergeable(mt) || !migratetypeIsMergeable(bmt)) break;
      // Pageblocks of different types meet only at order >= pageblock order: the buddy takes ours.
      setPageblockRange(s, buddy, order, mt);
    }
    delFromFreeList(s, node, buddy, order, bmt);
    mem[(buddy << PAGE_SHIFT) + P_FLAGS] = nodeBits;
    idx &= buddy;
    order++;
    s.counters.merges++;
  }
  let tail = toTail;
  if (!tail && order < max - 1) {
    // buddy_merge_likely: if our buddy is freed next, will the merged block merge again?
    const higher = idx & ~(1 << order);
    const hb = higher ^ (1 << (order + 1));
    tail = (mem[(hb << PAGE_SHIFT) + P_FLAGS]! & HEAD_KEY) === (nodeBits | ((order + 1) << ORDER_SHIFT) | STATE_BUDDY);
  }
  addToFreeList(s, node, idx, order, mt, tail);
}

/**
 * Frees block `idx` of `order` with its pageblock's migratetype. A block larger than a pageblock
 * whose pageblocks differ in type (some isolated, or CMA) is freed a pageblock at a time, each
 * to its own type's lists (`split_large_buddy`). O(merges), O(pageblocks of the block) when larger.
 */
export function freeToBuddy(s: BuddyState, idx: number, order: number): void {
  const node = (s.mem[idx << PAGE_SHIFT]! >>> NODE_SHIFT) & 1023;
  const mt = s.pb[idx >> s.pbOrder]!;
  if (order > s.pbOrder && !samePageblockTypes(s, idx, order, mt)) {
    freeByPageblock(s, node, idx, order);
    return;
  }
  freeOnePage(s, node, idx, order, mt, false);
}

/** Are all pageblocks of block `idx` of `order` (> pageblock order) of type `mt`? */
function samePageblockTypes(s: BuddyState, idx: number, order: number, mt: number): boolean {
  const first = idx >> s.pbOrder;
  const count = 1 << (order - s.pbOrder);
  for (let i = 1; i < count; i++) if (s.pb[first + i] !== mt) return false;
  return true;
}

/** `split_large_buddy`: frees block `idx` of `order` (> pageblock order) one pageblock at a time, each with its own type, merging. */
export function freeByPageblock(s: BuddyState, node: number, idx: number, order: number): void {
  const pbPages = 1 << s.pbOrder;
  s.mem[idx << PAGE_SHIFT] = node << NODE_SHIFT;
  for (let p = idx; p < idx + (1 << order); p += pbPages) freeOnePage(s, node, p, s.pbOrder, s.pb[p >> s.pbOrder]!, false);
}

/**
 * `__rmqueue` for a Movable request when a CMA area exists: the CMA lists first while free CMA
 * pages are more than half of the node's free pages (balancing the two, as the kernel does), then
 * the Movable lists, then CMA, then the fallback types. O(maxOrder) per list tried.
 */
function rmqueueMovableCma(s: BuddyState, node: number, order: number): number {
  const z = node * ZONE_INTS;
  let idx = -1;
  if (s.zone[z + Z_FREE_CMA]! > s.zone[z + Z_FREE]! >> 1) idx = rmqueueSmallest(s, node, order, MigrateType.Cma);
  if (idx < 0) idx = rmqueueSmallest(s, node, order, MigrateType.Movable);
  if (idx < 0) idx = rmqueueSmallest(s, node, order, MigrateType.Cma);
  if (idx < 0 && s.groupByMobility) idx = rmqueueFallback(s, node, order, MigrateType.Movable);
  return idx;
}

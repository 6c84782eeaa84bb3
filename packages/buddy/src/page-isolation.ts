import { freeToBuddy } from "./buddy-core.js";
import { MigrateType } from "./constants.js";
import { delFromFreeList } from "./free-lists.js";
import { MT_MASK, MT_SHIFT, NODE_MASK, NODE_SHIFT, ORDER_MASK, ORDER_SHIFT, PAGE_SHIFT, STATE_BUDDY, STATE_MASK } from "./layout.js";
import type { BuddyState } from "./state.js";

/**
 * Pageblock isolation (mm/page_isolation.c): a pageblock whose type is set to `MIGRATE_ISOLATE`
 * has its free pages moved to the Isolate lists, where no allocation looks and which the zone's
 * free-page count leaves out; pages freed into it later land there too. Undoing it restores the
 * old type and gives the free pages back, merging as usual. Page indices are `pfn - s.base`;
 * the caller drains the per-CPU lists first (pages there would otherwise escape the isolation).
 */

/**
 * Page index of the head of the block (free, per-CPU or allocated) holding page `idx`, or -1 for a
 * page of no block (a hole). O(maxOrder).
 *
 * @example
 * ```ts
 * blockHead(s, 5);   // 4 when pages 4..7 are one order-2 block
 * ```
 */
export function blockHead(s: BuddyState, idx: number): number {
  for (let o = 0; o <= s.maxOrder; o++) {
    const h = idx & ~((1 << o) - 1);
    const f = s.mem[h << PAGE_SHIFT]!;
    if ((f & STATE_MASK) !== 0 && ((f >> ORDER_SHIFT) & ORDER_MASK) >= o) return h;
  }
  return -1;
}

/**
 * Walks the blocks overlapping [start, end) in address order, from the head of the block holding
 * `start` (pages of holes one by one, unvisited), calling `visit(p, flags)` with each head's page
 * index and flags word; stops at the first head for which it returns true and returns that index,
 * else -1. The step past a block uses the flags read before `visit`, so `visit` may free, merge or
 * split that block. O(blocks walked).
 *
 * @example
 * ```ts
 * walkBlocks(s, 0, 64, (p, f) => (f & STATE_MASK) === STATE_ALLOCATED);   // the first allocated head, or -1
 * ```
 */
export function walkBlocks(s: BuddyState, start: number, end: number, visit: (p: number, flags: number) => boolean | void): number {
  const mem = s.mem;
  const head = blockHead(s, start);
  for (let p = head >= 0 ? head : start; p < end; ) {
    const f = mem[p << PAGE_SHIFT]!;
    if ((f & STATE_MASK) === 0) {
      p++;
      continue;
    }
    if (visit(p, f) === true) return p;
    p += 1 << ((f >> ORDER_SHIFT) & ORDER_MASK);
  }
  return -1;
}

/**
 * Takes every free block overlapping [start, end) off its list and frees it again, so it goes to
 * the lists of its pageblocks' current types: a block larger than a pageblock whose pageblocks now
 * differ is split a pageblock at a time (`split_large_buddy`). Isolate blocks never merge with
 * others, so a block freed here cannot swallow one not yet visited. O(pages of the range + merges).
 */
function refreeRange(s: BuddyState, start: number, end: number): void {
  walkBlocks(s, start, end, (p, f) => {
    if ((f & STATE_MASK) !== STATE_BUDDY) return;
    const order = (f >> ORDER_SHIFT) & ORDER_MASK;
    delFromFreeList(s, (f >>> NODE_SHIFT) & NODE_MASK, p, order, (f >> MT_SHIFT) & MT_MASK);
    freeToBuddy(s, p, order);
  });
}

/**
 * Gives the pageblocks of [start, end) (both multiples of the pageblock size) type `mt` and moves
 * their free pages to `mt`'s lists (`set_pageblock_migratetype` + `move_freepages_block`). Returns
 * the old types. O(pages of the range + merges).
 *
 * @example
 * ```ts
 * retypePageblocks(s, s.cmaStart, s.cmaEnd, MigrateType.Cma);   // cma_activate_area
 * ```
 */
export function retypePageblocks(s: BuddyState, start: number, end: number, mt: number): Uint8Array {
  const first = start >> s.pbOrder;
  const last = end >> s.pbOrder;
  const saved = s.pb.slice(first, last);
  s.pb.fill(mt, first, last);
  refreeRange(s, start, end);
  return saved;
}

/**
 * `start_isolate_page_range` for the pageblocks covering [start, end) (both multiples of the
 * pageblock size): sets them Isolate and moves their free pages to the Isolate lists. Returns the
 * old types, for {@link undoIsolatePageblocks}. O(pages of the range).
 *
 * @example
 * ```ts
 * const saved = isolatePageblocks(s, 512, 1024);   // pfns 512..1023 (one order-9 pageblock)
 * ```
 */
export function isolatePageblocks(s: BuddyState, start: number, end: number): Uint8Array {
  return retypePageblocks(s, start, end, MigrateType.Isolate);
}

/**
 * `undo_isolate_page_range`: gives the pageblocks of [start, end) their `saved` types back and
 * returns their free pages to those types' lists, merging. O(pages of the range + merges).
 *
 * @example
 * ```ts
 * undoIsolatePageblocks(s, 512, 1024, saved);
 * ```
 */
export function undoIsolatePageblocks(s: BuddyState, start: number, end: number, saved: Uint8Array): void {
  s.pb.set(saved, start >> s.pbOrder);
  refreeRange(s, start, end);
}

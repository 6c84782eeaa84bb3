import { MigrateType } from "./constants.js";
import { FA_COUNT, FA_HEAD, FA_INTS, FA_LISTS, FA_NR_FREE, FA_TAIL, PAGE_SHIFT, P_FLAGS, P_NEXT, P_PREV, STATE_BUDDY, ZONE_INTS, Z_FREE, Z_FREE_CMA, headFlags } from "./layout.js";
import type { BuddyState } from "./state.js";

/**
 * The shared free lists: one doubly linked list per node, order and migratetype, threaded through
 * the page records' next/prev slots (the kernel's `page->buddy_list`), with the head, tail and
 * count in the node's `free_area` line for that order. Each operation is O(1) and touches the
 * block's page record, the order's `free_area` line, the zone line, and the record of at most one
 * neighbour in the list.
 *
 * Free-page accounting follows `account_freepages`: pages on an Isolate list are not free pages of
 * the zone (nobody may take them), and pages on a CMA list are also counted as free CMA pages.
 */

/** Migratetypes from here on (CMA, Isolate) have their own free-page accounting. */
const FIRST_SPECIAL_MT = MigrateType.Cma;

/** `account_freepages`: adds `pages` (negative to take away) to the zone's free counters for a list of `mt`. */
function accountFreepages(s: BuddyState, node: number, pages: number, mt: number): void {
  if (mt === MigrateType.Isolate) return;
  s.zone[node * ZONE_INTS + Z_FREE] += pages;
  if (mt === MigrateType.Cma) s.zone[node * ZONE_INTS + Z_FREE_CMA] += pages;
}

/** Index into `s.fa` of the free_area line of (node, order). */
export function faLine(s: BuddyState, node: number, order: number): number {
  return (node * (s.maxOrder + 1) + order) * FA_INTS;
}

/** Puts the free block `idx` of `order` on list (node, order, mt), at the head or the tail. */
export function addToFreeList(s: BuddyState, node: number, idx: number, order: number, mt: number, tail: boolean): void {
  const mem = s.mem;
  const fa = s.fa;
  const line = (node * (s.maxOrder + 1) + order) * FA_INTS;
  const list = line + FA_LISTS + mt * 3;
  const rec = idx << PAGE_SHIFT;
  mem[rec + P_FLAGS] = headFlags(node, STATE_BUDDY, mt, order);
  if (tail) {
    const t = fa[list + FA_TAIL]!;
    mem[rec + P_NEXT] = -1;
    mem[rec + P_PREV] = t;
    if (t >= 0) mem[(t << PAGE_SHIFT) + P_NEXT] = idx;
    else fa[list + FA_HEAD] = idx;
    fa[list + FA_TAIL] = idx;
  } else {
    const h = fa[list + FA_HEAD]!;
    mem[rec + P_NEXT] = h;
    mem[rec + P_PREV] = -1;
    if (h >= 0) mem[(h << PAGE_SHIFT) + P_PREV] = idx;
    else fa[list + FA_TAIL] = idx;
    fa[list + FA_HEAD] = idx;
  }
  fa[list + FA_COUNT]++;
  fa[line + FA_NR_FREE]++;
  if (mt < FIRST_SPECIAL_MT) s.zone[node * ZONE_INTS + Z_FREE] += 1 << order;
  else accountFreepages(s, node, 1 << order, mt);
}

/** Unlinks block `idx` from list (node, order, mt). Leaves its flags to the caller. */
export function delFromFreeList(s: BuddyState, node: number, idx: number, order: number, mt: number): void {
  const mem = s.mem;
  const fa = s.fa;
  const line = (node * (s.maxOrder + 1) + order) * FA_INTS;
  const list = line + FA_LISTS + mt * 3;
  const rec = idx << PAGE_SHIFT;
  const next = mem[rec + P_NEXT]!;
  const prev = mem[rec + P_PREV]!;
  if (next >= 0) mem[(next << PAGE_SHIFT) + P_PREV] = prev;
  else fa[list + FA_TAIL] = prev;
  if (prev >= 0) mem[(prev << PAGE_SHIFT) + P_NEXT] = next;
  else fa[list + FA_HEAD] = next;
  fa[list + FA_COUNT]--;
  fa[line + FA_NR_FREE]--;
  if (mt < FIRST_SPECIAL_MT) s.zone[node * ZONE_INTS + Z_FREE] -= 1 << order;
  else accountFreepages(s, node, -(1 << order), mt);
}

/** Moves free block `idx` to the tail of another migratetype's list of the same order (`move_to_free_list`). */
export function moveToFreeList(s: BuddyState, node: number, idx: number, order: number, fromMt: number, toMt: number): void {
  delFromFreeList(s, node, idx, order, fromMt);
  addToFreeList(s, node, idx, order, toMt, true);
}

import { watermarkOk } from "./allocate.js";
import type { CompactResult } from "./compaction.js";
import { PAGE_ALLOC_COSTLY_ORDER } from "./constants.js";
import { fragmentationIndex } from "./fragmentation.js";
import { ZONE_INTS, Z_FREE, Z_LOW, Z_MIN } from "./layout.js";
import type { BuddyState } from "./state.js";
import { freeBlocksPerOrder } from "./statistics.js";

/** `vm.extfrag_threshold` default: below this fragmentation index a failure is lack of memory, not fragmentation. */
export const DEFAULT_EXTFRAG_THRESHOLD = 500;

/** `compact_gap`: free pages compaction needs beyond the watermark, room for the targets (2 << order). */
export function compactGap(order: number): number {
  return 2 * 2 ** order;
}

/**
 * `compaction_suit_allocation_order` + `compaction_suitable` for node slot `node`: "success" when an
 * allocation of `order` would already succeed (min watermark and a free block); "skipped" when the
 * node has too few free pages to compact into (the order-0 watermark, low for costly orders else
 * min, plus {@link compactGap}) or when, for a costly order, the fragmentation index is in
 * [0, extfragThreshold] (the failure is lack of memory); else "continue". O(maxOrder).
 */
export function compactionSuitable(s: BuddyState, node: number, order: number, extfragThreshold: number): CompactResult {
  if (watermarkOk(s, node, order, 0)) return "success";
  const z = node * ZONE_INTS;
  const mark = s.zone[z + (order > PAGE_ALLOC_COSTLY_ORDER ? Z_LOW : Z_MIN)]! + compactGap(order);
  if (s.zone[z + Z_FREE]! <= mark) return "skipped";
  if (order > PAGE_ALLOC_COSTLY_ORDER) {
    const index = fragmentationIndex(order, freeBlocksPerOrder(s, node));
    if (index >= 0 && index <= extfragThreshold) return "skipped";
  }
  return "continue";
}

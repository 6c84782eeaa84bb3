import type { BlockTable } from "./block-table.js";
import { CACHED, H_COUNTS, H_FRONT, NO_DESCRIPTOR, POW2, RECORD_STRIDE, R_ADDR, R_DESC, R_DESC_BYTES, R_NEXT, R_STATE } from "./layout.js";

/**
 * The fronts of one space (layout in `layout.ts`): per front k = 0..3 (order frontOrder + k; the
 * functions here take k), a LIFO stack of freed blocks
 * that were not merged yet (deferred coalescing), threaded through the records' NEXT by address,
 * with its top in the header's line 0 and its count in 8 bits of `COUNTS` on the same line.
 *
 * Cost: O(1); push touches header line 0 and the block's record; pop the same two lines (the
 * top's record is found by one hash probe).
 *
 * @example
 * ```ts
 * pushCached(hdr, h, blocks, r, 0);
 * frontCount(hdr, h, 0);            // 1
 * popCached(hdr, h, blocks, 0);     // r's slot; its block is the caller's now
 * ```
 */
export function pushCached(hdr: Float64Array, h: number, blocks: BlockTable, r: number, order: number): void {
  const rec = blocks.records;
  const o = r * RECORD_STRIDE;
  rec[o + R_NEXT] = hdr[h + H_FRONT + order]!;
  rec[o + R_STATE] = CACHED;
  rec[o + R_DESC] = NO_DESCRIPTOR;
  rec[o + R_DESC_BYTES] = 0;
  hdr[h + H_FRONT + order] = rec[o + R_ADDR]!;
  hdr[h + H_COUNTS] += POW2[8 * order]!;
}

/** Pops order `order`'s front (it must not be empty) and returns the block's slot (state still CACHED). */
export function popCached(hdr: Float64Array, h: number, blocks: BlockTable, order: number): number {
  const r = blocks.find(hdr[h + H_FRONT + order]!);
  hdr[h + H_FRONT + order] = blocks.records[r * RECORD_STRIDE + R_NEXT]!;
  hdr[h + H_COUNTS] -= POW2[8 * order]!;
  return r;
}

/** Blocks on order `order`'s front. */
export function frontCount(hdr: Float64Array, h: number, order: number): number {
  return (hdr[h + H_COUNTS]! >>> (8 * order)) & 255;
}

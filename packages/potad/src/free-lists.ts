import type { BlockTable } from "./block-table.js";
import { FREE, H_BITMAP_HI, H_BITMAP_LO, H_HEADS, RECORD_STRIDE, R_ADDR, R_NEXT, R_PREV, R_STATE } from "./layout.js";

/**
 * Per-order free lists of one space's buddy allocator, kept in its header (`hdr[h + H_HEADS +
 * order]`, an address) and threaded through the block records by address, with a two-word bitmap
 * of non-empty orders for a constant-time fit. The lists are LIFO and doubly linked, except that a
 * list's head keeps a stale PREV: popping the head writes only the header, and pushing writes the
 * old head's PREV.
 *
 * Cost: every function is O(1) (a hash probe per neighbour); push touches the header line, the
 * record and the old head's record; unlink of the head touches the header line and the record;
 * unlink from the middle touches the record and its two neighbours.
 *
 * @example
 * ```ts
 * pushFree(hdr, h, blocks, r, 3);
 * firstOrderAtLeast(hdr, h, 0);   // 3
 * unlinkFree(hdr, h, blocks, r, 3);
 * firstOrderAtLeast(hdr, h, 0);   // -1
 * ```
 */
export function pushFree(hdr: Float64Array, h: number, blocks: BlockTable, r: number, order: number): void {
  const rec = blocks.records;
  const o = r * RECORD_STRIDE;
  const head = hdr[h + H_HEADS + order]!;
  const address = rec[o + R_ADDR]!;
  rec[o + R_NEXT] = head;
  rec[o + R_PREV] = -1;
  rec[o + R_STATE] = FREE;
  if (head >= 0) rec[blocks.find(head) * RECORD_STRIDE + R_PREV] = address;
  else setBit(hdr, h, order);
  hdr[h + H_HEADS + order] = address;
}

/** Takes the free block in slot `r` off order `order`'s list (it must be on it). */
export function unlinkFree(hdr: Float64Array, h: number, blocks: BlockTable, r: number, order: number): void {
  const rec = blocks.records;
  const o = r * RECORD_STRIDE;
  const next = rec[o + R_NEXT]!;
  if (hdr[h + H_HEADS + order] === rec[o + R_ADDR]) {
    hdr[h + H_HEADS + order] = next;
    if (next < 0) clearBit(hdr, h, order);
  } else {
    const prev = rec[o + R_PREV]!;
    rec[blocks.find(prev) * RECORD_STRIDE + R_NEXT] = next;
    if (next >= 0) rec[blocks.find(next) * RECORD_STRIDE + R_PREV] = prev;
  }
}

/** The lowest order >= `order` whose list is non-empty, or -1: find-first-set on the bitmap. */
export function firstOrderAtLeast(hdr: Float64Array, h: number, order: number): number {
  if (order < 32) {
    const lo = hdr[h + H_BITMAP_LO]! & (-1 << order);
    if (lo !== 0) return 31 - Math.clz32(lo & -lo);
    const hi = hdr[h + H_BITMAP_HI]! | 0;
    return hi === 0 ? -1 : 63 - Math.clz32(hi & -hi);
  }
  const hi = hdr[h + H_BITMAP_HI]! & (-1 << (order - 32));
  return hi === 0 ? -1 : 63 - Math.clz32(hi & -hi);
}

function setBit(hdr: Float64Array, h: number, order: number): void {
  if (order < 32) hdr[h + H_BITMAP_LO] = hdr[h + H_BITMAP_LO]! | (1 << order);
  else hdr[h + H_BITMAP_HI] = hdr[h + H_BITMAP_HI]! | (1 << (order - 32));
}

function clearBit(hdr: Float64Array, h: number, order: number): void {
  if (order < 32) hdr[h + H_BITMAP_LO] = hdr[h + H_BITMAP_LO]! & ~(1 << order);
  else hdr[h + H_BITMAP_HI] = hdr[h + H_BITMAP_HI]! & ~(1 << (order - 32));
}

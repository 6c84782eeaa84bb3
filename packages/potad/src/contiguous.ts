import type { BlockTable } from "./block-table.js";
import { firstOrderAtLeast, pushFree, unlinkFree } from "./free-lists.js";
import { ALLOCATED, ceilLog2, FREE, H_HEADS, NO_DESCRIPTOR, PIECE, POW2, RECORD_STRIDE, R_DESC, R_DESC_BYTES, R_LOG2, R_NEXT, R_PREV, R_SPACE, R_STATE } from "./layout.js";

/**
 * Contiguous allocation with a weaker alignment (what CMA serves today): `size` bytes aligned to
 * `2^alignLog2` only, made of several adjacent free blocks when no single block is free. The
 * caller drains the space's fronts first, so every free block is on a free list.
 *
 * Search: first any free block of at least `size` (the bitmap, O(1)); then, for piece orders p
 * from just below the size down to the alignment, every free block of order exactly p is tried as
 * the start of the window: the window fits when the free blocks that follow it cover `size`. A
 * window can always start at such a block (a fully free 2^p-aligned region lies inside one free
 * block of order >= p, by the coalescing invariant, and the earliest start is the best), and blocks
 * of higher order were tried at a higher p already, so each free block is tried once.
 *
 * Cost: O(free blocks of the tried orders x blocks per window) hash probes, bounded by the free
 * blocks of the space; not constant time (nor is CMA).
 *
 * @example
 * ```ts
 * const start = findWindow(blocks, hdr, h, s, 12, 20, 8 << 20, 8);   // 8 MiB at 1 MiB, 4 KiB granule
 * if (start >= 0) carveWindow(blocks, hdr, h, s, 12, start, 8 << 20, -1, 0);
 * ```
 */
export function findWindow(blocks: BlockTable, hdr: Float64Array, h: number, s: number, granuleLog2: number, maxOrder: number, size: number, alignOrder: number): number {
  const rec = blocks.records;
  const whole = ceilOrder(size, granuleLog2);
  const j = whole <= maxOrder ? firstOrderAtLeast(hdr, h, whole) : -1;
  if (j >= 0) return hdr[h + H_HEADS + j]!;
  for (let p = Math.min(whole - 1, maxOrder); p >= alignOrder; p--) {
    for (let start = hdr[h + H_HEADS + p]!; start >= 0; start = rec[blocks.find(start) * RECORD_STRIDE + R_NEXT]!) {
      if (freeRunCovers(blocks, s, start, size)) return start;
    }
  }
  return -1;
}

/** True when the free blocks of space `s` starting at `start` cover `size` bytes. */
function freeRunCovers(blocks: BlockTable, s: number, start: number, size: number): boolean {
  const rec = blocks.records;
  const end = start + size;
  let cur = start;
  while (cur < end) {
    const r = blocks.find(cur);
    if (r < 0) return false;
    const o = r * RECORD_STRIDE;
    if (rec[o + R_STATE] !== FREE || rec[o + R_SPACE] !== s) return false;
    cur += POW2[rec[o + R_LOG2]!]!;
  }
  return true;
}

/**
 * Turns the free window `[start, start + size)` (found by {@link findWindow}) into one allocation:
 * the blocks inside it become its pieces, chained from the head (the block at `start`) through
 * NEXT by address, each piece's PREV naming the head's address; the last block, when it reaches
 * past the window, is split and its outer halves stay free. The caller reserved `MAX_ORDERS`
 * records beforehand (inserting never moves a record, and nothing is removed here).
 */
export function carveWindow(blocks: BlockTable, hdr: Float64Array, h: number, s: number, granuleLog2: number, start: number, size: number, descriptor: number, descriptorBytes: number): void {
  const rec = blocks.records;
  const end = start + size;
  let last = -1;
  let cur = start;
  while (cur < end) {
    let r = blocks.find(cur);
    let e = rec[r * RECORD_STRIDE + R_LOG2]!;
    unlinkFree(hdr, h, blocks, r, e - granuleLog2);
    while (cur + POW2[e]! > end) {
      e--;
      const upper = cur + POW2[e]!;
      const u = blocks.insert(upper);
      const uo = u * RECORD_STRIDE;
      rec[uo + R_LOG2] = e;
      rec[uo + R_SPACE] = s;
      rec[uo + R_DESC] = NO_DESCRIPTOR;
      rec[uo + R_DESC_BYTES] = 0;
      rec[r * RECORD_STRIDE + R_LOG2] = e;
      if (upper >= end) {
        pushFree(hdr, h, blocks, u, e - granuleLog2);
      } else {
        // The lower half lies inside the window: it is a piece; go on splitting the upper half.
        rec[uo + R_STATE] = FREE;
        linkPiece(rec, r, cur, start, last, descriptor, descriptorBytes);
        last = r;
        cur = upper;
        r = u;
      }
    }
    linkPiece(rec, r, cur, start, last, descriptor, descriptorBytes);
    last = r;
    cur += POW2[e]!;
  }
}

/** Makes slot `r` (the block at `address`) the next piece of the allocation at `head`, after slot `last`. */
function linkPiece(rec: Float64Array, r: number, address: number, head: number, last: number, descriptor: number, descriptorBytes: number): void {
  const o = r * RECORD_STRIDE;
  rec[o + R_NEXT] = -1;
  if (last >= 0) rec[last * RECORD_STRIDE + R_NEXT] = address;
  if (address === head) {
    rec[o + R_STATE] = ALLOCATED;
    rec[o + R_PREV] = -1;
    rec[o + R_DESC] = descriptor;
    rec[o + R_DESC_BYTES] = descriptorBytes;
  } else {
    rec[o + R_STATE] = PIECE;
    rec[o + R_PREV] = head;
    rec[o + R_DESC] = NO_DESCRIPTOR;
    rec[o + R_DESC_BYTES] = 0;
  }
}

/** Order (relative to the granule) of the smallest block holding `size` bytes. */
function ceilOrder(size: number, granuleLog2: number): number {
  return Math.max(0, ceilLog2(size) - granuleLog2);
}

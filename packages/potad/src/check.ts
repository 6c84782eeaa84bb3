import { ErrorCode, MmkitError } from "@mmkit/physmem";
import type { BlockTable } from "./block-table.js";
import type { DescriptorIndex } from "./descriptor-index.js";
import { frontCount } from "./front.js";
import {
  ALLOCATED,
  CACHED,
  FREE,
  FRONT_ORDERS,
  HEADER_STRIDE,
  H_ALLOCATED,
  H_BASE,
  H_BITMAP_HI,
  H_BITMAP_LO,
  H_COUNTS,
  H_DESC_BYTES,
  H_FRONT,
  H_HEADS,
  H_SHAPE,
  H_SIZE,
  MAX_ORDERS,
  NO_DESCRIPTOR,
  PIECE,
  POW2,
  RECORD_STRIDE,
  R_ADDR,
  R_DESC,
  R_DESC_BYTES,
  R_LOG2,
  R_NEXT,
  R_PREV,
  R_SPACE,
  R_STATE,
  MAX_FRONT_ORDER,
} from "./layout.js";
import type { SpaceTable } from "./space-table.js";

function fail(message: string): never {
  throw new MmkitError(ErrorCode.Invariant, `potad: ${message}`);
}

/**
 * Validates every invariant of a POTAD and throws `ERR_INVARIANT` on the first broken one:
 * - the block table: every live record is found by its address, the count, the load;
 * - per space: bit k of the bitmap is set iff order k's list is non-empty; every listed block is
 *   FREE, of that order and space, aligned to its size; PREV is right for every non-head; every
 *   FREE record of the space is on a list exactly once;
 * - per space: its SHAPE names a frontOrder in [0, MAX_ORDERS - 4]; per front k (order
 *   frontOrder + k): the front holds `count` CACHED blocks of that order and space, at most
 *   `frontHigh`, and every CACHED record is on its front exactly once;
 * - the blocks of a space tile it exactly, each aligned to its size; no free block has a free buddy
 *   of its order (coalescing is complete, cached blocks aside);
 * - allocated bytes and descriptor bytes per space equal the sums over its allocations; every
 *   contiguous allocation's pieces are adjacent, PIECE, and name their head;
 * - every descriptor is what the index loads at the allocation's first and last byte.
 *
 * Cost: O(blocks log blocks + allocations x index load).
 *
 * @example
 * ```ts
 * checkPotad(blocks, spaces, index, 64);   // throws MmkitError(ERR_INVARIANT) or returns
 * ```
 */
export function checkPotad(blocks: BlockTable, spaces: SpaceTable, index: DescriptorIndex, frontHigh: number): void {
  blocks.check();
  const rec = blocks.records;
  const hdr = spaces.headers;
  const bySpace = new Map<number, number[]>();
  for (const s of spaces.ids()) bySpace.set(s, []);
  for (let r = 0; r < blocks.capacity; r++) {
    const state = rec[r * RECORD_STRIDE + R_STATE];
    if (state !== FREE && state !== ALLOCATED && state !== PIECE && state !== CACHED) continue;
    const list = bySpace.get(rec[r * RECORD_STRIDE + R_SPACE]!);
    if (list === undefined) fail(`record ${r} belongs to space ${rec[r * RECORD_STRIDE + R_SPACE]}, which does not exist`);
    list.push(r);
  }
  for (const [s, records] of bySpace) {
    const h = s * HEADER_STRIDE;
    const shape = hdr[h + H_SHAPE]!;
    const granuleLog2 = (shape >> 6) & 63;
    const maxOrder = shape & 63;
    const frontOrder = shape >> 12;
    if (frontOrder > MAX_FRONT_ORDER) fail(`space ${s}: frontOrder ${frontOrder} is above ${MAX_FRONT_ORDER}`);
    const base = hdr[h + H_BASE]!;
    const end = base + hdr[h + H_SIZE]!;
    // Free lists and bitmap.
    let listed = 0;
    for (let k = 0; k < MAX_ORDERS; k++) {
      const head = hdr[h + H_HEADS + k]!;
      const bit = k < 32 ? (hdr[h + H_BITMAP_LO]! >>> k) & 1 : (hdr[h + H_BITMAP_HI]! >>> (k - 32)) & 1;
      if ((head >= 0 ? 1 : 0) !== bit) fail(`space ${s}: bitmap bit ${k} is ${bit} but the list is ${head >= 0 ? "non-empty" : "empty"}`);
      if (head >= 0 && k > maxOrder) fail(`space ${s}: a free list above the space's largest order ${maxOrder}`);
      let prev = -1;
      for (let address = head; address >= 0; address = rec[blocks.find(address) * RECORD_STRIDE + R_NEXT]!) {
        const r = blocks.find(address);
        if (r < 0) fail(`space ${s}: order ${k}'s free list names ${address}, which has no record`);
        const o = r * RECORD_STRIDE;
        if (rec[o + R_STATE] !== FREE) fail(`space ${s}: record ${r} on order ${k}'s free list is not free`);
        if (rec[o + R_SPACE] !== s) fail(`space ${s}: record ${r} on its free list belongs to space ${rec[o + R_SPACE]}`);
        if (rec[o + R_LOG2] !== granuleLog2 + k) fail(`space ${s}: block at ${rec[o + R_ADDR]} of 2^${rec[o + R_LOG2]} bytes is on order ${k}'s list`);
        if (prev >= 0 && rec[o + R_PREV] !== prev) fail(`space ${s}: block ${address}'s PREV is ${rec[o + R_PREV]}, expected ${prev}`);
        prev = address;
        if (++listed > records.length) fail(`space ${s}: a free list has a cycle`);
      }
    }
    // Fronts.
    let cachedListed = 0;
    for (let k = 0; k < FRONT_ORDERS; k++) {
      const count = frontCount(hdr, h, k);
      if (count > frontHigh) fail(`space ${s}: front ${k} holds ${count} blocks, more than frontHigh ${frontHigh}`);
      let n = 0;
      for (let address = hdr[h + H_FRONT + k]!; address >= 0; ) {
        const r = blocks.find(address);
        if (r < 0) fail(`space ${s}: front ${k} names ${address}, which has no record`);
        const o = r * RECORD_STRIDE;
        if (rec[o + R_STATE] !== CACHED || rec[o + R_SPACE] !== s || rec[o + R_LOG2] !== granuleLog2 + frontOrder + k) fail(`space ${s}: block ${address} on front ${k} is not a cached block of order ${frontOrder + k}`);
        if (rec[o + R_DESC] !== NO_DESCRIPTOR) fail(`space ${s}: cached block ${address} has a descriptor`);
        if (++n > count) fail(`space ${s}: front ${k} holds more than its count ${count}`);
        address = rec[o + R_NEXT]!;
      }
      if (n !== count) fail(`space ${s}: front ${k} holds ${n} blocks, its count says ${count}`);
      cachedListed += n;
    }
    if (hdr[h + H_COUNTS]! >= 2 ** (8 * FRONT_ORDERS)) fail(`space ${s}: front counts ${hdr[h + H_COUNTS]} overflow`);
    // Tiling, alignment, coalescing, sums.
    records.sort((a, b) => rec[a * RECORD_STRIDE + R_ADDR]! - rec[b * RECORD_STRIDE + R_ADDR]!);
    let at = base;
    let free = 0;
    let cached = 0;
    let allocated = 0;
    let descriptorBytes = 0;
    let pieces = 0;
    let chained = 0;
    for (const r of records) {
      const o = r * RECORD_STRIDE;
      const address = rec[o + R_ADDR]!;
      const e = rec[o + R_LOG2]!;
      const size = POW2[e]!;
      if (address !== at) fail(`space ${s}: expected a block at ${at}, found one at ${address}`);
      if (e < granuleLog2 || e > granuleLog2 + maxOrder || address % size !== 0) fail(`space ${s}: block at ${address} of ${size} bytes is not an aligned block of the space`);
      at = address + size;
      const state = rec[o + R_STATE];
      if (state === CACHED) {
        cached++;
      } else if (state === FREE) {
        free++;
        const twice = size * 2;
        const parent = Math.floor(address / twice) * twice;
        const buddy = blocks.find(parent === address ? address + size : parent);
        if (buddy >= 0 && rec[buddy * RECORD_STRIDE + R_STATE] === FREE && rec[buddy * RECORD_STRIDE + R_LOG2] === e && rec[buddy * RECORD_STRIDE + R_SPACE] === s) {
          fail(`space ${s}: free block at ${address} and its free buddy were not merged`);
        }
        if (rec[o + R_DESC] !== NO_DESCRIPTOR) fail(`space ${s}: free block at ${address} has a descriptor`);
      } else if (state === PIECE) {
        pieces++;
        const head = blocks.find(rec[o + R_PREV]!);
        if (head < 0 || rec[head * RECORD_STRIDE + R_STATE] !== ALLOCATED) fail(`space ${s}: piece at ${address} names no allocation`);
      } else {
        descriptorBytes += rec[o + R_DESC_BYTES]!;
        let cursor = address;
        for (let piece = address; piece >= 0; ) {
          const p = blocks.find(piece);
          if (p < 0) fail(`space ${s}: allocation at ${address} chains ${piece}, which has no record`);
          const po = p * RECORD_STRIDE;
          if (piece !== cursor) fail(`space ${s}: allocation at ${address} has a piece at ${piece}, expected ${cursor}`);
          piece = rec[po + R_NEXT]!;
          if (p !== r) {
            if (rec[po + R_STATE] !== PIECE || rec[po + R_PREV] !== address) fail(`space ${s}: allocation at ${address} chains ${cursor}, which is not its piece`);
            chained++;
          }
          cursor += POW2[rec[po + R_LOG2]!]!;
          if (chained > records.length) fail(`space ${s}: allocation at ${address} has a cyclic piece chain`);
        }
        allocated += cursor - address;
        const next = rec[o + R_NEXT]!;
        if ((next === -2) !== (rec[o + R_DESC_BYTES] !== 0 && cursor - address === size)) fail(`space ${s}: allocation at ${address} has NEXT ${next} with ${rec[o + R_DESC_BYTES]} descriptor bytes`);
        const descriptor = rec[o + R_DESC]!;
        if (descriptor !== NO_DESCRIPTOR && (index.load(address) !== descriptor || index.load(cursor - 1) !== descriptor)) {
          fail(`space ${s}: allocation at ${address} has descriptor ${descriptor}, the index says ${index.load(address)}`);
        }
      }
    }
    if (at !== end) fail(`space ${s}: blocks end at ${at}, the space at ${end}`);
    if (free !== listed) fail(`space ${s}: ${free} free blocks, ${listed} on free lists`);
    if (cached !== cachedListed) fail(`space ${s}: ${cached} cached blocks, ${cachedListed} on fronts`);
    if (pieces !== chained) fail(`space ${s}: ${pieces} pieces, ${chained} chained from allocations`);
    if (allocated !== hdr[h + H_ALLOCATED]) fail(`space ${s}: ${allocated} bytes allocated, header says ${hdr[h + H_ALLOCATED]}`);
    if (descriptorBytes !== hdr[h + H_DESC_BYTES]) fail(`space ${s}: ${descriptorBytes} descriptor bytes, header says ${hdr[h + H_DESC_BYTES]}`);
  }
}

import type { BlockTable } from "./block-table.js";
import { ALLOCATED, CACHED, FREE, HEADER_BYTES, H_ALLOCATED, H_BASE, H_DESC_BYTES, H_SHAPE, H_SIZE, POW2, PIECE, RECORD_BYTES, RECORD_STRIDE, R_LOG2, R_SPACE, R_STATE } from "./layout.js";

/**
 * Figures for one space, from `Potad.stats`. All sizes in bytes.
 *
 * @example
 * ```ts
 * const ram = potad.addSpace({ base: 0, size: 64 * MiB, granule: 4096 });
 * potad.alloc(ram, 8192);
 * potad.stats(ram);   // { space: 0, base: 0, size: 67108864, granule: 4096, allocatedBytes: 8192, freeBytes: 67100672, ... }
 * ```
 */
export interface SpaceStats {
  /** The space id `Potad.addSpace` returned. */
  space: number;
  /** First address of the space. */
  base: number;
  /** Bytes in the space. */
  size: number;
  /** The smallest block. */
  granule: number;
  /** Bytes handed out (contiguous allocations count their exact size). */
  allocatedBytes: number;
  /** Bytes in free blocks, cached ones included. */
  freeBytes: number;
  /** Free bytes per order: index k is the bytes in free blocks (cached ones too) of `granule * 2^k`. */
  freeBytesByOrder: number[];
  /** The largest free block (0 when the space is full); cached blocks are not merged first. */
  largestFreeBlock: number;
  /** Free blocks, cached ones included. */
  freeBlocks: number;
  /** Of those, blocks waiting unmerged on the fronts (see `Potad.drain`). */
  cachedBlocks: number;
  /** Live allocations (a contiguous allocation counts once). */
  allocations: number;
  /** Block records of the space: free blocks, allocated blocks and pieces. */
  blocks: number;
  /** Sum of `descriptorBytes` over live allocations. */
  descriptorBytes: number;
  /** The space's share of POTAD's metadata: its records, each with the empty slot beside it at the table's highest load (1/2), and its header. */
  metadataBytes: number;
}

/**
 * Computes {@link SpaceStats} for the space whose header is at `h`.
 * Cost: O(table capacity), one pass over the slots.
 *
 * @example
 * ```ts
 * const stats = spaceStats(blocks, spaces.headers, spaces.header(0), 0);
 * stats.largestFreeBlock;
 * ```
 */
export function spaceStats(blocks: BlockTable, hdr: Float64Array, h: number, space: number): SpaceStats {
  const shape = hdr[h + H_SHAPE]!;
  const granuleLog2 = (shape >> 6) & 63;
  const maxOrder = shape & 63;
  const freeBytesByOrder = new Array<number>(maxOrder + 1).fill(0);
  const rec = blocks.records;
  let freeBlocks = 0;
  let cachedBlocks = 0;
  let allocations = 0;
  let count = 0;
  for (let r = 0; r < blocks.capacity; r++) {
    const o = r * RECORD_STRIDE;
    const state = rec[o + R_STATE];
    if ((state !== FREE && state !== ALLOCATED && state !== PIECE && state !== CACHED) || rec[o + R_SPACE] !== space) continue;
    count++;
    if (state === FREE || state === CACHED) {
      freeBlocks++;
      if (state === CACHED) cachedBlocks++;
      freeBytesByOrder[rec[o + R_LOG2]! - granuleLog2] += POW2[rec[o + R_LOG2]!]!;
    } else if (state === ALLOCATED) {
      allocations++;
    }
  }
  let largest = 0;
  for (let k = maxOrder; k >= 0; k--) {
    if (freeBytesByOrder[k]! > 0) {
      largest = POW2[granuleLog2 + k]!;
      break;
    }
  }
  const size = hdr[h + H_SIZE]!;
  const allocatedBytes = hdr[h + H_ALLOCATED]!;
  return {
    space,
    base: hdr[h + H_BASE]!,
    size,
    granule: POW2[granuleLog2]!,
    allocatedBytes,
    freeBytes: size - allocatedBytes,
    freeBytesByOrder,
    largestFreeBlock: largest,
    freeBlocks,
    cachedBlocks,
    allocations,
    blocks: count,
    descriptorBytes: hdr[h + H_DESC_BYTES]!,
    metadataBytes: count * 2 * RECORD_BYTES + HEADER_BYTES,
  };
}

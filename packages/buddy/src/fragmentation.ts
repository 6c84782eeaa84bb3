import { ErrorCode, MmkitError, describeValue, requireInteger } from "@mmkit/physmem";

/**
 * The kernel's fragmentation indices (`mm/vmstat.c`), computed from the number of free blocks of
 * each order, scaled by 1000 as `/sys/kernel/debug/extfrag/` prints them. O(orders) each. The order
 * is an integer in [0, 63], `blocksPerOrder` an array (or typed array) of at most 64 non-negative
 * integers; anything else throws `ERR_INVALID_ARGUMENT` / `ERR_OUT_OF_RANGE` naming it.
 */

/** Highest order (and orders per array) the indices take: 2^63 pages is still an exact double. */
const MAX_INDEX_ORDER = 63;

function requireIndexArgs(order: unknown, blocksPerOrder: unknown): void {
  requireInteger(order, "order", 0, MAX_INDEX_ORDER);
  const blocks = blocksPerOrder as ArrayLike<unknown> | null;
  if (blocks === null || typeof blocks !== "object" || typeof blocks.length !== "number") {
    throw new MmkitError(ErrorCode.InvalidArgument, `blocksPerOrder must be an array of block counts, got ${describeValue(blocksPerOrder)}`);
  }
  const length = requireInteger(blocks.length, "blocksPerOrder.length", 0, MAX_INDEX_ORDER + 1);
  for (let o = 0; o < length; o++) requireInteger(blocks[o], `blocksPerOrder[${o}]`);
}

interface ContigInfo {
  freePages: number;
  freeBlocksTotal: number;
  freeBlocksSuitable: number;
}

function contigInfo(order: number, blocksPerOrder: ArrayLike<number>): ContigInfo {
  let freePages = 0;
  let freeBlocksTotal = 0;
  let freeBlocksSuitable = 0;
  for (let o = 0; o < blocksPerOrder.length; o++) {
    const blocks = blocksPerOrder[o]!;
    freeBlocksTotal += blocks;
    freePages += blocks * 2 ** o;
    if (o >= order) freeBlocksSuitable += blocks * 2 ** (o - order);
  }
  return { freePages, freeBlocksTotal, freeBlocksSuitable };
}

/**
 * `unusable_free_index`: the share of free memory (x1000) that cannot serve an allocation of
 * `order`. 0 means every free page is in a block of at least that order; 1000 means none is (or
 * nothing is free).
 *
 * @example
 * ```ts
 * unusableFreeIndex(1, [4, 0, 1]); // 4 free order-0 pages, one order-2 block => 500
 * ```
 */
export function unusableFreeIndex(order: number, blocksPerOrder: ArrayLike<number>): number {
  requireIndexArgs(order, blocksPerOrder);
  const info = contigInfo(order, blocksPerOrder);
  if (info.freePages === 0) return 1000;
  return Math.floor(((info.freePages - info.freeBlocksSuitable * 2 ** order) * 1000) / info.freePages);
}

/**
 * `fragmentation_index` (extfrag): for an allocation of `order` that would fail, how much the
 * failure is due to fragmentation (towards 1000) rather than to lack of memory (towards 0); -1000
 * when the allocation would succeed, 0 when nothing is free.
 *
 * @example
 * ```ts
 * fragmentationIndex(3, [8, 0, 0, 0]);  // 8 free pages, no order-3 block => 750
 * fragmentationIndex(0, [8]);           // => -1000
 * ```
 */
export function fragmentationIndex(order: number, blocksPerOrder: ArrayLike<number>): number {
  requireIndexArgs(order, blocksPerOrder);
  const info = contigInfo(order, blocksPerOrder);
  if (info.freeBlocksTotal === 0) return 0;
  if (info.freeBlocksSuitable > 0) return -1000;
  const requested = 2 ** order;
  return 1000 - Math.floor((1000 + Math.floor((info.freePages * 1000) / requested)) / info.freeBlocksTotal);
}

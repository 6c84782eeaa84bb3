/**
 * Where the buddy allocator keeps its metadata: the layouts of its arena arrays. Internal; the
 * numbers here are the contract between the files of this package and what the probe counts.
 *
 * | array (arena label)          | element | per            | layout                                        |
 * | ---------------------------- | ------- | -------------- | --------------------------------------------- |
 * | `buddy memmap (struct page)` | int32   | page: 16 (64 B) | [0] flags, [1] list next, [2] list prev, [3..15] unused (the rest of a `struct page`) |
 * | `buddy free_area`            | int32   | node x order: 16 (64 B) | [0] nr_free blocks, then per migratetype m: [1+3m] head, [2+3m] tail, [3+3m] count |
 * | `buddy zone`                 | int32   | node: 16 (64 B) | free pages, watermarks min/low/high, managed pages, span start/end, free CMA pages |
 * | `buddy pcp`                  | int32   | cpu x node: 32 (128 B) | [0] count (pages), [1] high, [2] batch, [4 + 2*pindex] head, [5 + 2*pindex] tail; pindex = order*3 + migratetype |
 * | `buddy pageblock flags`      | uint8   | pageblock      | migratetype of the pageblock (the kernel's usemap) |
 *
 * Page records are indexed by `idx = pfn - base`, where `base` is the first RAM pfn rounded down to
 * 2^maxOrder, so `idx ^ (1 << order)` is the buddy's index exactly as `pfn ^ (1 << order)` is its pfn.
 * List links are page indices, -1 for none. Only the first page of a block (its head) carries a
 * state; every other page of RAM holds just its node bits, and pages of holes hold `PG_RESERVED`.
 *
 * Page flags word: bits 0-1 state, bits 2-4 migratetype, bit 5 contiguous range (on an allocated
 * head), bits 8-12 order, bits 16-25 node slot, bit 7 reserved (a hole: never RAM).
 *
 * The zone line's free pages (Z_FREE) leave out the Isolate lists, as `NR_FREE_PAGES` does.
 */

export const PAGE_INTS = 16;
export const PAGE_SHIFT = 4; // log2(PAGE_INTS)
export const P_FLAGS = 0;
export const P_NEXT = 1;
export const P_PREV = 2;

export const STATE_MASK = 3;
export const STATE_NONE = 0;
export const STATE_BUDDY = 1;
export const STATE_PCP = 2;
export const STATE_ALLOCATED = 3;
export const MT_SHIFT = 2;
export const MT_MASK = 7;
export const PG_RESERVED = 1 << 7;
export const ORDER_SHIFT = 8;
export const ORDER_MASK = 31;
export const NODE_SHIFT = 16;
export const NODE_MASK = 1023;
/** On an allocated head: the block was taken by `allocContigRange` and is given back by `freeContigRange` only. */
export const PG_CONTIG = 1 << 5;
/** Bits `freePages(pfn, order)` compares with `STATE_ALLOCATED | order << ORDER_SHIFT`: a contiguous-range block never matches. */
export const FREE_KEY_MASK = STATE_MASK | (ORDER_MASK << ORDER_SHIFT) | PG_CONTIG;
/** Bits that identify a block head: state, order and node (not the migratetype). */
export const HEAD_KEY = STATE_MASK | (ORDER_MASK << ORDER_SHIFT) | (NODE_MASK << NODE_SHIFT);

export const FA_INTS = 16;
export const FA_SHIFT = 4;
export const FA_NR_FREE = 0;
export const FA_LISTS = 1;
export const FA_HEAD = 0;
export const FA_TAIL = 1;
export const FA_COUNT = 2;

export const ZONE_INTS = 16;
export const Z_FREE = 0;
export const Z_MIN = 1;
export const Z_LOW = 2;
export const Z_HIGH = 3;
export const Z_MANAGED = 4;
export const Z_SPAN_START = 5;
export const Z_SPAN_END = 6;
/** Free pages on the CMA lists (`NR_FREE_CMA_PAGES`, part of Z_FREE). */
export const Z_FREE_CMA = 7;

export const PCP_INTS = 32;
export const PCP_SHIFT = 5;
export const PCP_COUNT = 0;
export const PCP_HIGH = 1;
export const PCP_BATCH = 2;
export const PCP_LISTS = 4;

/** Allocation flags (internal bit set built from `AllocOptions`). */
export const AF_HIGH = 1; // __GFP_HIGH: ALLOC_MIN_RESERVE
export const AF_NON_BLOCK = 2; // GFP_ATOMIC: ALLOC_NON_BLOCK
export const AF_NO_WATERMARKS = 4; // ALLOC_NO_WATERMARKS
export const AF_WMARK_LOW = 8;
export const AF_WMARK_HIGH = 16;
export const AF_THISNODE = 32; // __GFP_THISNODE
export const AF_CMA = 64; // ALLOC_CMA: a Movable request, which may use CMA pageblocks

/** Flags word of a block head. */
export function headFlags(node: number, state: number, mt: number, order: number): number {
  return (node << NODE_SHIFT) | (order << ORDER_SHIFT) | (mt << MT_SHIFT) | state;
}

/**
 * POTAD's metadata layout. Everything an operation touches lives in two arena arrays, laid out so
 * that an operation touches as few 64-byte cache lines as possible.
 *
 * ```
 * array            element             bytes  what
 * ---------------  ------------------  -----  ------------------------------------------------------
 * "potad blocks"   Float64Array[8 * n]   64   an open-addressing hash table whose slots ARE the block
 *                                             records (free, cached, allocated, or piece of a
 *                                             contiguous allocation): one cache line each, keyed by
 *                                             the block's address. Finding a block by address touches
 *                                             its home line and, when displaced, the next ones.
 *                                             n is a power of two; at most n/2 slots are live
 *                                             (linear probing, Fibonacci hashing of the page number, backward-shift
 *                                             deletion, so a record may move: every link between
 *                                             records is an address, never a slot number).
 *   [0] ADDR        byte address of the block (the key); -1 for an empty slot
 *   [1] NEXT        free or cached block: address of the next block on its list (-1 ends)
 *                   allocated head / piece: address of the next piece of a contiguous allocation;
 *                   -1 ends, and so does -2, which also says the allocation declared descriptor bytes
 *   [2] DESC        allocated head: the descriptor (-1: none)
 *   [3] LOG2        log2 of the block's size in bytes
 *   [4] STATE       FREE 1 | ALLOCATED 2 (head of an allocation) | PIECE 3 | CACHED 4
 *   [5] SPACE       space id
 *   [6] PREV        free block: address of the previous block on the list; valid only when the
 *                   block is not the list's head (popping the head never writes the new head)
 *                   piece: address of the allocation's head
 *   [7] DESC_BYTES  allocated head: bytes the caller declared for its descriptor (stats only)
 *
 *   A front push or pop reads and writes fields 0..5 only: the first 48 bytes, one line even when
 *   the array is not 64-byte aligned in real memory (a `malloc`ed buffer is often 16 bytes off).
 *
 * "potad spaces"   Float64Array[72 * s] 576   one header per space, 9 lines:
 *   line 0 (every alloc and free of a small block touches only this line of the header)
 *   [0] SHAPE       frontOrder * 4096 + granuleLog2 * 64 + maxOrder (6 bits each); -1 for a free
 *                   header slot. frontOrder (`addSpace`'s option, default 0) is the first order
 *                   with a front: front k serves order frontOrder + k. It lives in SHAPE because
 *                   every hot path reads SHAPE already (no extra field, no extra line)
 *   [1] ALLOCATED   bytes allocated from the space
 *   [2+k] FRONT     address of the top of front k (cached blocks of order frontOrder + k),
 *                   k = 0..3; -1 empty
 *   [6] COUNTS      blocks on the fronts, 8 bits per front (front k at bit 8k)
 *   [7] DESC_BYTES  sum of descriptorBytes over live allocations
 *   line 1..7 (the coalescing buddy allocator behind the fronts)
 *   [8] BITMAP_LO   bit k set when order k's free list is non-empty (orders 0..31)
 *   [9] BITMAP_HI   orders 32..63
 *   [10+k] HEAD     address of the first block on order k's free list (-1: empty), k = 0..53
 *   line 8
 *   [64] BASE  [65] SIZE
 * ```
 *
 * Orders are relative to the space's granule: order k is a block of `granule * 2^k` bytes, aligned
 * to its size in absolute addresses.
 *
 * **Fronts (deferred coalescing).** A freed block of order frontOrder..frontOrder+3 (0..3 by
 * default; a space with a 512 B granule serving 4 KiB pages sets frontOrder 3 so the fronts serve
 * page orders 0..3) is not merged: it is pushed on its order's front, a LIFO stack threaded through the records (the kernel's per-CPU lists, o1heap's
 * and dlmalloc's quick lists do the same), and the next allocation of that order pops it. Push and
 * pop touch the header's line 0 and the block's record, nothing else: no buddy, no list
 * neighbour, no bitmap. A front holds at most `frontHigh` blocks (default 64); a push to a full
 * front first drains half of it into the buddy allocator (merging). When no free block fits an
 * allocation, every front of the space is drained and the fit retried; a contiguous allocation
 * drains first. Draining is bounded by 4 * frontHigh blocks, so every operation stays O(1).
 *
 * Cache lines per operation (hash hits on their home slot):
 * - alloc of a front order from a non-empty front: header line 0 + the block's record = 2 lines;
 * - free of a block of a front order: the block's record + header line 0 = 2 lines;
 * - alloc through the buddy allocator: header lines 0 and 1 (orders 0..5) + the block's record,
 *   + one record per split (the new upper half, inserted in the table);
 * - free through the buddy allocator without a merge: record + buddy's record + old list head's
 *   record + header lines 0 and 1 = 5; each merge: + the buddy's list neighbours.
 *
 * Metadata is proportional to the number of blocks (free, cached and allocated), never to the
 * size of a space: 64 to 128 B per block (a 64-byte slot at a load between 1/4 and 1/2), plus 576 B
 * per space.
 */

/** Doubles per block record (64 bytes, one cache line). */
export const RECORD_STRIDE = 8;
export const R_ADDR = 0;
export const R_NEXT = 1;
export const R_DESC = 2;
export const R_LOG2 = 3;
export const R_STATE = 4;
export const R_SPACE = 5;
export const R_PREV = 6;
export const R_DESC_BYTES = 7;

/** NEXT of a single-block allocation that declared descriptor bytes (so a free need not read them to know). */
export const NEXT_DESC_BYTES = -2;

/**
 * The table's hash of an address: `x = lo ^ imul(hi, HASH_MIX)`, then
 * `imul(rotr(x, HASH_ROTATE), HASH_MUL) >>> (32 - log2(slots))` (Fibonacci hashing of the 4 KiB
 * page number; see `homeSlot` in `block-table.ts`).
 */
export const HASH_MIX = 0x85ebca6b | 0;
export const HASH_MUL = 0x9e3779b1 | 0;
export const HASH_ROTATE = 12;

/** Key of an empty slot. */
export const EMPTY = -1;

export const UNUSED = 0;
export const FREE = 1;
export const ALLOCATED = 2;
export const PIECE = 3;
export const CACHED = 4;

/** Doubles per space header (576 bytes, 9 lines). */
export const HEADER_STRIDE = 72;
export const H_SHAPE = 0;
export const H_ALLOCATED = 1;
export const H_FRONT = 2;
export const H_COUNTS = 6;
export const H_DESC_BYTES = 7;
export const H_BITMAP_LO = 8;
export const H_BITMAP_HI = 9;
export const H_HEADS = 10;
export const H_BASE = 64;
export const H_SIZE = 65;

/** Orders a space can have above its granule (heads 0..53). */
export const MAX_ORDERS = 54;
/** Fronts per space (orders frontOrder..frontOrder+3: by default 0..3, the kernel's PAGE_ALLOC_COSTLY_ORDER and below). */
export const FRONT_ORDERS = 4;
/** Largest `frontOrder` of a space (its fronts still name orders below MAX_ORDERS). */
export const MAX_FRONT_ORDER = 50; // MAX_ORDERS - FRONT_ORDERS
/** SHAPE is `frontOrder * SHAPE_FRONT + granuleLog2 * 64 + maxOrder`: `shape >> 12` is the frontOrder. */
export const SHAPE_FRONT = 4096;
/** Largest `frontHigh` (a front's count has 8 bits). */
export const MAX_FRONT_HIGH = 255;
/** Default blocks per front before half of it is drained. */
export const DEFAULT_FRONT_HIGH = 64;
/** Largest address a space may reach: 2^53, so every address is an exact number. */
export const MAX_SPACE_END = 9007199254740992; // 2^53, written out so the bundler can inline it

/** Bytes of one block record (one slot of the table). */
export const RECORD_BYTES = RECORD_STRIDE * 8;
/** Bytes of one space header. */
export const HEADER_BYTES = 576; // HEADER_STRIDE * 8

/** `POW2[e]` is 2^e for e = 0..63 (exact in a double). */
export const POW2 = /* @__PURE__ */ (() => {
  const table = new Float64Array(64);
  for (let e = 0; e < 64; e++) table[e] = 2 ** e;
  return table;
})();

/** No descriptor attached. */
export const NO_DESCRIPTOR = -1;

/** 2^-32, exact: `(key * TWO_POW_MINUS_32) | 0` is the high word of an address (a multiply, not a divide). */
export const TWO_POW_MINUS_32 = 2.3283064365386963e-10;

/** ceil(log2(n)) for a positive safe integer, exact. */
export function ceilLog2(n: number): number {
  if (n <= 0x80000000) return n <= 1 ? 0 : 32 - Math.clz32(n - 1);
  let e = Math.ceil(Math.log2(n));
  while (POW2[e]! < n) e++;
  while (e > 0 && POW2[e - 1]! >= n) e--;
  return e;
}

/** floor(log2(n)) for a positive safe integer, exact. */
export function floorLog2(n: number): number {
  if (n < 0x100000000) return 31 - Math.clz32(n);
  let e = Math.floor(Math.log2(n));
  while (POW2[e]! > n) e--;
  while (POW2[e + 1]! <= n) e++;
  return e;
}

/** log2 of the largest power of two dividing `n` (n > 0), capped at 63. */
export function alignmentLog2(n: number): number {
  if (n === 0) return 63;
  const low = n % 0x100000000;
  if (low !== 0) return 31 - Math.clz32(low & -low);
  let e = 32;
  while (e < 63 && (n / POW2[e + 1]!) % 1 === 0) e++;
  return e;
}

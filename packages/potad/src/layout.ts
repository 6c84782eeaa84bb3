/**
 * POTAD's metadata layout. Everything an operation touches lives in three arena arrays, laid out so
 * that an operation touches as few 64-byte cache lines as possible.
 *
 * ```
 * array            element             bytes  what
 * ---------------  ------------------  -----  ------------------------------------------------------
 * "potad blocks"   Float64Array[8 * n]   64   one record per block (free, allocated, or piece of a
 *                                             contiguous allocation): exactly one cache line each.
 *   [0] ADDR        byte address of the block (the hash key)
 *   [1] NEXT        free block: next block on its order's free list (-1 ends)
 *                   allocated head / piece: next piece of a contiguous allocation (-1 ends)
 *                   unused record: next unused record (the record pool)
 *   [2] PREV        free block: previous block on the list; valid only when the block is not the
 *                   list's head (popping the head never writes the new head's record)
 *                   piece: record of the allocation's head
 *   [3] LOG2        log2 of the block's size in bytes
 *   [4] STATE       UNUSED 0 | FREE 1 | ALLOCATED 2 (head of an allocation) | PIECE 3
 *   [5] SPACE       space id
 *   [6] DESC        allocated head: the descriptor (-1: none)
 *   [7] DESC_BYTES  allocated head: bytes the caller declared for its descriptor (stats only)
 *
 * "potad hash"     Float64Array[2 * m]   16   open addressing, linear probing, keyed by address:
 *                                             [key (-1: empty), record]; m = 2 * record capacity
 *                                             (load <= 1/2), 4 slots per line, Fibonacci hashing,
 *                                             backward-shift deletion (no tombstones).
 *
 * "potad spaces"   Float64Array[64 * s] 512   one header per space:
 *   [0] BITMAP_LO   bit k set when order k's free list is non-empty (orders 0..31)
 *   [1] BITMAP_HI   orders 32..63
 *   [2] SHAPE       granuleLog2 * 64 + maxOrder; -1 for a free header slot
 *   [3] ALLOCATED   bytes allocated from the space
 *   [4+k] HEAD      first record on order k's free list (-1: empty), k = 0..53
 *   [58] BASE  [59] SIZE  [60] DESC_BYTES (sum over live allocations)
 * ```
 *
 * Orders are relative to the space's granule: order k is a block of `granule * 2^k` bytes, aligned
 * to its size in absolute addresses. The first line of a header holds the bitmap, the shape, the
 * allocated-bytes counter and the heads of orders 0..3, so small allocations touch one header line.
 *
 * Cache lines per operation (no descriptor, hash hits on their home line):
 * - alloc from a non-empty list of the exact order: header line + the block's record = 2 lines;
 * - each split: + the new upper half's record + its hash slot (the lists below the found order are
 *   empty by construction, so no old head is touched);
 * - free without a merge: hash slot + record + buddy's hash slot + buddy's record + old head's record
 *   + header line = 6 lines; each merge: + the buddy's list neighbours, one more hash probe.
 *
 * Metadata is proportional to the number of blocks (free and allocated), never to the size of a
 * space: 64 B per block record + 32 B of hash per record slot, plus 512 B per space.
 */

/** Doubles per block record (64 bytes, one cache line). */
export const RECORD_STRIDE = 8;
export const R_ADDR = 0;
export const R_NEXT = 1;
export const R_PREV = 2;
export const R_LOG2 = 3;
export const R_STATE = 4;
export const R_SPACE = 5;
export const R_DESC = 6;
export const R_DESC_BYTES = 7;

export const UNUSED = 0;
export const FREE = 1;
export const ALLOCATED = 2;
export const PIECE = 3;

/** Doubles per space header (512 bytes). */
export const HEADER_STRIDE = 64;
export const H_BITMAP_LO = 0;
export const H_BITMAP_HI = 1;
export const H_SHAPE = 2;
export const H_ALLOCATED = 3;
export const H_HEADS = 4;
export const H_BASE = 58;
export const H_SIZE = 59;
export const H_DESC_BYTES = 60;

/** Orders a space can have above its granule (heads 0..53). */
export const MAX_ORDERS = 54;
/** Largest address a space may reach: 2^53, so every address is an exact number. */
export const MAX_SPACE_END = 2 ** 53;

/** Bytes of one block record. */
export const RECORD_BYTES = RECORD_STRIDE * 8;
/** Bytes of hash per record of capacity (two 16-byte slots). */
export const HASH_BYTES_PER_RECORD = 32;
/** Bytes of one space header. */
export const HEADER_BYTES = HEADER_STRIDE * 8;

/** `POW2[e]` is 2^e for e = 0..63 (exact in a double). */
export const POW2 = /* @__PURE__ */ (() => {
  const table = new Float64Array(64);
  for (let e = 0; e < 64; e++) table[e] = 2 ** e;
  return table;
})();

/** No descriptor attached. */
export const NO_DESCRIPTOR = -1;

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

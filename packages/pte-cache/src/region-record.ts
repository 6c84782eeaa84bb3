/**
 * The layout of one region record: 8 int32 slots (32 bytes, two records per 64-byte line, never
 * straddling one), so that looking a region up, changing its counts and moving it between lists
 * touches one line of the record table.
 *
 * | slot | field | meaning |
 * | --- | --- | --- |
 * | 0 | `KEY_LO` | region number (`pfn / 512`) mod 2^32, as an int32 bit pattern |
 * | 1 | `KEY_HI` | region number / 2^32 (0 below 2^41 pfns) |
 * | 2 | `HELD` | pages of the region the cache holds (0..512) |
 * | 3 | `FREE` | of those, free in the cache |
 * | 4 | `FLAGS_NODE` | flag bits (`LIVE`, `WHOLE`, `SPLIT_BY_CACHE`) in bits 0..7, the NUMA node from bit 8 |
 * | 5 | `PREV` | previous record on its LRU list, or -1 |
 * | 6 | `NEXT` | next record on its LRU list, or -1 |
 * | 7 | `WHERE` | the list it is on (`node * 3 + kind`), or -1 |
 *
 * Beside the records, each region has 32 `Uint32` words of page maps, interleaved so that the word
 * saying which pages are held and the word saying which are free for the same 32 pages sit side by
 * side: `[held 0, free 0, held 1, free 1, ..., held 15, free 15]` (128 bytes, two lines).
 *
 * @example
 * ```ts
 * const base = slot * RECORD_STRIDE;
 * const free = records[base + FREE];
 * ```
 */
export const RECORD_STRIDE = 8;
export const KEY_LO = 0;
export const KEY_HI = 1;
export const HELD = 2;
export const FREE = 3;
export const FLAGS_NODE = 4;
export const PREV = 5;
export const NEXT = 6;
export const WHERE = 7;

/** The record is in use. */
export const LIVE = 1;
/** The region is held as one intact order-9 block. */
export const WHOLE = 2;
/** The cache's own `splitToPages` split the region's 2 MiB entry. */
export const SPLIT_BY_CACHE = 4;
/** Bits of `FLAGS_NODE` that are flags; the node is `FLAGS_NODE >>> NODE_SHIFT`. */
export const FLAG_MASK = 0xff;
export const NODE_SHIFT = 8;

/** Uint32 words of page maps per region (held and free interleaved). */
export const MAP_WORDS = 32;

const TWO_32 = 4294967296;

/** The low half of a region number, as stored in `KEY_LO`. */
export function keyLo(key: number): number {
  return key | 0;
}
/** The high half of a region number, as stored in `KEY_HI`. */
export function keyHi(key: number): number {
  return (key / TWO_32) | 0;
}
/** The region number stored in the record at `base`. */
export function keyAt(records: Int32Array, base: number): number {
  return records[base + KEY_HI]! * TWO_32 + (records[base + KEY_LO]! >>> 0);
}

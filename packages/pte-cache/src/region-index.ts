import type { ArrayFactory } from "@mmkit/physmem";
import { KEY_HI, KEY_LO, RECORD_STRIDE } from "./region-record.js";

const TWO_32 = 4294967296;

/**
 * An open-addressing hash from a 2 MiB region number (`pfn / 512`) to the slot of its record in
 * the cache's record table. Linear probing over an arena `Int32Array` of `slot + 1` (0 = empty),
 * kept at most half full; deletion shifts later entries back, so there are no tombstones. Keys are
 * read from the records themselves (`KEY_LO`/`KEY_HI`), so the hash costs 4 bytes per bucket, two
 * buckets per record slot.
 *
 * Cost: O(1) expected per lookup, insert and delete: one line of buckets plus the record of each
 * slot probed (usually just the one found).
 *
 * @example
 * ```ts
 * const records = new Int32Array(4 * RECORD_STRIDE);
 * const index = new RegionIndex(new MetadataArena(), 8);
 * records[2 * RECORD_STRIDE + KEY_LO] = 77; index.insert(77, 2);
 * index.find(77, records); // 2
 * ```
 */
export class RegionIndex {
  #arena: ArrayFactory;
  #buckets: Int32Array;
  #mask: number;
  #shift: number;

  /** `buckets` must be a power of two, at least twice the number of record slots. */
  constructor(arena: ArrayFactory, buckets: number) {
    this.#arena = arena;
    this.#buckets = arena.int32(buckets, "pte-cache region index");
    this.#mask = buckets - 1;
    this.#shift = 32 - Math.round(Math.log2(buckets));
  }

  /** Number of buckets. */
  get capacity(): number {
    return this.#buckets.length;
  }

  #home(lo: number, hi: number): number {
    const h = Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> 0;
    return this.#shift === 32 ? 0 : h >>> this.#shift;
  }

  /** Slot of region `key`, or -1. */
  find(key: number, records: Int32Array): number {
    const lo = key | 0;
    const hi = (key / TWO_32) | 0;
    const b = this.#buckets;
    const mask = this.#mask;
    for (let i = this.#home(lo, hi); ; i = (i + 1) & mask) {
      const v = b[i]!;
      if (v === 0) return -1;
      const base = (v - 1) * RECORD_STRIDE;
      if (records[base + KEY_LO] === lo && records[base + KEY_HI] === hi) return v - 1;
    }
  }

  /** Adds region `key` at `slot` (the caller guarantees it is absent). */
  insert(key: number, slot: number): void {
    const b = this.#buckets;
    const mask = this.#mask;
    let i = this.#home(key | 0, (key / TWO_32) | 0);
    while (b[i] !== 0) i = (i + 1) & mask;
    b[i] = slot + 1;
  }

  /** Removes region `key`, which is present in the record at its slot. */
  remove(key: number, records: Int32Array): void {
    const lo = key | 0;
    const hi = (key / TWO_32) | 0;
    const b = this.#buckets;
    const mask = this.#mask;
    let i = this.#home(lo, hi);
    for (;;) {
      const base = (b[i]! - 1) * RECORD_STRIDE;
      if (records[base + KEY_LO] === lo && records[base + KEY_HI] === hi) break;
      i = (i + 1) & mask;
    }
    // Backward-shift deletion: move later members of the probe run into the hole unless their home
    // lies cyclically in (hole, j].
    let hole = i;
    for (let j = (i + 1) & mask; b[j] !== 0; j = (j + 1) & mask) {
      const base = (b[j]! - 1) * RECORD_STRIDE;
      const home = this.#home(records[base + KEY_LO]!, records[base + KEY_HI]!);
      const between = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!between) {
        b[hole] = b[j]!;
        hole = j;
      }
    }
    b[hole] = 0;
  }

  /** Entries in use (O(buckets); for `check()`). */
  size(): number {
    let n = 0;
    for (let i = 0; i < this.#buckets.length; i++) if (this.#buckets[i] !== 0) n++;
    return n;
  }

  /** Gives the buckets back to the arena; the index is unusable afterwards. */
  release(): void {
    this.#arena.release(this.#buckets);
  }
}

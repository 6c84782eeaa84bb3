import { ErrorCode, MmkitError, describeValue, requireInteger, requirePowerOfTwo, type ArrayFactory } from "@mmkit/physmem";
import { AddressMap } from "@mmkit/slab";

// A block's row: integers in one Int32Array, stride ROW. Sizes and starts are in granules.
const START = 0;
const SIZE = 1;
/** Physical neighbours (the block before and after in address order), or -1. */
const PREV = 2;
const NEXT = 3;
/** Neighbours on the free list of the block's bucket, or -1. */
const FPREV = 4;
const FNEXT = 5;
const STATE = 6;
const ROW = 8;

const UNUSED = 0;
const FREE = 1;
const USED = 2;

/** Second-level buckets per power of two: 2^4 = 16, so a bucket spans at most 1/16 of its sizes. */
const SL_LOG2 = 4;
const SL = 1 << SL_LOG2;
/** First levels: sizes below 2^31 granules. */
const FL = 32 - SL_LOG2;

/**
 * What {@link RangeFit.stats} returns.
 *
 * @example
 * ```ts
 * const { usedBytes, freeBytes, largestFreeBytes, freeBlocks } = fit.stats();
 * ```
 */
export interface RangeFitStats {
  /** Bytes managed: from 0 to the end. */
  size: number;
  /** Bytes in allocated blocks. */
  usedBytes: number;
  /** The most bytes allocated at once. */
  peakUsedBytes: number;
  /** Bytes in free blocks. */
  freeBytes: number;
  /** Bytes of the largest free block. */
  largestFreeBytes: number;
  /** Free blocks (no two of them adjacent). */
  freeBlocks: number;
  /** Allocated blocks. */
  usedBlocks: number;
}

/** Bucket of a free block of `size` granules: first level (the power of two) times 16 plus second level. */
function bucketOf(size: number): number {
  if (size < SL) return size;
  const f = 31 - Math.clz32(size);
  return (f - SL_LOG2 + 1) * SL + ((size >>> (f - SL_LOG2)) & (SL - 1));
}

/** The first bucket whose every block holds `size` granules (TLSF's round-up), or -1 past the last. */
function bucketAbove(size: number): number {
  if (size < SL) return size;
  if (size >= 2 ** 31) return -1;
  const f = 31 - Math.clz32(size);
  const up = size + (1 << (f - SL_LOG2)) - 1;
  if (up >= 2 ** 31) return -1;
  return bucketOf(up);
}

/** Lowest set bit's index of a non-zero 32-bit value. */
function lowestBit(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/**
 * A two-level segregated-fit range allocator (TLSF, Masmano et al. 2004) over the bytes `[0, size)`,
 * at a granule of `granule` bytes: free blocks sit on 16 lists per power of two, found through two
 * levels of bitmaps; an allocation takes the first block of the first list whose every block is
 * large enough, splits off the rest, and a free merges with free neighbours at once, so no two free
 * blocks touch. Aligned allocations (slab pages at page alignment) split off the bytes before the
 * aligned start as a free block. When the round-up finds nothing, the lists that may hold a block
 * just large enough are searched block by block before saying -1, so the allocator fails only when
 * no free block can hold the request. Metadata is outside the managed bytes: one 32-byte row per
 * block and an address hash of the allocated ones.
 *
 * Cost: `alloc` and `free` are O(1) (two bitmap scans, list pushes and pops, one hash probe); only
 * an allocation that the round-up cannot serve walks the free blocks of at most the lists between
 * its size and its round-up. Growing the end is O(1).
 *
 * @example
 * ```ts
 * const fit = new RangeFit(new MetadataArena(), 1 << 20, 16);
 * const a = fit.alloc(10_000);          // 0: 10000 bytes rounded to 16
 * const b = fit.alloc(4096, 2048);      // 10240: the next 2048-aligned start
 * fit.free(a);                          // merges with the free bytes before b
 * fit.check();
 * ```
 */
export class RangeFit {
  /** Bytes per granule: every block's start and size are multiples of it. */
  readonly granule: number;
  #shift: number;
  #arena: ArrayFactory;
  #rows: Int32Array;
  #freeRows: Int32Array;
  #freeRowCount = 0;
  #capacity = 0;
  #heads: Int32Array;
  #flBits = 0;
  #slBits: Int32Array;
  #used: AddressMap;
  #end: number;
  #last: number;
  #usedGranules = 0;
  #peakUsedGranules = 0;
  #freeBlocks = 0;

  /** Manages `[0, size)` (rounded down to the granule) at `granule` bytes (a power of two, 8 to 65536). */
  constructor(arena: ArrayFactory, size: number, granule = 16) {
    this.granule = requirePowerOfTwo(granule, "granule", 8, 65536);
    this.#shift = Math.log2(this.granule);
    const end = Math.floor(requireInteger(size, "size", this.granule) / this.granule);
    if (end >= 2 ** 31) throw new MmkitError(ErrorCode.OutOfRange, `size ${size} is 2^31 granules of ${granule} bytes or more`);
    this.#arena = arena;
    this.#rows = arena.int32(16 * ROW, "range-fit rows");
    this.#freeRows = arena.int32(16, "range-fit free rows");
    this.#takeRows(0, 16);
    this.#heads = arena.int32(FL * SL, "range-fit lists").fill(-1);
    this.#slBits = arena.int32(FL, "range-fit bitmaps");
    this.#used = new AddressMap(arena, "range-fit used");
    const r = this.#newRow(0, end, -1, -1);
    this.#insert(r);
    this.#end = end;
    this.#last = r;
  }

  /** Bytes managed. */
  get size(): number {
    return this.#end * this.granule;
  }
  /** Bytes in allocated blocks now. */
  get usedBytes(): number {
    return this.#usedGranules * this.granule;
  }
  /** The most bytes in allocated blocks at once. */
  get peakUsedBytes(): number {
    return this.#peakUsedGranules * this.granule;
  }

  /**
   * `bytes` (a positive integer) rounded up to the granule, at an address aligned to `align` (a
   * power of two; at most the granule costs nothing extra): the address, or -1 when no free block
   * can hold it.
   */
  alloc(bytes: number, align = 8): number {
    requireInteger(bytes, "bytes", 1);
    requirePowerOfTwo(align, "align", 1, 2 ** 30);
    const n = Math.ceil(bytes / this.granule);
    const a = align <= this.granule ? 1 : align >>> this.#shift;
    if (n > this.#end) return -1;
    let r = this.#search(n + a - 1);
    if (r < 0) r = this.#scan(n, a);
    if (r < 0) return -1;
    this.#remove(r);
    const start = this.#rows[r * ROW + START]!;
    const aligned = Math.ceil(start / a) * a;
    if (aligned > start) {
      // The bytes before the aligned start stay free (their left neighbour is used: blocks are merged).
      const u = this.#split(r, aligned - start);
      this.#insert(r);
      r = u;
    }
    // (#split may grow the rows: they are read afresh.)
    if (this.#rows[r * ROW + SIZE]! > n) this.#insert(this.#split(r, n));
    this.#rows[r * ROW + STATE] = USED;
    this.#usedGranules += n;
    if (this.#usedGranules > this.#peakUsedGranules) this.#peakUsedGranules = this.#usedGranules;
    const address = aligned * this.granule;
    this.#used.set(address, r);
    return address;
  }

  /**
   * Frees the block at `address`, merging it with free neighbours. Throws `ERR_NOT_ALLOCATED`
   * (changing nothing) when `address` is not the start of an allocated block.
   */
  free(address: number): void {
    const r0 = this.#used.get(requireInteger(address, "address"));
    if (r0 < 0) throw new MmkitError(ErrorCode.NotAllocated, `address ${describeValue(address)} is not an allocated range`);
    this.#used.delete(address);
    const rows = this.#rows;
    let r = r0;
    this.#usedGranules -= rows[r * ROW + SIZE]!;
    rows[r * ROW + STATE] = FREE;
    const p = rows[r * ROW + PREV]!;
    if (p >= 0 && rows[p * ROW + STATE] === FREE) {
      this.#remove(p);
      this.#absorb(p, r);
      r = p;
    }
    const q = rows[r * ROW + NEXT]!;
    if (q >= 0 && rows[q * ROW + STATE] === FREE) {
      this.#remove(q);
      this.#absorb(r, q);
    }
    this.#insert(r);
  }

  /** Bytes of the allocated block at `address`; `ERR_NOT_ALLOCATED` when there is none. */
  sizeOf(address: number): number {
    const r = this.#used.get(requireInteger(address, "address"));
    if (r < 0) throw new MmkitError(ErrorCode.NotAllocated, `address ${describeValue(address)} is not an allocated range`);
    return this.#rows[r * ROW + SIZE]! * this.granule;
  }

  /**
   * The managed bytes grow to `[0, size)` (rounded down to the granule): the new bytes merge with
   * a free block at the old end, so an allocation may span it. O(1).
   */
  grow(size: number): void {
    const end = Math.floor(requireInteger(size, "size", this.size) / this.granule);
    if (end >= 2 ** 31) throw new MmkitError(ErrorCode.OutOfRange, `size ${size} is 2^31 granules of ${this.granule} bytes or more`);
    if (end === this.#end) return;
    const rows = this.#rows;
    const last = this.#last;
    if (rows[last * ROW + STATE] === FREE) {
      this.#remove(last);
      rows[last * ROW + SIZE] = rows[last * ROW + SIZE]! + end - this.#end;
      this.#insert(last);
    } else {
      const r = this.#newRow(this.#end, end - this.#end, last, -1);
      this.#rows[last * ROW + NEXT] = r;
      this.#insert(r);
      this.#last = r;
    }
    this.#end = end;
  }

  /** Sizes of what is used and free. O(blocks) for the largest free block. */
  stats(): RangeFitStats {
    const rows = this.#rows;
    let largest = 0;
    for (let r = 0; r < this.#capacity; r++) {
      if (rows[r * ROW + STATE] === FREE && rows[r * ROW + SIZE]! > largest) largest = rows[r * ROW + SIZE]!;
    }
    const g = this.granule;
    return {
      size: this.#end * g,
      usedBytes: this.#usedGranules * g,
      peakUsedBytes: this.#peakUsedGranules * g,
      freeBytes: (this.#end - this.#usedGranules) * g,
      largestFreeBytes: largest * g,
      freeBlocks: this.#freeBlocks,
      usedBlocks: this.#used.size,
    };
  }

  /**
   * Validates every invariant: the blocks tile `[0, size)` in address order with consistent
   * links, no two free blocks touch, each free block is on the list of its size and every list
   * holds only such blocks, the bitmaps say which lists are non-empty, the hash knows exactly the
   * allocated blocks, and the counters match. Throws `ERR_INVARIANT`. O(blocks + lists).
   */
  check(): void {
    const rows = this.#rows;
    const fail = (what: string): never => {
      throw new MmkitError(ErrorCode.Invariant, `range-fit: ${what}`);
    };
    let at = 0;
    let prev = -1;
    let free = 0;
    let used = 0;
    let usedGranules = 0;
    let r = this.#first();
    while (r >= 0) {
      const o = r * ROW;
      if (rows[o + START] !== at) fail(`block ${r} starts at granule ${rows[o + START]}, expected ${at}`);
      if (rows[o + SIZE]! < 1) fail(`block ${r} has size ${rows[o + SIZE]}`);
      if (rows[o + PREV] !== prev) fail(`block ${r}'s previous block is ${rows[o + PREV]}, expected ${prev}`);
      const state = rows[o + STATE];
      if (state === FREE) {
        free++;
        if (prev >= 0 && rows[prev * ROW + STATE] === FREE) fail(`free blocks ${prev} and ${r} touch`);
      } else if (state === USED) {
        used++;
        usedGranules += rows[o + SIZE]!;
        if (this.#used.get(at * this.granule) !== r) fail(`allocated block ${r} at ${at * this.granule} is not in the address hash`);
      } else fail(`block ${r} on the address list is unused`);
      at += rows[o + SIZE]!;
      prev = r;
      r = rows[o + NEXT]!;
    }
    if (at !== this.#end) fail(`blocks end at granule ${at}, the range at ${this.#end}`);
    if (prev !== this.#last) fail(`last block is ${prev}, recorded ${this.#last}`);
    if (used !== this.#used.size) fail(`${used} allocated blocks, the hash holds ${this.#used.size}`);
    if (usedGranules !== this.#usedGranules) fail(`allocated granules sum to ${usedGranules}, counted ${this.#usedGranules}`);
    if (free !== this.#freeBlocks) fail(`${free} free blocks, counted ${this.#freeBlocks}`);
    let listed = 0;
    for (let b = 0; b < FL * SL; b++) {
      const fl = b >>> SL_LOG2;
      const sl = b & (SL - 1);
      const nonEmpty = this.#heads[b]! >= 0;
      if (nonEmpty !== ((this.#slBits[fl]! >>> sl) & 1) > 0) fail(`list ${b}'s bit disagrees with its head ${this.#heads[b]}`);
      if (sl === 0 && (this.#slBits[fl] !== 0) !== ((this.#flBits >>> fl) & 1) > 0) fail(`first-level bit ${fl} disagrees with its lists`);
      let before = -1;
      for (let f = this.#heads[b]!; f >= 0; f = rows[f * ROW + FNEXT]!) {
        if (rows[f * ROW + STATE] !== FREE) fail(`block ${f} on list ${b} is not free`);
        if (bucketOf(rows[f * ROW + SIZE]!) !== b) fail(`block ${f} of ${rows[f * ROW + SIZE]} granules is on list ${b}`);
        if (rows[f * ROW + FPREV] !== before) fail(`block ${f}'s list link back is ${rows[f * ROW + FPREV]}, expected ${before}`);
        before = f;
        if (++listed > free) fail(`the lists hold more blocks than the ${free} free ones (a cycle?)`);
      }
    }
    if (listed !== free) fail(`the lists hold ${listed} blocks, ${free} are free`);
  }

  /** The block starting at granule 0 (it is never merged into another, as nothing precedes it). */
  #first(): number {
    let r = this.#last;
    while (this.#rows[r * ROW + PREV]! >= 0) r = this.#rows[r * ROW + PREV]!;
    return r;
  }

  /** The first block of the first non-empty list at or above `bucketAbove(size)`, or -1. */
  #search(size: number): number {
    const b = bucketAbove(size);
    if (b < 0) return -1;
    let fl = b >>> SL_LOG2;
    let bits = this.#slBits[fl]! & (~0 << (b & (SL - 1)));
    if (bits === 0) {
      const above = fl + 1 < FL ? this.#flBits & (~0 << (fl + 1)) : 0;
      if (above === 0) return -1;
      fl = lowestBit(above);
      bits = this.#slBits[fl]!;
    }
    return this.#heads[fl * SL + lowestBit(bits)]!;
  }

  /** Block by block through the lists below the round-up: the first block holding `n` granules aligned to `a`, or -1. */
  #scan(n: number, a: number): number {
    const rows = this.#rows;
    const top = bucketAbove(n + a - 1);
    const stop = top < 0 ? FL * SL : top;
    for (let b = bucketOf(n); b < stop; b++) {
      for (let r = this.#heads[b]!; r >= 0; r = rows[r * ROW + FNEXT]!) {
        const start = rows[r * ROW + START]!;
        if (Math.ceil(start / a) * a + n <= start + rows[r * ROW + SIZE]!) return r;
      }
    }
    return -1;
  }

  /** Cuts block `r` after `keep` granules; returns the new block (the rest, state of `r`, on no list). */
  #split(r: number, keep: number): number {
    const o = r * ROW;
    const next = this.#rows[o + NEXT]!;
    const u = this.#newRow(this.#rows[o + START]! + keep, this.#rows[o + SIZE]! - keep, r, next);
    const rows2 = this.#rows; // #newRow may have grown the rows
    rows2[u * ROW + STATE] = rows2[o + STATE]!;
    rows2[o + SIZE] = keep;
    rows2[o + NEXT] = u;
    if (next >= 0) rows2[next * ROW + PREV] = u;
    else this.#last = u;
    return u;
  }

  /** Block `r` takes in its next neighbour `q`, whose row is given back. */
  #absorb(r: number, q: number): void {
    const rows = this.#rows;
    rows[r * ROW + SIZE] = rows[r * ROW + SIZE]! + rows[q * ROW + SIZE]!;
    const next = rows[q * ROW + NEXT]!;
    rows[r * ROW + NEXT] = next;
    if (next >= 0) rows[next * ROW + PREV] = r;
    else this.#last = r;
    rows[q * ROW + STATE] = UNUSED;
    this.#freeRows[this.#freeRowCount++] = q;
  }

  #insert(r: number): void {
    const rows = this.#rows;
    const b = bucketOf(rows[r * ROW + SIZE]!);
    const head = this.#heads[b]!;
    rows[r * ROW + STATE] = FREE;
    rows[r * ROW + FPREV] = -1;
    rows[r * ROW + FNEXT] = head;
    if (head >= 0) rows[head * ROW + FPREV] = r;
    this.#heads[b] = r;
    const fl = b >>> SL_LOG2;
    this.#slBits[fl] = this.#slBits[fl]! | (1 << (b & (SL - 1)));
    this.#flBits |= 1 << fl;
    this.#freeBlocks++;
  }

  #remove(r: number): void {
    const rows = this.#rows;
    const b = bucketOf(rows[r * ROW + SIZE]!);
    const p = rows[r * ROW + FPREV]!;
    const q = rows[r * ROW + FNEXT]!;
    if (p >= 0) rows[p * ROW + FNEXT] = q;
    else this.#heads[b] = q;
    if (q >= 0) rows[q * ROW + FPREV] = p;
    if (this.#heads[b]! < 0) {
      const fl = b >>> SL_LOG2;
      this.#slBits[fl] = this.#slBits[fl]! & ~(1 << (b & (SL - 1)));
      if (this.#slBits[fl] === 0) this.#flBits &= ~(1 << fl);
    }
    this.#freeBlocks--;
  }

  #newRow(start: number, size: number, prev: number, next: number): number {
    if (this.#freeRowCount === 0) this.#growRows();
    const r = this.#freeRows[--this.#freeRowCount]!;
    const o = r * ROW;
    const rows = this.#rows;
    rows[o + START] = start;
    rows[o + SIZE] = size;
    rows[o + PREV] = prev;
    rows[o + NEXT] = next;
    rows[o + FPREV] = -1;
    rows[o + FNEXT] = -1;
    rows[o + STATE] = FREE;
    return r;
  }

  #takeRows(from: number, to: number): void {
    // Pushed high to low, so rows are handed out from 0 upwards.
    for (let r = to - 1; r >= from; r--) this.#freeRows[this.#freeRowCount++] = r;
    this.#capacity = to;
  }

  #growRows(): void {
    const old = this.#capacity;
    const rows = this.#arena.int32(old * 2 * ROW, "range-fit rows");
    rows.set(this.#rows);
    const free = this.#arena.int32(old * 2, "range-fit free rows");
    this.#arena.release(this.#rows);
    this.#arena.release(this.#freeRows);
    this.#rows = rows;
    this.#freeRows = free;
    this.#freeRowCount = 0;
    this.#takeRows(old, old * 2);
  }
}

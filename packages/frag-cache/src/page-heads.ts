import { ErrorCode, MmkitError, type ArrayFactory } from "@mmkit/physmem";

/** Pages per chunk of the page-head table: 1024 (4 KiB of metadata per 4 MiB of 4 KiB pages). */
export const HEAD_CHUNK_PAGES = 1024;
const SHIFT = 10;
const MASK = HEAD_CHUNK_PAGES - 1;
/** Directory entries at most: 2^21, so the pages one cache holds lie within 2^31 pages of each other. */
const MAX_DIR = 1 << 21;
const DIR_LABEL = "frag-cache page head directory";
const HEADS_LABEL = "frag-cache page heads";

/**
 * Which block a page belongs to, and which page of it: the fragment cache's `virt_to_head_page()`.
 * One int32 per page, like the compound-head field of every `struct page`, written once per page
 * when a block is taken and cleared when it goes back: `slot x 2^shift + index + 1` for page `index`
 * of the block in `slot` (0 for a page the cache does not hold), so the offset of an address in its
 * block follows from the entry alone, without reading the block's record.
 * Stored the way `SPARSEMEM` stores the memmap: in chunks of {@link HEAD_CHUNK_PAGES} pages, a
 * chunk allocated the first time the cache holds a page of its 1024, found through a directory
 * indexed by `pfn / 1024` over the span of pfns seen. The chunks live side by side in one arena
 * array (`heads`, grown by doubling); the directory holds each chunk's first index in it.
 *
 * | array | label | holds |
 * | --- | --- | --- |
 * | `dir` int32, 2 per entry | "frag-cache page head directory" | first index of the chunk in `heads` (-1: none) and pages of the chunk mapped now |
 * | `heads` int32, 1024 per chunk | "frag-cache page heads" | `slot x 2^shift + index + 1` per page |
 *
 * Cost: a lookup is two dependent loads (a directory line and a chunk line); {@link map} and
 * {@link unmap} O(pages of the block); {@link prepare} allocates only for a chunk (or a directory
 * span) not seen before. Metadata: 4 bytes per page of every chunk the cache has held a block in
 * since {@link releaseEmpty} last ran (0.1 % with 4 KiB pages), plus 8 bytes per 1024 pages of the
 * span between the lowest and highest pfn seen.
 *
 * @example
 * ```ts
 * const heads = new PageHeads(new MetadataArena(), 3);   // blocks of up to 2^3 pages
 * heads.prepare(4096, 8);   // one chunk (pfns 4096..5119) and a one-entry directory
 * heads.map(4096, 8, 5);
 * heads.lookup(4099);       // 5 (heads.heads[...] holds 5 * 8 + 3 + 1)
 * heads.lookup(4104);       // -1
 * ```
 */
export class PageHeads {
  readonly #arena: ArrayFactory;
  /** log2 of the most pages a block has: entries are `slot << shift | index`, + 1. */
  readonly shift: number;
  /** [first index in `heads` or -1, pages mapped] per 1024-page chunk of the span. */
  dir: Int32Array;
  /** Block slot + 1 per page, 1024 pages per chunk. */
  heads: Int32Array;
  /** First pfn the directory covers (a multiple of 1024). */
  first = 0;
  /** Pfns the directory covers (1024 per entry; 0 while there is no chunk). */
  span = 0;
  /** Zero-length arrays, allocated once and never released, for the state with no chunk. */
  readonly #emptyDir: Int32Array;
  readonly #emptyHeads: Int32Array;
  /** Chunk numbers in `heads` that no directory entry uses. */
  readonly #spare: number[] = [];
  #chunks = 0;

  constructor(arena: ArrayFactory, shift = 0) {
    this.#arena = arena;
    this.shift = shift;
    this.#emptyDir = arena.int32(0, DIR_LABEL);
    this.#emptyHeads = arena.int32(0, HEADS_LABEL);
    this.dir = this.#emptyDir;
    this.heads = this.#emptyHeads;
  }

  /** Chunks in use (in the directory). */
  get chunks(): number {
    return this.#chunks;
  }

  /** The slot of the block holding page `pfn`, or -1 (also for NaN, negative or far-away pfns). */
  lookup(pfn: number): number {
    const rel = pfn - this.first;
    if (!(rel >= 0 && rel < this.span)) return -1;
    const c = this.dir[(rel >>> SHIFT) << 1]!;
    if (c < 0) return -1;
    const v = this.heads[c + (rel & MASK)]!;
    return v === 0 ? -1 : (v - 1) >>> this.shift;
  }

  /** True when pages `pfn .. pfn + pages - 1` have their chunks already (so {@link prepare} has nothing to do). */
  covers(pfn: number, pages: number): boolean {
    const rel = pfn - this.first;
    if (!(rel >= 0 && rel + pages <= this.span)) return false;
    for (let e = (rel >>> SHIFT) << 1; e <= ((rel + pages - 1) >>> SHIFT) << 1; e += 2) if (this.dir[e]! < 0) return false;
    return true;
  }

  /**
   * Makes sure pages `pfn .. pfn + pages - 1` have chunks and directory entries, allocating what is
   * missing. Throws (`ERR_ARENA_SEALED` from the arena, `ERR_OUT_OF_RANGE` when the span would pass
   * 2^31 pages) with nothing changed.
   */
  prepare(pfn: number, pages: number): void {
    const lo = Math.floor(pfn / HEAD_CHUNK_PAGES);
    const hi = Math.floor((pfn + pages - 1) / HEAD_CHUNK_PAGES);
    const oldFirst = this.first / HEAD_CHUNK_PAGES;
    const oldLen = this.span / HEAD_CHUNK_PAGES;
    const oldEnd = oldFirst + oldLen;
    let missing = 0;
    for (let k = lo; k <= hi; k++) if (k < oldFirst || k >= oldEnd || this.dir[(k - oldFirst) << 1]! < 0) missing++;
    if (missing === 0) return;
    let first = oldFirst;
    let len = oldLen;
    if (oldLen === 0 || lo < oldFirst || hi >= oldEnd) {
      first = oldLen === 0 ? lo : Math.min(oldFirst, lo);
      let end = oldLen === 0 ? hi + 1 : Math.max(oldEnd, hi + 1);
      if (end - first > MAX_DIR) {
        throw new MmkitError(ErrorCode.OutOfRange, `pfn ${pfn} is too far from the other pages this fragment cache holds (they must lie within 2^31 pages of each other)`);
      }
      // Grow at least twofold towards the side that needs it, so a cache walking up or down through
      // memory re-bases its directory O(log span) times.
      if (oldLen > 0 && hi >= oldEnd) end = Math.max(end, Math.min(oldFirst + 2 * oldLen, first + MAX_DIR));
      if (oldLen > 0 && lo < oldFirst) first = Math.min(first, Math.max(0, oldEnd - 2 * oldLen, end - MAX_DIR));
      len = end - first;
    }
    const capacity = this.heads.length / HEAD_CHUNK_PAGES;
    const need = this.#chunks + missing;
    const arena = this.#arena;
    let dir = this.dir;
    let heads = this.heads;
    if (first !== oldFirst || len !== oldLen) dir = arena.int32(len * 2, DIR_LABEL);
    if (need > capacity) {
      try {
        heads = arena.int32(Math.max(need, 2 * capacity) * HEAD_CHUNK_PAGES, HEADS_LABEL);
      } catch (error) {
        if (dir !== this.dir) arena.release(dir);
        throw error;
      }
    }
    // Commit: nothing below can throw.
    if (heads !== this.heads) {
      heads.set(this.heads);
      for (let c = capacity; c < heads.length / HEAD_CHUNK_PAGES; c++) this.#spare.push(c);
      if (this.heads !== this.#emptyHeads) arena.release(this.heads);
      this.heads = heads;
    }
    if (dir !== this.dir) {
      for (let i = 0; i < len; i++) {
        dir[i << 1] = -1;
        dir[(i << 1) + 1] = 0;
      }
      if (oldLen > 0) dir.set(this.dir, (oldFirst - first) << 1);
      if (this.dir !== this.#emptyDir) arena.release(this.dir);
      this.dir = dir;
      this.first = first * HEAD_CHUNK_PAGES;
      this.span = len * HEAD_CHUNK_PAGES;
    }
    for (let k = lo; k <= hi; k++) {
      const e = (k - first) << 1;
      if (dir[e]! >= 0) continue;
      // Spare chunks are all zeros: every page was unmapped before its chunk went spare.
      dir[e] = this.#spare.pop()! * HEAD_CHUNK_PAGES;
      dir[e + 1] = 0;
      this.#chunks++;
    }
  }

  /** Records that pages `pfn .. pfn + pages - 1` (after {@link prepare}) are block `slot`'s. */
  map(pfn: number, pages: number, slot: number): void {
    this.#set(pfn, pages, (slot << this.shift) + 1, 1);
  }

  /** Forgets pages `pfn .. pfn + pages - 1` (their block went back to the page source). */
  unmap(pfn: number, pages: number): void {
    this.#set(pfn, pages, 0, -1);
  }

  /**
   * Takes every chunk no block uses out of the directory, and gives back the chunk array and the
   * directory when no chunk is left. Allocates nothing, so it cannot throw. O(directory).
   */
  releaseEmpty(): void {
    const dir = this.dir;
    for (let e = 0; e < dir.length; e += 2) {
      if (dir[e]! < 0 || dir[e + 1]! > 0) continue;
      this.#spare.push(dir[e]! / HEAD_CHUNK_PAGES);
      dir[e] = -1;
      this.#chunks--;
    }
    if (this.#chunks === 0 && this.span > 0) {
      this.#arena.release(this.dir);
      this.#arena.release(this.heads);
      this.dir = this.#emptyDir;
      this.heads = this.#emptyHeads;
      this.first = 0;
      this.span = 0;
      this.#spare.length = 0;
    }
  }

  /**
   * Calls `fn(pfn, slot, index)` for every page mapped to a block (page `index` of the block in
   * `slot`), in pfn order, after checking every
   * chunk's count of mapped pages and that spare chunks are empty. Returns the number of pages
   * mapped. For `check()`; O(directory + heads).
   */
  forEachMapped(fn: (pfn: number, slot: number, index: number) => void): number {
    const dir = this.dir;
    const heads = this.heads;
    let total = 0;
    const used = new Set<number>();
    for (let e = 0; e < dir.length; e += 2) {
      const c = dir[e]!;
      if (c < 0) continue;
      if (c % HEAD_CHUNK_PAGES !== 0 || c >= heads.length || used.has(c)) invariant(`page-head directory entry ${e >> 1} names chunk index ${c}`);
      used.add(c);
      const base = this.first + (e >> 1) * HEAD_CHUNK_PAGES;
      let n = 0;
      for (let i = 0; i < HEAD_CHUNK_PAGES; i++) {
        if (heads[c + i] === 0) continue;
        n++;
        const v = heads[c + i]! - 1;
        fn(base + i, Math.floor(v / 2 ** this.shift), v % 2 ** this.shift);
      }
      if (n !== dir[e + 1]) invariant(`page-head chunk at pfn ${base} has ${n} pages mapped, counted ${dir[e + 1]}`);
      total += n;
    }
    if (used.size !== this.#chunks) invariant(`${used.size} page-head chunks in the directory, counted ${this.#chunks}`);
    if (used.size + this.#spare.length !== heads.length / HEAD_CHUNK_PAGES) invariant(`page-head chunks: ${used.size} used + ${this.#spare.length} spare != ${heads.length / HEAD_CHUNK_PAGES}`);
    for (const c of this.#spare) {
      for (let i = 0; i < HEAD_CHUNK_PAGES; i++) if (heads[c * HEAD_CHUNK_PAGES + i] !== 0) invariant(`spare page-head chunk ${c} is not empty`);
    }
    return total;
  }

  /** Writes `value` (+ the page's index when `value` is not 0) for each page, and counts them. */
  #set(pfn: number, pages: number, value: number, delta: number): void {
    const dir = this.dir;
    const heads = this.heads;
    for (let i = 0; i < pages; i++) {
      const rel = pfn + i - this.first;
      const e = (rel >>> SHIFT) << 1;
      heads[dir[e]! + (rel & MASK)] = value === 0 ? 0 : value + i;
      dir[e + 1] = dir[e + 1]! + delta;
    }
  }
}

function invariant(message: string): never {
  throw new MmkitError(ErrorCode.Invariant, `frag-cache: ${message}`);
}

import { ErrorCode, MetadataArena, MmkitError, describeValue, requireArrayFactory, type ArrayFactory } from "@mmkit/physmem";
import type { DescriptorTable, PfnRange } from "./descriptor-table.js";
import { badOut } from "./limits.js";
import { isMemdesc } from "./memdesc.js";

/**
 * Options for {@link MemmapTable}.
 *
 * @example
 * ```ts
 * const memmap = new MemmapTable({ pages: 1024, bytesPerPage: 8 });   // the memdesc plan's 8 B per page
 * memmap.set(10, 13, encodeMemdesc(MemdescType.Slab, 0x2000));
 * ```
 */
export interface MemmapTableOptions {
  /** Pages the table covers (holes included, as a flat memmap does). */
  pages: number;
  /** First pfn covered (default 0). */
  startPfn?: number;
  /**
   * Bytes of metadata per page, a multiple of 8 from 8 to 256 (default 64, like `struct page`).
   * 8 is the memdesc plan's array of one word per page.
   */
  bytesPerPage?: number;
  /** Where the array comes from (default: a private `MetadataArena`). */
  arena?: ArrayFactory;
}

/**
 * A flat memmap: a fixed number of bytes per page frame, in one arena array, as the kernel's
 * `mem_map` of `struct page` (64 bytes) or the memdesc plan's array of 8-byte words.
 *
 * Word 0 of each page holds its memdesc (-1: none), as every page of a folio points at the folio.
 * With 16 bytes or more per page, word 1 links the pages of a descriptor like compound pages do:
 * the first page holds the page count, the others minus their distance to it, so `range` is O(1).
 * With 8 bytes per page there is room for nothing else: `range` walks the run of pages holding the
 * same memdesc, O(pages in the run) (the real plan reads the size from the descriptor).
 *
 * Cost: `get` one read (one cache line); `range` two reads with links; `set`/`clear` write every
 * page of the range (and re-link the pages of a descriptor they cut). Metadata: `bytesPerPage`
 * per page covered, holes included.
 *
 * @example
 * ```ts
 * const memmap = new MemmapTable({ pages: 1024, bytesPerPage: 64 });
 * memmap.set(8, 15, encodeMemdesc(MemdescType.File, 0x100));
 * memmap.get(12) === encodeMemdesc(MemdescType.File, 0x100); // true
 * memmap.metadataBytes; // 65536
 * ```
 */
export class MemmapTable implements DescriptorTable {
  /** `"memmap-<bytesPerPage>"`: the table's name in reports. */
  readonly name: string;
  /** First pfn the table covers. */
  readonly startPfn: number;
  /** Number of pages the table covers, from `startPfn`. */
  readonly pages: number;
  /** Metadata bytes per page (64 for `struct page`, 8 for a memdesc word). */
  readonly bytesPerPage: number;
  /** Where the table's array comes from (and is measured). */
  readonly arena: ArrayFactory;
  readonly #words: number;
  readonly #map: Float64Array;

  constructor(options: MemmapTableOptions) {
    if (options === null || typeof options !== "object") {
      throw new MmkitError(ErrorCode.InvalidArgument, `memmap options must be an object, got ${describeValue(options)}`);
    }
    const pages = options.pages;
    if (typeof pages !== "number" || !Number.isSafeInteger(pages) || pages < 1) {
      throw new MmkitError(ErrorCode.InvalidArgument, `pages must be a positive integer, got ${describeValue(pages)}`);
    }
    const start = options.startPfn ?? 0;
    if (typeof start !== "number" || !Number.isSafeInteger(start) || start < 0 || start + pages > Number.MAX_SAFE_INTEGER) {
      throw new MmkitError(ErrorCode.InvalidArgument, `startPfn must be a non-negative integer, got ${describeValue(start)}`);
    }
    const bpp = options.bytesPerPage ?? 64;
    if (typeof bpp !== "number" || !Number.isInteger(bpp) || bpp < 8 || bpp > 256 || bpp % 8 !== 0) {
      throw new MmkitError(ErrorCode.InvalidArgument, `bytesPerPage must be a multiple of 8 in [8, 256], got ${describeValue(bpp)}`);
    }
    this.startPfn = start;
    this.pages = pages;
    this.bytesPerPage = bpp;
    this.name = `memmap-${bpp}`;
    this.arena = requireArrayFactory(options.arena ?? new MetadataArena());
    this.#words = bpp / 8;
    let map: Float64Array;
    try {
      map = this.arena.float64(pages * this.#words, `memmap (${bpp} B/page)`);
    } catch (cause) {
      // The arena names the array's length; say which option made it too long.
      if (!(cause instanceof MmkitError) || cause.code === ErrorCode.ArenaSealed) throw cause;
      throw new MmkitError(ErrorCode.BackingTooLarge, `a memmap of ${pages} pages at ${bpp} bytes per page is more than one array can hold`, { cause });
    }
    this.#map = map;
    const w = this.#words;
    for (let i = 0; i < pages; i++) this.#map[i * w] = -1;
  }

  get metadataBytes(): number {
    return this.#map.byteLength;
  }

  set(firstPfn: number, lastPfn: number, memdesc: number): void {
    const f = this.#page(firstPfn, "firstPfn");
    const l = this.#page(lastPfn, "lastPfn");
    if (f > l) throw new MmkitError(ErrorCode.InvalidArgument, `firstPfn ${firstPfn} must not exceed lastPfn ${lastPfn}`);
    if (!isMemdesc(memdesc)) throw new MmkitError(ErrorCode.InvalidArgument, `memdesc must be a non-negative integer, got ${describeValue(memdesc)}`);
    const map = this.#map;
    const w = this.#words;
    if (w === 1) {
      for (let p = f; p <= l; p++) map[p] = memdesc;
      return;
    }
    // Cut the descriptors the range overlaps at either end: the left part keeps its head, the
    // right part gets a new head at l + 1 (like splitting a compound page re-links its tails).
    if (map[f * w]! >= 0) {
      const head = this.#head(f);
      const end = head + map[head * w + 1]! - 1;
      if (head < f) map[head * w + 1] = f - head;
      if (end > l) this.#link(l + 1, end);
    }
    if (l + 1 < this.pages && map[(l + 1) * w]! >= 0) {
      const head = this.#head(l + 1);
      if (head >= f && head <= l) this.#link(l + 1, head + map[head * w + 1]! - 1);
    }
    for (let p = f; p <= l; p++) map[p * w] = memdesc;
    this.#link(f, l);
  }

  clear(pfn: number, out?: PfnRange): number {
    if (out !== undefined && (typeof out !== "object" || out === null)) badOut(out);
    const p = this.#page(pfn, "pfn");
    const map = this.#map;
    const w = this.#words;
    const memdesc = map[p * w]!;
    if (memdesc < 0) return -1;
    let first: number;
    let last: number;
    if (w === 1) {
      first = p;
      last = p;
      while (first > 0 && map[first - 1] === memdesc) first--;
      while (last + 1 < this.pages && map[last + 1] === memdesc) last++;
    } else {
      first = this.#head(p);
      last = first + map[first * w + 1]! - 1;
    }
    for (let q = first; q <= last; q++) {
      map[q * w] = -1;
      if (w > 1) map[q * w + 1] = 0;
    }
    if (out !== undefined) {
      out.firstPfn = first;
      out.lastPfn = last;
    }
    return memdesc;
  }

  get(pfn: number): number {
    // Number.isInteger first: the subtraction would turn "3", null or [] into a page and throw a
    // TypeError for a BigInt.
    if (!(Number.isInteger(pfn) && pfn >= this.startPfn && pfn - this.startPfn < this.pages)) this.#page(pfn, "pfn");
    return this.#map[(pfn - this.startPfn) * this.#words]!;
  }

  range(pfn: number, out: PfnRange): boolean {
    const p = this.#page(pfn, "pfn");
    if (typeof out !== "object" || out === null) badOut(out);
    const map = this.#map;
    const w = this.#words;
    const memdesc = map[p * w]!;
    if (memdesc < 0) return false;
    let first: number;
    let last: number;
    if (w === 1) {
      first = p;
      last = p;
      while (first > 0 && map[first - 1] === memdesc) first--;
      while (last + 1 < this.pages && map[last + 1] === memdesc) last++;
    } else {
      first = this.#head(p);
      last = first + map[first * w + 1]! - 1;
    }
    out.firstPfn = first + this.startPfn;
    out.lastPfn = last + this.startPfn;
    return true;
  }

  check(): void {
    const map = this.#map;
    const w = this.#words;
    const fail = (m: string): never => {
      throw new MmkitError(ErrorCode.Invariant, `memmap: ${m}`);
    };
    for (let p = 0; p < this.pages; ) {
      const d = map[p * w]!;
      if (d !== -1 && !isMemdesc(d)) fail(`page ${p + this.startPfn} holds ${d}`);
      if (w === 1 || d === -1) {
        if (w > 1 && map[p * w + 1] !== 0) fail(`empty page ${p + this.startPfn} has link ${map[p * w + 1]}`);
        p++;
        continue;
      }
      const n = map[p * w + 1]!;
      if (!Number.isInteger(n) || n < 1 || p + n > this.pages) fail(`page ${p + this.startPfn} should head a descriptor, has link ${n}`);
      for (let q = 1; q < n; q++) {
        if (map[(p + q) * w] !== d) fail(`page ${p + q + this.startPfn} holds ${map[(p + q) * w]}, its head ${d}`);
        if (map[(p + q) * w + 1] !== -q) fail(`page ${p + q + this.startPfn} links ${map[(p + q) * w + 1]}, should be ${-q}`);
      }
      p += n;
    }
  }

  /** Index into the table of `pfn`; throws for a pfn the table does not cover. */
  #page(pfn: number, name: string): number {
    if (typeof pfn !== "number" || !Number.isSafeInteger(pfn)) throw new MmkitError(ErrorCode.InvalidArgument, `${name} must be an integer, got ${describeValue(pfn)}`);
    const p = pfn - this.startPfn;
    if (p < 0 || p >= this.pages) {
      throw new MmkitError(ErrorCode.OutOfRange, `${name} ${pfn} is outside the memmap [${this.startPfn}, ${this.startPfn + this.pages - 1}]`);
    }
    return p;
  }

  /** First page (table index) of the descriptor holding page `p` (which holds one). */
  #head(p: number): number {
    const link = this.#map[p * this.#words + 1]!;
    return link > 0 ? p : p + link;
  }

  /** Links pages `[f, l]` as one descriptor headed at f. */
  #link(f: number, l: number): void {
    const map = this.#map;
    const w = this.#words;
    map[f * w + 1] = l - f + 1;
    for (let p = f + 1; p <= l; p++) map[p * w + 1] = f - p;
  }
}

import { ErrorCode, MmkitError, SharedMetadataArena, describeValue, isPowerOfTwo, type SharedArenaHandle } from "@mmkit/physmem";
import { FRAG_BLOCK_BYTES, FRAG_GRANULE } from "./constants.js";

/** Version of the shared fragment table's layout; `attach` refuses another. */
export const SHARED_FRAG_TABLE_VERSION = 1;
/** Smallest page size of the shared mode: a page must fill whole int32 words of the 16-byte-granule bitmaps. */
const MIN_SHARED_PAGE = 32 * FRAG_GRANULE;
const MAX_PAGES = 2 ** 26;

/**
 * What a worker needs to attach to a {@link SharedFragmentTable}: plain data and the arena's
 * `SharedArrayBuffer`, so it survives `postMessage`.
 *
 * @example
 * ```ts
 * worker.postMessage(table.handle);
 * const same = SharedFragmentTable.attach(event.data);   // in the worker
 * ```
 */
export interface SharedFragmentTableHandle {
  /** What this object is, checked by `attach`. */
  readonly format: "mmkit-shared-frag-table";
  /** Layout version ({@link SHARED_FRAG_TABLE_VERSION}). */
  readonly version: number;
  /** Pages the table covers: pfns `0 .. pages - 1`. */
  readonly pages: number;
  /** Bytes per page. */
  readonly pageSize: number;
  /** Bytes per full fragment block. */
  readonly blockBytes: number;
  /** The shared arena holding the arrays. */
  readonly arena: SharedArenaHandle;
}

/**
 * Options for {@link SharedFragmentTable.create}.
 *
 * @example
 * ```ts
 * const table = SharedFragmentTable.create({ pages: 4096 });   // 16 MiB of 4 KiB pages
 * ```
 */
export interface SharedFragmentTableOptions {
  /** Pages the page source hands out pfns from: `0 .. pages - 1` (at most 2^26). */
  pages: number;
  /** Bytes per page, a power of two of at least 512 (default 4096). */
  pageSize?: number;
  /** Bytes per fragment block, a power of two (default {@link FRAG_BLOCK_BYTES}, 32 KiB). */
  blockBytes?: number;
}

/**
 * The part of the page-fragment cache that every worker sees: the `struct page` fields a fragment's
 * free needs, in one `SharedArrayBuffer` (a `SharedMetadataArena`). Each worker's
 * {@link SharedFragmentCache} keeps its own bias and carving offset; the block's reference count,
 * the page-to-block map and the fragment bitmaps live here, so a fragment can be freed by any worker.
 * Indexed by pfn like the kernel's memmap (fixed size, set up once), not per block:
 *
 * | array | label | holds |
 * | --- | --- | --- |
 * | `heads` int32 per page | "frag-cache shared page heads" | head pfn + 1 of the block holding the page (0: none) |
 * | `refs` int32 per page | "frag-cache shared refcounts" | the block's reference count, at its head pfn (`page->_refcount`) |
 * | `order` int8 per page | "frag-cache shared block order" | the block's order, at its head pfn |
 * | `starts` int32, pageSize/512 per page | "frag-cache shared fragment starts" | bit per 16-byte granule: a live fragment starts here |
 * | `ends` int32, pageSize/512 per page | "frag-cache shared fragment ends" | bit per granule: a fragment carved since the block was taken or recycled ends here |
 * | `modes` int32 | "frag-cache shared modes" | the zero/clear/poison modes, fixed by the first cache: a free in one worker keeps the promise made by the cache that carved |
 *
 * With 4 KiB pages: 73 bytes per page of the source (1.8 %). Cost: `create` O(pages); `attach` O(1).
 *
 * @example
 * ```ts
 * const table = SharedFragmentTable.create({ pages: 4096 });
 * worker.postMessage({ table: table.handle, buddy: buddy.handle });
 * // in the worker:
 * const cache = new SharedFragmentCache(SharedFragmentTable.attach(data.table), SharedBuddy.attach(data.buddy).claimCpu(1));
 * ```
 */
export class SharedFragmentTable {
  /** Pages covered: pfns `0 .. pages - 1`. */
  readonly pages: number;
  /** Bytes per page. */
  readonly pageSize: number;
  /** Bytes per full block (`max(blockBytes, pageSize)`). */
  readonly blockSize: number;
  /** Order of a full block. */
  readonly blockOrder: number;
  /** Head pfn + 1 per page held by some cache's block, 0 otherwise. */
  readonly heads: Int32Array;
  /** Reference count of each block, at its head pfn. */
  readonly refs: Int32Array;
  /** Order of each block, at its head pfn. */
  readonly order: Int8Array;
  /** Fragment start bits, one per 16-byte granule of memory. */
  readonly starts: Int32Array;
  /** Fragment end bits, one per 16-byte granule of memory. */
  readonly ends: Int32Array;
  /** One int32: the zero/clear/poison modes every cache on the table uses, set by the first cache (0: none yet). */
  readonly modes: Int32Array;
  readonly #handle: SharedFragmentTableHandle;

  private constructor(handle: SharedFragmentTableHandle, arena: SharedMetadataArena) {
    this.pages = handle.pages;
    this.pageSize = handle.pageSize;
    this.blockSize = Math.max(handle.blockBytes, handle.pageSize);
    this.blockOrder = Math.round(Math.log2(this.blockSize / this.pageSize));
    const words = (handle.pages * handle.pageSize) / (32 * FRAG_GRANULE);
    this.heads = arena.int32(handle.pages, "frag-cache shared page heads");
    this.refs = arena.int32(handle.pages, "frag-cache shared refcounts");
    this.order = arena.int8(handle.pages, "frag-cache shared block order");
    this.starts = arena.int32(words, "frag-cache shared fragment starts");
    this.ends = arena.int32(words, "frag-cache shared fragment ends");
    this.modes = arena.int32(1, "frag-cache shared modes");
    this.#handle = handle;
  }

  /**
   * Lays out a table for pfns `0 .. pages - 1` in a new shared arena. Throws
   * `ERR_INVALID_ARGUMENT` / `ERR_OUT_OF_RANGE` naming a bad option. O(pages).
   *
   * @example
   * ```ts
   * const table = SharedFragmentTable.create({ pages: 4096, pageSize: 4096 });
   * ```
   */
  static create(options: SharedFragmentTableOptions): SharedFragmentTable {
    if (options === null || typeof options !== "object") throw new MmkitError(ErrorCode.InvalidArgument, `options must be an object, got ${describeValue(options)}`);
    const { pages } = options;
    if (typeof pages !== "number" || !Number.isSafeInteger(pages)) throw new MmkitError(ErrorCode.InvalidArgument, `pages must be an integer, got ${describeValue(pages)}`);
    if (pages < 1 || pages > MAX_PAGES) throw new MmkitError(ErrorCode.OutOfRange, `pages must be in [1, ${MAX_PAGES}], got ${pages}`);
    const pageSize = requirePow2(options.pageSize ?? 4096, "pageSize");
    if (pageSize < MIN_SHARED_PAGE) throw new MmkitError(ErrorCode.OutOfRange, `pageSize must be at least ${MIN_SHARED_PAGE} bytes in shared mode, got ${pageSize}`);
    const blockBytes = requirePow2(options.blockBytes ?? FRAG_BLOCK_BYTES, "blockBytes");
    const words = (pages * pageSize) / (32 * FRAG_GRANULE);
    const line = (bytes: number): number => Math.ceil(bytes / 64) * 64;
    const capacity = 2 * line(4 * pages) + line(pages) + 2 * line(4 * words) + line(4);
    const arena = new SharedMetadataArena({ capacity, maxArrays: 8 });
    const handle: SharedFragmentTableHandle = { format: "mmkit-shared-frag-table", version: SHARED_FRAG_TABLE_VERSION, pages, pageSize, blockBytes, arena: arena.handle };
    return new SharedFragmentTable(handle, arena);
  }

  /**
   * Attaches to the table behind `handle` (posted from the creating thread). Throws
   * `ERR_LAYOUT_MISMATCH` for anything but such a handle of this version. O(1).
   *
   * @example
   * ```ts
   * onmessage = ({ data }) => { const table = SharedFragmentTable.attach(data); };
   * ```
   */
  static attach(handle: SharedFragmentTableHandle): SharedFragmentTable {
    if (handle === null || typeof handle !== "object" || handle.format !== "mmkit-shared-frag-table" || handle.version !== SHARED_FRAG_TABLE_VERSION) {
      throw new MmkitError(ErrorCode.LayoutMismatch, `not a shared fragment table handle of version ${SHARED_FRAG_TABLE_VERSION}: ${describeValue(handle)}`);
    }
    return new SharedFragmentTable(handle, SharedMetadataArena.attach(handle.arena));
  }

  /**
   * What to post to a worker so it can {@link SharedFragmentTable.attach}. O(1).
   *
   * @example
   * ```ts
   * worker.postMessage(table.handle);
   * ```
   */
  get handle(): SharedFragmentTableHandle {
    return this.#handle;
  }

  /**
   * Checks every invariant of the shared state while no worker is using it: each held page names a
   * head whose block covers it, every block's count equals its live fragments (start bits) plus
   * the bias of the cache carving it (`biases`: head pfn to bias, the caches' current blocks), no
   * start bit lies outside a held block, and every live fragment has an end bit in its block.
   * Returns the number of blocks held. Throws `ERR_INVARIANT`. O(pages + bitmap words).
   *
   * @example
   * ```ts
   * table.check(new Map([[cache.currentBlock()!.pfn, cache.currentBlock()!.bias]]));   // 1
   * ```
   */
  check(biases: ReadonlyMap<number, number> = new Map()): number {
    const wordsPerPage = this.pageSize / (32 * FRAG_GRANULE);
    let blocks = 0;
    let pfn = 0;
    for (const head of biases.keys()) if (!(this.heads[head] === head + 1)) invariant(`a cache carves from pfn ${head}, which is no block's head`);
    while (pfn < this.pages) {
      const h = this.heads[pfn]! - 1;
      if (h < 0) {
        for (let w = pfn * wordsPerPage; w < (pfn + 1) * wordsPerPage; w++) if (this.starts[w] !== 0) invariant(`a fragment starts in pfn ${pfn}, which no block holds`);
        pfn++;
        continue;
      }
      if (h !== pfn) invariant(`pfn ${pfn} names head ${h}, but the block starting there does not cover it`);
      const n = 1 << this.order[h]!;
      if (h + n > this.pages) invariant(`block at pfn ${h} of order ${this.order[h]} passes the table's end`);
      for (let i = 1; i < n; i++) if (this.heads[h + i] !== h + 1) invariant(`pfn ${h + i} of the block at pfn ${h} names head ${this.heads[h + i]! - 1}`);
      let live = 0;
      const w0 = h * wordsPerPage;
      const w1 = (h + n) * wordsPerPage;
      for (let w = w0; w < w1; w++) {
        let m = this.starts[w]!;
        while (m !== 0) {
          const low = m & -m;
          m ^= low;
          live++;
          if (this.#endAfter(w, 31 - Math.clz32(low), w1) < 0) invariant(`the fragment at address ${(w * 32 + 31 - Math.clz32(low)) * FRAG_GRANULE} has no end bit in its block`);
        }
      }
      const want = live + (biases.get(h) ?? 0);
      if (this.refs[h] !== want) invariant(`block at pfn ${h} has count ${this.refs[h]}, but ${live} live fragments + bias ${biases.get(h) ?? 0} = ${want}`);
      if (want === 0) invariant(`block at pfn ${h} has no reference but was not given back`);
      blocks++;
      pfn = h + n;
    }
    return blocks;
  }

  /** The first end bit at or after bit `bit` of word `w`, before word `end`: its global granule, or -1. */
  #endAfter(w: number, bit: number, end: number): number {
    let m = this.ends[w]! & -(1 << bit);
    while (m === 0) {
      if (++w >= end) return -1;
      m = this.ends[w]!;
    }
    return w * 32 + 31 - Math.clz32(m & -m);
  }
}

function requirePow2(value: unknown, name: string): number {
  if (typeof value !== "number" || !isPowerOfTwo(value)) throw new MmkitError(ErrorCode.InvalidArgument, `${name} must be a power of two, got ${describeValue(value)}`);
  if (value > 2 ** 30) throw new MmkitError(ErrorCode.OutOfRange, `${name} must be at most ${2 ** 30}, got ${value}`);
  return value;
}

function invariant(message: string): never {
  throw new MmkitError(ErrorCode.Invariant, `frag-cache: ${message}`);
}

import { ErrorCode, MetadataArena, requireArrayFactory, MmkitError, describeValue, isPowerOfTwo, type ArrayFactory } from "@mmkit/physmem";
import { BlockTable } from "./block-table.js";
import { FRAG_BLOCK_BYTES, FRAG_GRANULE, POISON_BYTE } from "./constants.js";
import type { FragmentBacking, PageSource } from "./page-source.js";
import { PageHeads } from "./page-heads.js";
import { FreedLog, scanBlockPoison, type PoisonReport } from "./poison.js";
import type { FragmentCacheStats } from "./stats.js";

/**
 * Options for {@link FragmentCache}.
 *
 * @example
 * ```ts
 * const machine = new PhysicalMemory({ ranges: [{ base: 0, size: 1 << 20 }], backing: "array" });
 * const cache = new FragmentCache(pages, { backing: machine, clearOnFree: true });   // pages: any PageSource
 * ```
 */
export interface FragmentCacheOptions {
  /** Bytes per page of the page source, a power of two (default 4096). */
  pageSize?: number;
  /**
   * Bytes per fragment block, a power of two (default {@link FRAG_BLOCK_BYTES}, 32 KiB). A block is
   * `max(blockBytes, pageSize)` bytes: order 3 with 4 KiB pages, order 0 with 64 KiB pages.
   */
  blockBytes?: number;
  /** The bytes behind the pages; needed for {@link FragmentCache.view} and the three options below. */
  backing?: FragmentBacking;
  /** Where the metadata arrays come from (default a private `MetadataArena`). */
  arena?: ArrayFactory;
  /** Zero every fragment before handing it out (the kernel's init_on_alloc). */
  zeroOnAlloc?: boolean;
  /** Zero every fragment when it is freed (init_on_free). */
  clearOnFree?: boolean;
  /**
   * Debug mode: fill blocks and freed fragments with {@link POISON_BYTE} and, when a block is
   * recycled or given back, report every byte that changed after its fragment was freed. Freed
   * fragments then hold the pattern rather than zeros, so no data leaks either way. Poison mode
   * also remembers freed fragments until their block goes, so a double free is `ERR_DOUBLE_FREE`
   * rather than `ERR_NOT_ALLOCATED`.
   */
  poison?: boolean;
  /** Receives poison reports (default: kept for {@link FragmentCache.takePoisonReports}). */
  onPoison?: (report: PoisonReport) => void;
}

/**
 * One block the cache holds, as {@link FragmentCache.blocks} lists it.
 *
 * @example
 * ```ts
 * const cache = new FragmentCache(buddy);   // buddy: a BuddyAllocator over 16 MiB
 * cache.alloc(1500);                         // 0
 * cache.blocks();   // [{ pfn: 0, order: 3, refcount: 32769, current: true, liveFragments: 1 }]
 * ```
 */
export interface FragmentBlockInfo {
  /** First page frame number. */
  pfn: number;
  /** 2^order pages. */
  order: number;
  /** The block's reference count: live fragments, plus the unused bias while it is the current block. */
  refcount: number;
  /** True for the block fragments are being carved from. */
  current: boolean;
  /** Fragments carved from it and not yet freed. */
  liveFragments: number;
}

/**
 * The current block's carving state, as {@link FragmentCache.currentBlock} returns it.
 *
 * @example
 * ```ts
 * cache.alloc(1500);       // 0 (a fresh cache)
 * cache.currentBlock();    // { pfn: 0, order: 3, refcount: 32769, current: true, liveFragments: 1,
 *                          //   size: 32768, offset: 1504, bias: 32768 }
 * ```
 */
export interface CurrentBlockInfo extends FragmentBlockInfo {
  /** Bytes in the block. */
  size: number;
  /** Next free byte offset: fragments are carved upwards from offset 0. */
  offset: number;
  /** The cache's local share of the reference count (the kernel's `pagecnt_bias`). */
  bias: number;
}

const MAX_BYTES = 2 ** 30;

/**
 * The network stack's page-fragment cache (Linux `page_frag_cache`): small buffers of any size
 * carved one after another from a 32 KiB block, with one reference count per block.
 *
 * **The bias trick.** Taking a block sets its reference count to `B = blockSize + 1` at once (the
 * source's reference plus a bias of `blockSize`) and sets the cache's local `bias` to `B`. Carving a
 * fragment only decrements the local `bias`; the block's count is not touched. Each fragment thereby
 * owns one reference. When a request no longer fits, the unused bias is given back in one
 * subtraction: if that brings the count to zero, every fragment was freed already and the block is
 * **recycled in place** (count and bias reset to `B`, offset 0, no page-source call); otherwise the
 * block is left to its last fragment, and the cache takes a new one. `free` drops one reference and
 * gives the block back to the page source at zero.
 *
 * **Direction and granule.** Fragments are carved upwards from offset 0, as since Linux 6.12 (older
 * kernels carved downwards from the end), each starting on a 16-byte boundary ({@link FRAG_GRANULE}):
 * a fragment's size is the request rounded up to 16 bytes, the rounding counted in
 * `bytesWastedRounding`. Alignment is of the fragment's byte address.
 *
 * **Fallback.** When the order-3 block cannot be had, a single page is taken instead (kernel: a
 * `__GFP_NORETRY` order-3 attempt, then order 0). A request bigger than a page that does not fit a
 * fallback page takes a full block first and keeps the page if that fails, rather than giving up
 * the page it has.
 *
 * **Finding the block from an address** is arithmetic, as `virt_to_head_page()` is: the address's
 * pfn indexes a sparse page-head table (one int32 per page, the block's slot, written once per page
 * when the block is taken; see `PageHeads`), and the slot's record holds the block's address and
 * count side by side. **Misuse detection stays exact** through a per-block bitmap with a start bit
 * and an end bit per 16-byte granule: an address is a live fragment's iff its start bit is set (all
 * `free` reads of the bitmaps), and its size, where one is needed, is the distance to the next end
 * bit. So a double free or a stray or interior address is a typed error with nothing changed, and
 * poison mode also remembers freed fragments per block, which makes a double free
 * `ERR_DOUBLE_FREE` (otherwise `ERR_NOT_ALLOCATED`).
 *
 * Cost: `alloc` O(1): validation, an align, a decrement, a start bit and an end bit in the current
 * block's bitmaps (two lines of metadata, both hot while the block is carved); every ~`blockSize /
 * size` allocations one subtraction and either a recycle or a page-source call. `free` O(1): a
 * directory and a page-head load, the block's record (address and count), one start-bitmap word, one
 * decrement (four lines, in tables of 4 + 16 + 256 bytes per block and 4 bytes per page held); the
 * last free of a retired block calls `freePages` once. `stats()` sums `liveBytes` from the bitmaps.
 * With `zeroOnAlloc`/`clearOnFree`, plus a fill of the fragment; in poison mode, plus a scan of the
 * block when it is recycled or returned.
 *
 * @example
 * ```ts
 * const cache = new FragmentCache(buddy);          // any { allocPages, freePages }
 * const a = cache.alloc(1500);                     // 8 pages taken, bias 32769; a 1504-byte fragment
 * const b = cache.alloc(64, 64);                   // a + 1536 (1504 rounded up to 64)
 * cache.free(a);
 * cache.free(b);
 * cache.drain();                                   // count reaches zero: the block goes back
 * ```
 */
export class FragmentCache {
  /** Bytes per page. */
  readonly pageSize: number;
  /** Order of a full block (3 with 4 KiB pages). */
  readonly blockOrder: number;
  /** Bytes in a full block (32 KiB unless pages are bigger). */
  readonly blockSize: number;
  /** What a fresh block's count and the cache's bias start at: `blockSize + 1`. */
  readonly biasStart: number;
  readonly #source: PageSource;
  readonly #backing: FragmentBacking | null;
  readonly #blocks: BlockTable;
  readonly #heads: PageHeads;
  readonly #invPage: number;
  /** `2^blockOrder - 1`: the page-index bits of a page-head entry. */
  readonly #indexMask: number;
  readonly #words: number;
  /** `#blocks` and `#heads` arrays and bounds, re-read after anything that can grow them (`#sync`). */
  #info!: Float64Array;
  #starts!: Int32Array;
  #ends!: Int32Array;
  #dir!: Int32Array;
  #pageHeads!: Int32Array;
  #first = 0;
  #span = 0;
  /** The current block's first bitmap word (slot x words). */
  #curWord = 0;
  readonly #zero: boolean;
  readonly #clear: boolean;
  readonly #poison: boolean;
  /** `clearOnFree || poison`: `free` fills the fragment. */
  readonly #scrub: boolean;
  readonly #onPoison: (report: PoisonReport) => void;
  readonly #poisonKept: PoisonReport[] = [];
  readonly #freedLog: FreedLog | null;
  #cur = -1;
  #curBase = 0;
  #curSize = 0;
  #curOffset = 0;
  #bias = 0;
  /** Fragments and bytes (padding and rounding included) carved in passes over blocks that ended. */
  #passFragments = 0;
  #passBytes = 0;
  /** Bytes asked for by successful `alloc` calls. */
  #requested = 0;
  #failures = 0;
  #taken = 0;
  #fallbacks = 0;
  #recycled = 0;
  #returned = 0;
  #alignWaste = 0;
  #tailWaste = 0;
  #poisonReports = 0;

  constructor(source: PageSource, options: FragmentCacheOptions = {}) {
    if (source === null || typeof source !== "object" || typeof source.allocPages !== "function" || typeof source.freePages !== "function") {
      throw new MmkitError(ErrorCode.InvalidArgument, `source must have allocPages(order) and freePages(pfn, order), got ${describeValue(source)}`);
    }
    if (options === null || typeof options !== "object") {
      throw new MmkitError(ErrorCode.InvalidArgument, `options must be an object, got ${describeValue(options)}`);
    }
    const pageSize = requirePow2(options.pageSize ?? 4096, "pageSize");
    if (pageSize < FRAG_GRANULE) throw new MmkitError(ErrorCode.OutOfRange, `pageSize must be at least ${FRAG_GRANULE} bytes, got ${pageSize}`);
    const blockBytes = requirePow2(options.blockBytes ?? FRAG_BLOCK_BYTES, "blockBytes");
    const backing = options.backing ?? null;
    if (backing !== null && typeof backing.bytes !== "function") {
      throw new MmkitError(ErrorCode.InvalidArgument, `backing must have bytes(address, length), got ${describeValue(backing)}`);
    }
    for (const name of ["zeroOnAlloc", "clearOnFree", "poison"] as const) {
      const value: unknown = options[name];
      if (value !== undefined && typeof value !== "boolean") {
        throw new MmkitError(ErrorCode.InvalidArgument, `${name} must be a boolean, got ${describeValue(value)}`);
      }
      if (value === true && backing === null) {
        throw new MmkitError(ErrorCode.InvalidArgument, `${name} needs backing bytes: pass options.backing (a PhysicalMemory, say)`);
      }
    }
    if (options.onPoison !== undefined && typeof options.onPoison !== "function") {
      throw new MmkitError(ErrorCode.InvalidArgument, `onPoison must be a function, got ${describeValue(options.onPoison)}`);
    }
    const arena = requireArrayFactory(options.arena ?? new MetadataArena());
    this.pageSize = pageSize;
    this.blockSize = Math.max(blockBytes, pageSize);
    this.blockOrder = Math.round(Math.log2(this.blockSize / pageSize));
    this.biasStart = this.blockSize + 1;
    this.#source = source;
    this.#backing = backing;
    this.#invPage = 1 / pageSize;
    this.#indexMask = (1 << this.blockOrder) - 1;
    this.#zero = options.zeroOnAlloc === true;
    this.#clear = options.clearOnFree === true;
    this.#poison = options.poison === true;
    this.#scrub = this.#clear || this.#poison;
    this.#freedLog = this.#poison ? new FreedLog() : null;
    this.#onPoison = options.onPoison ?? ((r) => void (this.#poisonKept.length < 10_000 && this.#poisonKept.push(r)));
    this.#blocks = new BlockTable(arena, this.blockSize);
    this.#words = this.#blocks.words;
    this.#heads = new PageHeads(arena, this.blockOrder);
    this.#sync();
  }

  /**
   * Allocates `size` bytes aligned to `align` and returns the byte address, or -1 when the page
   * source has no block (nor a single page, for sizes up to a page). The fragment is `size` rounded
   * up to {@link FRAG_GRANULE} (16) bytes, and every fragment is at least 16-byte aligned.
   *
   * Throws `ERR_INVALID_ARGUMENT` for a size that is not an integer or an align that is not a power
   * of two, `ERR_OUT_OF_RANGE` for a size below 1 or above the block size or an align above it.
   *
   * Cost: O(1); see the class comment.
   *
   * @example
   * ```ts
   * cache.alloc(576);       // 32768 with the first block at pfn 8
   * cache.alloc(64, 256);   // 33536: offset 576 rounded up to 768, 192 bytes counted as alignment waste
   * ```
   */
  alloc(size: number, align = 1): number {
    // `typeof` first: `|` on a BigInt throws a TypeError.
    if (typeof size !== "number" || (size | 0) !== size || size < 1 || size > this.blockSize || (align !== 1 && !this.#alignOk(align))) this.#rejectAlloc(size, align);
    if (align > FRAG_GRANULE) return this.#allocAligned(size, align);
    // With no current block #curSize is 0, so this fails and the slow path takes one.
    const offset = this.#curOffset;
    if (offset + size > this.#curSize) return this.#allocSlow(size, align);
    return this.#carve(offset, size);
  }

  /**
   * Frees the fragment at `address`: drops one reference from its block and, when that was the
   * last one (the block is no longer the current one), gives the block back to the page source.
   *
   * Throws `ERR_NOT_ALLOCATED` for an address that is not a live fragment's first byte (never handed
   * out, or freed already; in poison mode a second free is `ERR_DOUBLE_FREE`), `ERR_INVALID_ARGUMENT`
   * for a non-integer; nothing changes.
   *
   * Cost: O(1), no search: the page-head table gives the block and the offset in it, the block's
   * start bitmap says whether a live fragment starts there, one decrement (four metadata lines:
   * directory, page heads, block record, start bitmap); the last free of a retired block calls
   * `freePages` once.
   *
   * @example
   * ```ts
   * const a = cache.alloc(64);
   * cache.free(a);
   * cache.free(a);          // throws MmkitError ERR_NOT_ALLOCATED (ERR_DOUBLE_FREE in poison mode)
   * ```
   */
  free(address: number): void {
    // The page's head entry gives the block's slot and the page's index in it (see PageHeads: 1024
    // pages per chunk, hence 10 and 1023); one throw site keeps this small enough for V8 to inline
    // into a caller's loop.
    // A non-number (a BigInt would throw a TypeError in the arithmetic) looks up address -1: no page.
    const at = typeof address === "number" ? address : -1;
    const page = Math.floor(at * this.#invPage);
    const rel = page - this.#first;
    const chunk = rel >= 0 && rel < this.#span ? this.#dir[(rel >>> 10) << 1]! : -1;
    const v = chunk < 0 ? -1 : this.#pageHeads[chunk + (rel & 1023)]! - 1;
    const slot = v >>> this.blockOrder;
    const off = (v & this.#indexMask) * this.pageSize + (at - page * this.pageSize);
    const g = off >>> 4;
    const starts = this.#starts;
    const w = slot * this.#words + (g >>> 5);
    const word = v < 0 ? 0 : starts[w]!;
    const bit = 1 << (g & 31);
    if ((word & bit) === 0 || g << 4 !== off) this.#rejectFree(address);
    if (this.#scrub) this.#scrubFreed(slot, g, address);
    starts[w] = word ^ bit;
    const info = this.#info;
    const refs = info[2 * slot + 1]! - 1;
    info[2 * slot + 1] = refs;
    if (refs === 0) this.#returnBlock(slot);
  }

  /**
   * Lets go of the current block (the kernel's `page_frag_cache_drain`): gives back the unused bias
   * in one subtraction and returns the block to the page source if no fragment of it is live. The
   * next `alloc` takes a new block. Also gives back the page-head chunks no block uses any more.
   *
   * Cost: O(1) plus O(page-head directory), plus one `freePages` when the block goes back.
   *
   * @example
   * ```ts
   * cache.free(cache.alloc(64));
   * cache.drain();
   * cache.stats().blocksInUse;   // 0
   * ```
   */
  drain(): void {
    const slot = this.#cur;
    if (slot !== -1) this.#retire(slot);
    this.#heads.releaseEmpty();
    this.#sync();
  }

  /**
   * A view of the live fragment at `address` in the backing memory: its first `length` bytes, by
   * default all of it (its size, the request rounded up to 16 bytes).
   * Throws `ERR_NOT_ALLOCATED` unless `address` is a live fragment, `ERR_OUT_OF_RANGE` for a length
   * that is not an integer from 0 to the fragment's size, `ERR_INVALID_STATE` without backing.
   *
   * Cost: a lookup as in `free` (no change) and one `Uint8Array` view.
   *
   * @example
   * ```ts
   * const a = cache.alloc(4);
   * cache.view(a).length;           // 16
   * cache.view(a, 4).set([1, 2, 3, 4]);
   * ```
   */
  view(address: number, length?: number): Uint8Array {
    const size = this.sizeOf(address);
    if (length !== undefined && !(Number.isSafeInteger(length) && length >= 0 && length <= size)) {
      throw new MmkitError(ErrorCode.OutOfRange, `length must be an integer from 0 to the fragment's ${size} bytes, got ${describeValue(length)}`);
    }
    if (this.#backing === null) throw new MmkitError(ErrorCode.InvalidState, "this fragment cache has no backing bytes (pass options.backing)");
    return this.#backing.bytes(address, length ?? size);
  }

  /**
   * The size of the live fragment at `address`: the size asked for, rounded up to
   * {@link FRAG_GRANULE} (16) bytes. Throws `ERR_NOT_ALLOCATED` unless it is live.
   * Cost: a lookup as in `free`.
   *
   * @example
   * ```ts
   * cache.sizeOf(cache.alloc(1500));   // 1504
   * ```
   */
  sizeOf(address: number): number {
    const size = this.#locate(address);
    if (size === 0) this.#rejectFree(address);
    return size;
  }

  /**
   * True when `address` is the first byte of a live fragment. Cost: a lookup as in `free`.
   *
   * @example
   * ```ts
   * cache.isLive(cache.alloc(64));   // true
   * ```
   */
  isLive(address: number): boolean {
    return this.#locate(address) !== 0;
  }

  /**
   * The current block's carving state, or null when there is none (before the first alloc, after
   * `drain`, or after a failed refill). Cost: O(1).
   *
   * @example
   * ```ts
   * cache.alloc(100);
   * cache.currentBlock();   // { pfn, order: 3, size: 32768, offset: 112, bias: 32768, refcount: 32769, ... }
   * ```
   */
  currentBlock(): CurrentBlockInfo | null {
    const slot = this.#cur;
    if (slot === -1) return null;
    return { ...this.#blockInfo(slot), size: this.#curSize, offset: this.#curOffset, bias: this.#bias };
  }

  /**
   * Every block the cache holds, in slot order. Cost: O(slots).
   *
   * @example
   * ```ts
   * cache.blocks().map((b) => b.refcount);   // [3] : three live fragments of a retired block
   * ```
   */
  blocks(): FragmentBlockInfo[] {
    const out: FragmentBlockInfo[] = [];
    const blocks = this.#blocks;
    for (let s = 0; s < blocks.capacity; s++) if (blocks.info[2 * s]! >= 0) out.push(this.#blockInfo(s));
    return out;
  }

  /**
   * A snapshot of the counters. Cost: O(block slots + blocks in use x 256 bytes of bitmap + live
   * fragments): the hot paths keep no counters of their own, so `liveFragments` is summed from the
   * block counts, `liveBytes` from the bitmaps, `fragmentsAllocated` from the bias (fragments carved
   * per pass over a block) and `fragmentsFreed` is their difference.
   *
   * @example
   * ```ts
   * const { blocksRecycled, fragmentsAllocated } = cache.stats();
   * ```
   */
  stats(): FragmentCacheStats {
    const allocated = this.#allocated();
    const live = this.#liveFragments();
    return {
      fragmentsAllocated: allocated,
      fragmentsFreed: allocated - live,
      liveFragments: live,
      liveBytes: this.#liveBytes(),
      allocFailures: this.#failures,
      blocksTaken: this.#taken,
      fallbacks: this.#fallbacks,
      blocksRecycled: this.#recycled,
      blocksReturned: this.#returned,
      blocksInUse: this.#blocks.inUse,
      bytesWastedAlignment: this.#alignWaste,
      bytesWastedRounding: this.#passBytes + this.#curOffset - this.#requested - this.#alignWaste,
      bytesWastedTail: this.#tailWaste,
      poisonReports: this.#poisonReports,
    };
  }

  /**
   * Returns and forgets the poison reports kept so far (when no `onPoison` handler was given).
   *
   * @example
   * ```ts
   * for (const r of cache.takePoisonReports()) console.log(`write after free at ${r.address}`);
   * ```
   */
  takePoisonReports(): PoisonReport[] {
    return this.#poisonKept.splice(0);
  }

  /**
   * Validates every invariant and throws `MmkitError(ERR_INVARIANT)` on the first broken one:
   * every page of every block maps to its slot in the page-head table and no other page is mapped;
   * each block's bitmap pairs every start bit with an end bit, inside the block (below `offset` for
   * the current one), so fragments never overlap; each block's count is its live fragments plus the
   * bias if current; the current block has carved at least as many fragments (`biasStart - bias`)
   * as it has live; free slots have empty bitmaps; blocks do not overlap; no retired block without
   * live fragments is kept; slot list and counters agree.
   * Cost: O(slots x bitmap words + page-head chunks x 1024 + blocks log blocks).
   *
   * @example
   * ```ts
   * cache.check();   // throws on corruption, returns nothing
   * ```
   */
  check(): void {
    const blocks = this.#blocks;
    const info = blocks.info;
    const pagesBySlot = new Map<number, number>();
    const mapped = this.#heads.forEachMapped((pfn, slot, index) => {
      if (slot < 0 || slot >= blocks.capacity || info[2 * slot] === -1) invariant(`page ${pfn} maps to block slot ${slot}, which is not in use`);
      const first = info[2 * slot]! / this.pageSize;
      if (pfn < first || pfn >= first + 2 ** blocks.order[slot]!) invariant(`page ${pfn} maps to block slot ${slot} at pfn ${first}, which does not hold it`);
      if (index !== pfn - first) invariant(`page ${pfn} is page ${pfn - first} of its block, its head entry says ${index}`);
      pagesBySlot.set(slot, (pagesBySlot.get(slot) ?? 0) + 1);
    });
    let inUse = 0;
    let live = 0;
    let liveBytes = 0;
    let blockPages = 0;
    const extents: [number, number][] = [];
    for (let s = 0; s < blocks.capacity; s++) {
      const base = info[2 * s]!;
      if (base === -1) {
        for (let w = s * this.#words; w < (s + 1) * this.#words; w++) {
          if (blocks.starts[w] !== 0 || blocks.ends[w] !== 0) invariant(`free block slot ${s} has a non-empty bitmap`);
        }
        continue;
      }
      inUse++;
      const order = blocks.order[s]!;
      const pfn = base / this.pageSize;
      if (!Number.isSafeInteger(pfn) || pfn < 0) invariant(`block slot ${s} has address ${base}`);
      if (order !== this.blockOrder && order !== 0) invariant(`block at pfn ${pfn} has order ${order}`);
      const size = this.pageSize * 2 ** order;
      blockPages += 2 ** order;
      if (pagesBySlot.get(s) !== 2 ** order) invariant(`block at pfn ${pfn} has ${pagesBySlot.get(s) ?? 0} of its ${2 ** order} pages in the page-head table`);
      extents.push([base, base + size]);
      const current = s === this.#cur;
      const limit = current ? this.#curOffset : size;
      const list = this.#fragmentsOf(s, pfn);
      for (const [offset, n] of list) {
        if (offset + n > limit) invariant(`fragment at ${base + offset} (${n} bytes) is outside block ${pfn}'s carved range [${base}, ${base + limit})`);
        liveBytes += n;
      }
      live += list.length;
      const expected = list.length + (current ? this.#bias : 0);
      if (info[2 * s + 1] !== expected) invariant(`block at pfn ${pfn} has count ${info[2 * s + 1]}, expected ${list.length} live fragments${current ? ` + bias ${this.#bias}` : ""}`);
      if (current) {
        // Ends are cleared when a block is recycled, so the current pass has none past its offset.
        for (let g = this.#curOffset / FRAG_GRANULE; g < size / FRAG_GRANULE; g++) {
          if ((blocks.ends[s * this.#words + (g >>> 5)]! & (1 << (g & 31))) !== 0) invariant(`current block at pfn ${pfn} has an end bit at offset ${g * FRAG_GRANULE}, past its offset ${this.#curOffset}`);
        }
        if (this.#bias < 1 || this.#bias > this.biasStart) invariant(`bias ${this.#bias} outside [1, ${this.biasStart}]`);
        if (this.biasStart - this.#bias < list.length) invariant(`bias ${this.#bias} says ${this.biasStart - this.#bias} fragments carved, but ${list.length} are live`);
        if (this.#curBase !== base || this.#curSize !== size) invariant(`current block cache (${this.#curBase}, ${this.#curSize}) disagrees with slot (${base}, ${size})`);
        if (this.#curOffset < 0 || this.#curOffset > size || this.#curOffset % FRAG_GRANULE !== 0) invariant(`offset ${this.#curOffset} outside the block or off the ${FRAG_GRANULE}-byte granule`);
        if (this.#curOffset === 0 && this.#bias !== this.biasStart) invariant(`offset 0 but bias ${this.#bias}`);
      } else if (list.length === 0) {
        invariant(`retired block at pfn ${pfn} has no live fragment but was not given back`);
      }
    }
    if (mapped !== blockPages) invariant(`${mapped} pages in the page-head table, blocks hold ${blockPages}`);
    if (this.#cur !== -1 && info[2 * this.#cur] === -1) invariant(`current slot ${this.#cur} is free`);
    if (inUse !== blocks.inUse) invariant(`${inUse} blocks in use, counted ${blocks.inUse}`);
    if (blocks.countFree() !== blocks.capacity - inUse) invariant(`free slot list is broken`);
    if (live !== this.#liveFragments()) invariant(`${live} live fragments in the bitmaps, the counts say ${this.#liveFragments()}`);
    if (this.#allocated() - live < 0) invariant(`${this.#allocated()} fragments allocated, ${live} live`);
    if (liveBytes !== this.#liveBytes()) invariant(`${liveBytes} live bytes, summed ${this.#liveBytes()}`);
    if (this.#taken - this.#returned !== inUse) invariant(`${this.#taken} taken - ${this.#returned} returned != ${inUse} in use`);
    extents.sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < extents.length; i++) {
      if (extents[i]![0] < extents[i - 1]![1]) invariant(`blocks at ${extents[i - 1]![0]} and ${extents[i]![0]} overlap`);
    }
  }

  /**
   * The live fragments of slot `s` as (offset, size) pairs in offset order, from its bitmaps; throws
   * when a start has no end bit in the block or a fragment reaches past the next one's start.
   */
  #fragmentsOf(s: number, pfn: number): [number, number][] {
    const starts = this.#blocks.starts;
    const w0 = s * this.#words;
    const out: [number, number][] = [];
    let above = 0;
    for (let w = 0; w < this.#words; w++) {
      let m = starts[w0 + w]!;
      while (m !== 0) {
        const low = m & -m;
        m ^= low;
        const g = (w << 5) + 31 - Math.clz32(low);
        if (g < above) invariant(`block at pfn ${pfn}: a fragment starts at offset ${g * FRAG_GRANULE}, inside the one before`);
        const size = this.#sizeAt(s, g);
        if (size === 0) invariant(`block at pfn ${pfn}: the fragment at offset ${g * FRAG_GRANULE} has no end bit`);
        out.push([g * FRAG_GRANULE, size]);
        above = g + size / FRAG_GRANULE;
      }
    }
    return out;
  }

  /** Bytes in live fragments, summed from the bitmaps of the blocks in use. */
  #liveBytes(): number {
    const blocks = this.#blocks;
    let total = 0;
    for (let s = 0; s < blocks.capacity; s++) {
      if (blocks.info[2 * s] === -1) continue;
      const w0 = s * this.#words;
      for (let w = 0; w < this.#words; w++) {
        let m = blocks.starts[w0 + w]!;
        while (m !== 0) {
          const low = m & -m;
          m ^= low;
          total += this.#sizeAt(s, (w << 5) + 31 - Math.clz32(low));
        }
      }
    }
    return total;
  }

  /**
   * The size of the fragment starting at granule `g` of slot `s`: up to the first end bit at or
   * after `g` (0 when there is none in the block).
   */
  #sizeAt(s: number, g: number): number {
    const ends = this.#ends;
    const w0 = s * this.#words;
    let w = w0 + (g >>> 5);
    let m = ends[w]! & -(1 << (g & 31));
    while (m === 0) {
      if (++w === w0 + this.#words) return 0;
      m = ends[w]!;
    }
    return (((w - w0) << 5) + 32 - Math.clz32(m & -m) - g) << 4;
  }

  /** The size of the live fragment at `address`, or 0 (the lookup of `free`, changing nothing). */
  #locate(address: number): number {
    if (typeof address !== "number") return 0;
    const page = Math.floor(address * this.#invPage);
    const slot = this.#heads.lookup(page);
    if (slot < 0) return 0;
    const first = this.#info[2 * slot]! / this.pageSize;
    const off = (page - first) * this.pageSize + (address - page * this.pageSize);
    const g = off >>> 4;
    if (g << 4 !== off) return 0;
    if ((this.#starts[slot * this.#words + (g >>> 5)]! & (1 << (g & 31))) === 0) return 0;
    return this.#sizeAt(slot, g);
  }

  /** `clearOnFree` and poison mode: fills the fragment being freed (and logs it, poisoning). */
  #scrubFreed(slot: number, g: number, address: number): void {
    const size = this.#sizeAt(slot, g);
    if (this.#poison) {
      this.#backing!.bytes(address, size).fill(POISON_BYTE);
      this.#freedLog!.add(slot, address, size);
    } else this.#backing!.bytes(address, size).fill(0);
  }

  /** Re-reads the block table's and page-head table's arrays after they may have grown or shrunk. */
  #sync(): void {
    const blocks = this.#blocks;
    const heads = this.#heads;
    this.#info = blocks.info;
    this.#starts = blocks.starts;
    this.#ends = blocks.ends;
    this.#dir = heads.dir;
    this.#pageHeads = heads.heads;
    this.#first = heads.first;
    this.#span = heads.span;
  }

  #alignOk(align: number): boolean {
    return typeof align === "number" && (align | 0) === align && align > 0 && (align & (align - 1)) === 0 && align <= this.blockSize;
  }

  #alignUp(offset: number, align: number): number {
    if (align <= this.pageSize) return (offset + align - 1) & -align;
    const rem = (this.#curBase + offset) % align;
    return rem === 0 ? offset : offset + (align - rem);
  }

  /** Carves `size` bytes at `offset` of the current block (16-byte aligned, known to fit). */
  #carve(offset: number, size: number): number {
    const rounded = (size + FRAG_GRANULE - 1) & -FRAG_GRANULE;
    this.#curOffset = offset + rounded;
    this.#bias--;
    this.#requested += size;
    const w0 = this.#curWord;
    const g = offset >>> 4;
    const e = g + (rounded >>> 4) - 1;
    this.#starts[w0 + (g >>> 5)] |= 1 << (g & 31);
    this.#ends[w0 + (e >>> 5)] |= 1 << (e & 31);
    const address = this.#curBase + offset;
    if (this.#zero) this.#backing!.bytes(address, rounded).fill(0);
    return address;
  }

  /** `alloc` with an alignment above the 16-byte granule: pads, and counts the padding. */
  #allocAligned(size: number, align: number): number {
    const from = this.#curOffset;
    const offset = this.#alignUp(from, align);
    if (offset + size > this.#curSize) return this.#allocSlow(size, align);
    this.#alignWaste += offset - from;
    return this.#carve(offset, size);
  }

  /** Fragments carved from the blocks so far (passes that ended plus the current one). */
  #allocated(): number {
    return this.#passFragments + (this.#cur === -1 ? 0 : this.biasStart - this.#bias);
  }

  /** Live fragments: each block's count, less the bias of the current one. O(slots). */
  #liveFragments(): number {
    const info = this.#info;
    let live = 0;
    for (let s = 0; s < this.#blocks.capacity; s++) if (info[2 * s] !== -1) live += info[2 * s + 1]!;
    return live - (this.#cur === -1 ? 0 : this.#bias);
  }

  /** Ends the current pass over the current block (before it is recycled or retired): counts what it carved. */
  #endPass(): void {
    this.#passFragments += this.biasStart - this.#bias;
    this.#passBytes += this.#curOffset;
  }

  #allocSlow(size: number, align: number): number {
    this.#blocks.reserve(this.blockOrder);
    this.#sync();
    const slot = this.#cur;
    if (slot !== -1) {
      if (size > this.#curSize) {
        // A fallback page too small for this request: get a full block first, so that failing
        // leaves the page in place for smaller requests.
        const pfn = this.#source.allocPages(this.blockOrder);
        if (!(pfn >= 0)) {
          this.#failures++;
          return -1;
        }
        this.#prepareHeads(pfn, this.blockOrder);
        this.#tailWaste += this.#curSize - this.#curOffset;
        this.#retire(slot);
        return this.#install(pfn, this.blockOrder, size, align);
      }
      if (this.#blocks.info[2 * slot + 1]! === this.#bias) {
        this.#tailWaste += this.#curSize - this.#curOffset;
        this.#recycle(slot);
        return this.#carveFresh(size, align);
      }
    }
    let order = this.blockOrder;
    let pfn = this.#source.allocPages(order);
    if (!(pfn >= 0) && order > 0 && size <= this.pageSize) {
      order = 0;
      pfn = this.#source.allocPages(0);
    }
    if (pfn >= 0) this.#prepareHeads(pfn, order); // may throw: the pages go back, nothing changed
    // The used-up block is left to its live fragments (whether or not a new block was had).
    if (slot !== -1) {
      this.#endPass();
      this.#tailWaste += this.#curSize - this.#curOffset;
      this.#blocks.info[2 * slot + 1] = this.#blocks.info[2 * slot + 1]! - this.#bias;
      this.#bias = 0;
      this.#cur = -1;
      this.#curSize = 0;
      this.#curOffset = 0;
    }
    if (!(pfn >= 0)) {
      this.#failures++;
      return -1;
    }
    if (order !== this.blockOrder) this.#fallbacks++;
    return this.#install(pfn, order, size, align);
  }

  /** Makes the page-head table ready for a block just had; on a refusal gives the pages back and rethrows. */
  #prepareHeads(pfn: number, order: number): void {
    try {
      const heads = this.#heads;
      if (heads.covers(pfn, 1 << order)) return;
      heads.prepare(pfn, 1 << order);
      this.#sync();
    } catch (error) {
      this.#source.freePages(pfn, order);
      throw error;
    }
  }

  #install(pfn: number, order: number, size: number, align: number): number {
    const base = pfn * this.pageSize;
    const slot = this.#blocks.take(base, order);
    this.#heads.map(pfn, 1 << order, slot);
    this.#taken++;
    // The page source's one reference plus a bias of blockSize, added in one step.
    this.#blocks.info[2 * slot + 1] = this.biasStart;
    this.#bias = this.biasStart;
    this.#cur = slot;
    this.#curWord = slot * this.#words;
    this.#curBase = base;
    this.#curSize = order === this.blockOrder ? this.blockSize : this.pageSize;
    this.#curOffset = 0;
    if (this.#poison) this.#backing!.bytes(base, this.#curSize).fill(POISON_BYTE);
    return this.#carveFresh(size, align);
  }

  #carveFresh(size: number, align: number): number {
    const offset = align <= FRAG_GRANULE ? 0 : this.#alignUp(0, align);
    if (offset + size > this.#curSize) {
      // Only when the source's block is not aligned to `align` and the padding does not fit.
      this.#failures++;
      return -1;
    }
    this.#alignWaste += offset;
    return this.#carve(offset, size);
  }

  /** Gives back the unused bias; the block goes back to the source if nothing else holds it. */
  #retire(slot: number): void {
    this.#endPass();
    this.#cur = -1;
    this.#curSize = 0;
    this.#curOffset = 0;
    const left = this.#blocks.info[2 * slot + 1]! - this.#bias;
    this.#bias = 0;
    this.#blocks.info[2 * slot + 1] = left;
    if (left === 0) this.#returnBlock(slot);
  }

  #recycle(slot: number): void {
    this.#endPass();
    if (this.#poison) this.#scanPoison(slot, "recycle");
    this.#blocks.clearEnds(slot);
    this.#blocks.info[2 * slot + 1] = this.biasStart;
    this.#bias = this.biasStart;
    this.#curOffset = 0;
    this.#recycled++;
    if (this.#poison) this.#backing!.bytes(this.#curBase, this.#curSize).fill(POISON_BYTE);
  }

  #returnBlock(slot: number): void {
    const blocks = this.#blocks;
    if (this.#poison) this.#scanPoison(slot, "return");
    const pfn = blocks.info[2 * slot]! / this.pageSize;
    const order = blocks.order[slot]!;
    this.#heads.unmap(pfn, 1 << order);
    blocks.release(slot);
    this.#returned++;
    this.#source.freePages(pfn, order);
  }

  #scanPoison(slot: number, when: "recycle" | "return"): void {
    const blocks = this.#blocks;
    const base = blocks.info[2 * slot]!;
    const size = this.pageSize * 2 ** blocks.order[slot]!;
    const view = this.#backing!.bytes(base, size);
    const log = this.#freedLog!;
    const freed = log.sorted(slot);
    log.clear(slot);
    this.#poisonReports += scanBlockPoison(view, base, base / this.pageSize, freed, when, this.#onPoison);
  }

  #blockInfo(slot: number): FragmentBlockInfo {
    const blocks = this.#blocks;
    const current = slot === this.#cur;
    const refcount = blocks.info[2 * slot + 1]!;
    return { pfn: blocks.info[2 * slot]! / this.pageSize, order: blocks.order[slot]!, refcount, current, liveFragments: current ? refcount - this.#bias : refcount };
  }

  #rejectAlloc(size: unknown, align: unknown): never {
    if (typeof size !== "number" || !Number.isSafeInteger(size)) {
      throw new MmkitError(ErrorCode.InvalidArgument, `size must be an integer number of bytes, got ${describeValue(size)}`);
    }
    if (size < 1) throw new MmkitError(ErrorCode.OutOfRange, `size must be at least 1 byte, got ${size}`);
    if (size > this.blockSize) throw new MmkitError(ErrorCode.OutOfRange, `size ${size} cannot fit a ${this.blockSize}-byte block`);
    if (typeof align !== "number" || !isPowerOfTwo(align)) {
      throw new MmkitError(ErrorCode.InvalidArgument, `align must be a power of two, got ${describeValue(align)}`);
    }
    throw new MmkitError(ErrorCode.OutOfRange, `align ${align} is larger than a ${this.blockSize}-byte block`);
  }

  #rejectFree(address: unknown): never {
    if (typeof address !== "number" || !Number.isSafeInteger(address)) {
      throw new MmkitError(ErrorCode.InvalidArgument, `address must be an integer byte address, got ${describeValue(address)}`);
    }
    if (this.#freedLog !== null) {
      const blocks = this.#blocks;
      for (let s = 0; s < blocks.capacity; s++) {
        const size = blocks.info[2 * s] === -1 ? 0 : this.#freedLog.sizeOf(s, address);
        if (size > 0) throw new MmkitError(ErrorCode.DoubleFree, `double free: the fragment at address ${address} (${size} bytes) was freed already`);
      }
    }
    throw new MmkitError(ErrorCode.NotAllocated, `address ${address} is not a live fragment's address (never handed out by this cache, or freed already)`);
  }
}

function requirePow2(value: unknown, name: string): number {
  if (typeof value !== "number" || !isPowerOfTwo(value)) {
    throw new MmkitError(ErrorCode.InvalidArgument, `${name} must be a power of two, got ${describeValue(value)}`);
  }
  if (value > MAX_BYTES) throw new MmkitError(ErrorCode.OutOfRange, `${name} must be at most ${MAX_BYTES}, got ${value}`);
  return value;
}

function invariant(message: string): never {
  throw new MmkitError(ErrorCode.Invariant, `frag-cache: ${message}`);
}

import { ErrorCode, MetadataArena, MmkitError, describeValue, isPowerOfTwo, type ArrayFactory } from "@mmkit/physmem";
import { BlockTable } from "./block-table.js";
import { FRAG_BLOCK_BYTES, POISON_BYTE } from "./constants.js";
import { FragmentTable } from "./fragment-table.js";
import type { FragmentBacking, PageSource } from "./page-source.js";
import { FreedLog, scanBlockPoison, type PoisonReport } from "./poison.js";
import type { FragmentCacheStats } from "./stats.js";

/** Options for {@link FragmentCache}. */
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

/** One block the cache holds, as {@link FragmentCache.blocks} lists it. */
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

/** The current block's carving state, as {@link FragmentCache.currentBlock} returns it. */
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
 * **Direction.** Fragments are carved upwards from offset 0, as since Linux 6.12 (older kernels
 * carved downwards from the end). Alignment is of the fragment's byte address.
 *
 * **Fallback.** When the order-3 block cannot be had, a single page is taken instead (kernel: a
 * `__GFP_NORETRY` order-3 attempt, then order 0). A request bigger than a page that does not fit a
 * fallback page takes a full block first and keeps the page if that fails, rather than giving up
 * the page it has.
 *
 * **Finding the block from an address.** Every live fragment has an entry (address, size, block
 * slot) in an open-addressing table keyed by address (see `FragmentTable`); one probe, nearly always
 * one cache line, says whether the address is a live fragment (so a stray address is a typed error,
 * which the kernel cannot tell) and which block it belongs to. No per-page metadata at all: 32 to 64
 * bytes per live fragment plus 20 per block, whatever the size of the page source. A freed
 * fragment's entry goes at once; poison mode keeps a log of freed fragments per block, which makes
 * a double free `ERR_DOUBLE_FREE` (otherwise `ERR_NOT_ALLOCATED`, "never handed out or freed already").
 *
 * Cost: `alloc` O(1) expected: validation, an align, a decrement and one table insert (one line
 * of metadata); every ~`blockSize / size` allocations one subtraction and either a recycle or a
 * page-source call. `free` O(1) expected: one table probe and removal and one decrement (two lines);
 * the last free of a retired block calls `freePages` once. With `zeroOnAlloc`/`clearOnFree`, plus a
 * fill of the fragment; in poison mode, plus a scan of the block when it is recycled or returned.
 *
 * @example
 * ```ts
 * const cache = new FragmentCache(buddy);          // any { allocPages, freePages }
 * const a = cache.alloc(1500);                     // 8 pages taken, bias 32769
 * const b = cache.alloc(64, 64);                   // a + 1536 (1500 rounded up to 64)
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
  readonly #frags: FragmentTable;
  readonly #zero: boolean;
  readonly #clear: boolean;
  readonly #poison: boolean;
  readonly #onPoison: (report: PoisonReport) => void;
  readonly #poisonKept: PoisonReport[] = [];
  readonly #freedLog: FreedLog | null;
  #cur = -1;
  #curBase = 0;
  #curSize = 0;
  #curOffset = 0;
  #bias = 0;
  #allocated = 0;
  #freed = 0;
  #liveBytes = 0;
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
    const pageSize = requirePow2(options.pageSize ?? 4096, "pageSize");
    const blockBytes = requirePow2(options.blockBytes ?? FRAG_BLOCK_BYTES, "blockBytes");
    const backing = options.backing ?? null;
    if (backing !== null && typeof backing.bytes !== "function") {
      throw new MmkitError(ErrorCode.InvalidArgument, `backing must have bytes(address, length), got ${describeValue(backing)}`);
    }
    for (const name of ["zeroOnAlloc", "clearOnFree", "poison"] as const) {
      if (options[name] === true && backing === null) {
        throw new MmkitError(ErrorCode.InvalidArgument, `${name} needs backing bytes: pass options.backing (a PhysicalMemory, say)`);
      }
    }
    const arena = options.arena ?? new MetadataArena();
    this.pageSize = pageSize;
    this.blockSize = Math.max(blockBytes, pageSize);
    this.blockOrder = Math.round(Math.log2(this.blockSize / pageSize));
    this.biasStart = this.blockSize + 1;
    this.#source = source;
    this.#backing = backing;
    this.#zero = options.zeroOnAlloc === true;
    this.#clear = options.clearOnFree === true;
    this.#poison = options.poison === true;
    this.#freedLog = this.#poison ? new FreedLog() : null;
    this.#onPoison = options.onPoison ?? ((r) => void (this.#poisonKept.length < 10_000 && this.#poisonKept.push(r)));
    this.#blocks = new BlockTable(arena);
    this.#frags = new FragmentTable(arena);
  }

  /**
   * Allocates `size` bytes aligned to `align` and returns the byte address, or -1 when the page
   * source has no block (nor a single page, for sizes up to a page).
   *
   * Throws `ERR_INVALID_ARGUMENT` for a size that is not an integer or an align that is not a power
   * of two, `ERR_OUT_OF_RANGE` for a size below 1 or above the block size or an align above it.
   *
   * Cost: O(1) expected; see the class comment.
   *
   * @example
   * ```ts
   * cache.alloc(576);       // 32768 with the first block at pfn 8
   * cache.alloc(64, 256);   // 33536: offset 576 rounded up to 768, 192 bytes counted as alignment waste
   * ```
   */
  alloc(size: number, align = 1): number {
    if ((size | 0) !== size || size < 1 || size > this.blockSize || (align !== 1 && !this.#alignOk(align))) this.#rejectAlloc(size, align);
    this.#frags.reserve();
    const slot = this.#cur;
    if (slot !== -1) {
      const from = this.#curOffset;
      const offset = align === 1 ? from : this.#alignUp(from, align);
      if (offset + size <= this.#curSize) return this.#carve(slot, from, offset, size);
    }
    return this.#allocSlow(size, align);
  }

  /**
   * Frees the fragment at `address`: drops one reference from its block and, when that was the
   * last one (the block is no longer the current one), gives the block back to the page source.
   *
   * Throws `ERR_NOT_ALLOCATED` for an address that is not a live fragment's first byte (never handed
   * out, or freed already; in poison mode a second free is `ERR_DOUBLE_FREE`), `ERR_INVALID_ARGUMENT`
   * for a non-integer; nothing changes.
   *
   * Cost: O(1) expected (one table probe and removal, one decrement); the last free of a retired
   * block calls `freePages` once.
   *
   * @example
   * ```ts
   * const a = cache.alloc(64);
   * cache.free(a);
   * cache.free(a);          // throws MmkitError ERR_NOT_ALLOCATED (ERR_DOUBLE_FREE in poison mode)
   * ```
   */
  free(address: number): void {
    const frags = this.#frags;
    const e = frags.find(address);
    if (e === -1) this.#rejectFree(address);
    const size = frags.sizeAt(e);
    const slot = frags.slotAt(e);
    if (this.#poison) {
      this.#backing!.bytes(address, size).fill(POISON_BYTE);
      this.#freedLog!.add(slot, address, size);
    } else if (this.#clear) this.#backing!.bytes(address, size).fill(0);
    frags.remove(e);
    this.#freed++;
    this.#liveBytes -= size;
    const blocks = this.#blocks;
    const refs = blocks.refs[slot]! - 1;
    blocks.refs[slot] = refs;
    if (refs === 0) this.#returnBlock(slot);
  }

  /**
   * Lets go of the current block (the kernel's `page_frag_cache_drain`): gives back the unused bias
   * in one subtraction and returns the block to the page source if no fragment of it is live. The
   * next `alloc` takes a new block. Does nothing when there is no current block.
   *
   * Cost: O(1), plus one `freePages` when the block goes back.
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
    if (slot === -1) return;
    this.#retire(slot);
  }

  /**
   * A view of the live fragment at `address` (exactly its bytes) in the backing memory.
   * Throws `ERR_NOT_ALLOCATED` unless `address` is a live fragment, `ERR_INVALID_STATE` without backing.
   *
   * Cost: one table probe and one `Uint8Array` view.
   *
   * @example
   * ```ts
   * const a = cache.alloc(4);
   * cache.view(a).set([1, 2, 3, 4]);
   * ```
   */
  view(address: number): Uint8Array {
    const size = this.sizeOf(address);
    if (this.#backing === null) throw new MmkitError(ErrorCode.InvalidState, "this fragment cache has no backing bytes (pass options.backing)");
    return this.#backing.bytes(address, size);
  }

  /**
   * The size of the live fragment at `address`. Throws `ERR_NOT_ALLOCATED` unless it is live.
   * Cost: one table probe.
   *
   * @example
   * ```ts
   * cache.sizeOf(cache.alloc(1500));   // 1500
   * ```
   */
  sizeOf(address: number): number {
    const e = this.#frags.find(address);
    if (e === -1) this.#rejectFree(address);
    return this.#frags.sizeAt(e);
  }

  /**
   * True when `address` is the first byte of a live fragment. Cost: one table probe.
   *
   * @example
   * ```ts
   * cache.isLive(cache.alloc(64));   // true
   * ```
   */
  isLive(address: number): boolean {
    return this.#frags.find(address) !== -1;
  }

  /**
   * The current block's carving state, or null when there is none (before the first alloc, after
   * `drain`, or after a failed refill). Cost: O(1).
   *
   * @example
   * ```ts
   * cache.alloc(100);
   * cache.currentBlock();   // { pfn, order: 3, size: 32768, offset: 100, bias: 32768, refcount: 32769, ... }
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
    for (let s = 0; s < blocks.capacity; s++) if (blocks.pfn[s]! >= 0) out.push(this.#blockInfo(s));
    return out;
  }

  /**
   * A snapshot of the counters. Cost: O(1).
   *
   * @example
   * ```ts
   * const { blocksRecycled, fragmentsAllocated } = cache.stats();
   * ```
   */
  stats(): FragmentCacheStats {
    return {
      fragmentsAllocated: this.#allocated,
      fragmentsFreed: this.#freed,
      liveFragments: this.#allocated - this.#freed,
      liveBytes: this.#liveBytes,
      allocFailures: this.#failures,
      blocksTaken: this.#taken,
      fallbacks: this.#fallbacks,
      blocksRecycled: this.#recycled,
      blocksReturned: this.#returned,
      blocksInUse: this.#blocks.inUse,
      bytesWastedAlignment: this.#alignWaste,
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
   * each block's count is its live fragments plus the bias if current; the current block has carved
   * at least as many fragments (`biasStart - bias`) as it has live, all below `offset`; fragments lie
   * inside their block and never overlap; blocks do not overlap; no retired block without live
   * fragments is kept; the address table, slot list and counters all agree.
   * Cost: O(slots + table + fragments log fragments).
   *
   * @example
   * ```ts
   * cache.check();   // throws on corruption, returns nothing
   * ```
   */
  check(): void {
    const blocks = this.#blocks;
    const frags = this.#frags;
    const live = frags.check();
    // Live fragments per block slot, from the table.
    const bySlot = new Map<number, [number, number][]>();
    let liveBytes = 0;
    frags.forEach((address, size, slot) => {
      if (slot < 0 || slot >= blocks.capacity || blocks.pfn[slot] === -1) invariant(`fragment at ${address} names block slot ${slot}, which is not in use`);
      let list = bySlot.get(slot);
      if (list === undefined) bySlot.set(slot, (list = []));
      list.push([address, size]);
      liveBytes += size;
    });
    let inUse = 0;
    const extents: [number, number][] = [];
    for (let s = 0; s < blocks.capacity; s++) {
      const pfn = blocks.pfn[s]!;
      if (pfn === -1) continue;
      inUse++;
      const order = blocks.order[s]!;
      if (!Number.isSafeInteger(pfn) || pfn < 0) invariant(`block slot ${s} has pfn ${pfn}`);
      if (order !== this.blockOrder && order !== 0) invariant(`block at pfn ${pfn} has order ${order}`);
      const base = pfn * this.pageSize;
      const size = this.pageSize * 2 ** order;
      extents.push([base, base + size]);
      const current = s === this.#cur;
      const limit = current ? base + this.#curOffset : base + size;
      const list = (bySlot.get(s) ?? []).sort((x, y) => x[0] - y[0]);
      let above = base;
      for (const [a, n] of list) {
        if (a < above || a + n > limit) invariant(`fragment at ${a} (${n} bytes) is outside block ${pfn}'s carved range [${base}, ${limit}) or overlaps the one before`);
        above = a + n;
      }
      const expected = list.length + (current ? this.#bias : 0);
      if (blocks.refs[s] !== expected) invariant(`block at pfn ${pfn} has count ${blocks.refs[s]}, expected ${list.length} live fragments${current ? ` + bias ${this.#bias}` : ""}`);
      if (current) {
        if (this.#bias < 1 || this.#bias > this.biasStart) invariant(`bias ${this.#bias} outside [1, ${this.biasStart}]`);
        if (this.biasStart - this.#bias < list.length) invariant(`bias ${this.#bias} says ${this.biasStart - this.#bias} fragments carved, but ${list.length} are live`);
        if (this.#curBase !== base || this.#curSize !== size) invariant(`current block cache (${this.#curBase}, ${this.#curSize}) disagrees with slot (${base}, ${size})`);
        if (this.#curOffset < 0 || this.#curOffset > size) invariant(`offset ${this.#curOffset} outside the block`);
        if (this.#curOffset === 0 && this.#bias !== this.biasStart) invariant(`offset 0 but bias ${this.#bias}`);
      } else if (list.length === 0) {
        invariant(`retired block at pfn ${pfn} has no live fragment but was not given back`);
      }
    }
    if (this.#cur !== -1 && blocks.pfn[this.#cur] === -1) invariant(`current slot ${this.#cur} is free`);
    if (inUse !== blocks.inUse) invariant(`${inUse} blocks in use, counted ${blocks.inUse}`);
    if (blocks.countFree() !== blocks.capacity - inUse) invariant(`free slot list is broken`);
    if (live !== this.#allocated - this.#freed) invariant(`${live} live fragments, counters say ${this.#allocated - this.#freed}`);
    if (liveBytes !== this.#liveBytes) invariant(`${liveBytes} live bytes, counted ${this.#liveBytes}`);
    if (this.#taken - this.#returned !== inUse) invariant(`${this.#taken} taken - ${this.#returned} returned != ${inUse} in use`);
    extents.sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < extents.length; i++) {
      if (extents[i]![0] < extents[i - 1]![1]) invariant(`blocks at ${extents[i - 1]![0]} and ${extents[i]![0]} overlap`);
    }
  }

  #alignOk(align: number): boolean {
    return (align | 0) === align && align > 0 && (align & (align - 1)) === 0 && align <= this.blockSize;
  }

  #alignUp(offset: number, align: number): number {
    if (align <= this.pageSize) return (offset + align - 1) & -align;
    const rem = (this.#curBase + offset) % align;
    return rem === 0 ? offset : offset + (align - rem);
  }

  #carve(slot: number, from: number, offset: number, size: number): number {
    this.#alignWaste += offset - from;
    this.#curOffset = offset + size;
    this.#bias--;
    const address = this.#curBase + offset;
    this.#frags.insert(address, size, slot);
    this.#allocated++;
    this.#liveBytes += size;
    if (this.#zero) this.#backing!.bytes(address, size).fill(0);
    return address;
  }

  #allocSlow(size: number, align: number): number {
    this.#blocks.reserve();
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
        this.#tailWaste += this.#curSize - this.#curOffset;
        this.#retire(slot);
        return this.#install(pfn, this.blockOrder, size, align);
      }
      this.#tailWaste += this.#curSize - this.#curOffset;
      const left = this.#blocks.refs[slot]! - this.#bias;
      if (left === 0) {
        this.#recycle(slot);
        return this.#carveFresh(slot, size, align);
      }
      this.#blocks.refs[slot] = left;
      this.#cur = -1;
    }
    let order = this.blockOrder;
    let pfn = this.#source.allocPages(order);
    if (!(pfn >= 0) && order > 0 && size <= this.pageSize) {
      order = 0;
      pfn = this.#source.allocPages(0);
      if (pfn >= 0) this.#fallbacks++;
    }
    if (!(pfn >= 0)) {
      this.#failures++;
      return -1;
    }
    return this.#install(pfn, order, size, align);
  }

  #install(pfn: number, order: number, size: number, align: number): number {
    const slot = this.#blocks.take(pfn, order);
    this.#taken++;
    // The page source's one reference plus a bias of blockSize, added in one step.
    this.#blocks.refs[slot] = this.biasStart;
    this.#bias = this.biasStart;
    this.#cur = slot;
    this.#curBase = pfn * this.pageSize;
    this.#curSize = order === this.blockOrder ? this.blockSize : this.pageSize;
    this.#curOffset = 0;
    if (this.#poison) this.#backing!.bytes(this.#curBase, this.#curSize).fill(POISON_BYTE);
    return this.#carveFresh(slot, size, align);
  }

  #carveFresh(slot: number, size: number, align: number): number {
    const offset = align === 1 ? 0 : this.#alignUp(0, align);
    if (offset + size > this.#curSize) {
      // Only when the source's block is not aligned to `align` and the padding does not fit.
      this.#failures++;
      return -1;
    }
    return this.#carve(slot, 0, offset, size);
  }

  /** Gives back the unused bias; the block goes back to the source if nothing else holds it. */
  #retire(slot: number): void {
    this.#cur = -1;
    const left = this.#blocks.refs[slot]! - this.#bias;
    this.#bias = 0;
    this.#blocks.refs[slot] = left;
    if (left === 0) this.#returnBlock(slot);
  }

  #recycle(slot: number): void {
    const blocks = this.#blocks;
    if (this.#poison) this.#scanPoison(slot, "recycle");
    blocks.refs[slot] = this.biasStart;
    this.#bias = this.biasStart;
    this.#curOffset = 0;
    this.#recycled++;
    if (this.#poison) this.#backing!.bytes(this.#curBase, this.#curSize).fill(POISON_BYTE);
  }

  #returnBlock(slot: number): void {
    const blocks = this.#blocks;
    if (this.#poison) this.#scanPoison(slot, "return");
    const pfn = blocks.pfn[slot]!;
    const order = blocks.order[slot]!;
    blocks.release(slot);
    this.#returned++;
    this.#source.freePages(pfn, order);
  }

  #scanPoison(slot: number, when: "recycle" | "return"): void {
    const blocks = this.#blocks;
    const pfn = blocks.pfn[slot]!;
    const base = pfn * this.pageSize;
    const size = this.pageSize * 2 ** blocks.order[slot]!;
    const view = this.#backing!.bytes(base, size);
    const log = this.#freedLog!;
    const freed = log.sorted(slot);
    log.clear(slot);
    this.#poisonReports += scanBlockPoison(view, base, pfn, freed, when, this.#onPoison);
  }

  #blockInfo(slot: number): FragmentBlockInfo {
    const blocks = this.#blocks;
    const current = slot === this.#cur;
    const refcount = blocks.refs[slot]!;
    return { pfn: blocks.pfn[slot]!, order: blocks.order[slot]!, refcount, current, liveFragments: current ? refcount - this.#bias : refcount };
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
        const size = blocks.pfn[s] === -1 ? 0 : this.#freedLog.sizeOf(s, address);
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

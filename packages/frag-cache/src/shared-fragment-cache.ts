import { ErrorCode, MmkitError, describeValue, isPowerOfTwo } from "@mmkit/physmem";
import { FRAG_GRANULE, POISON_BYTE } from "./constants.js";
import type { FragmentBacking, PageSource } from "./page-source.js";
import { scanBlockPoison, type PoisonReport } from "./poison.js";
import type { SharedFragmentTable } from "./shared-fragment-table.js";

/**
 * Options for {@link SharedFragmentCache}: the modes of `FragmentCacheOptions` (page and block
 * sizes come from the table). The first cache on a table fixes the zero/clear/poison modes; a cache
 * asking for others is refused (`ERR_INVALID_ARGUMENT`), since a fragment's free runs in whichever
 * worker frees it.
 *
 * @example
 * ```ts
 * const cache = new SharedFragmentCache(table, cpu, { backing, clearOnFree: true });
 * ```
 */
export interface SharedFragmentCacheOptions {
  /** The bytes behind the pages, the same memory in every worker; needed by the three modes below. */
  backing?: FragmentBacking;
  /** Zero every fragment before handing it out. */
  zeroOnAlloc?: boolean;
  /** Zero every fragment when it is freed, by whichever worker frees it. */
  clearOnFree?: boolean;
  /**
   * Fill blocks and freed fragments with {@link POISON_BYTE} and, when a block is recycled or given
   * back, report every byte that is not the pattern (reports name no fragment: `fragment: -1`).
   */
  poison?: boolean;
  /** Receives poison reports (default: kept for {@link SharedFragmentCache.takePoisonReports}). */
  onPoison?: (report: PoisonReport) => void;
}

/**
 * What one {@link SharedFragmentCache} did, as {@link SharedFragmentCache.stats} returns it.
 *
 * @example
 * ```ts
 * const { fragmentsAllocated, blocksRecycled } = cache.stats();
 * ```
 */
export interface SharedFragmentCacheStats {
  /** Fragments this cache carved. */
  fragmentsAllocated: number;
  /** Fragments this cache freed (carved by any cache). */
  fragmentsFreed: number;
  /** `alloc` calls that returned -1. */
  allocFailures: number;
  /** Blocks this cache took from its page source. */
  blocksTaken: number;
  /** Of those, single pages taken because a full block could not be had. */
  fallbacks: number;
  /** Times this cache's current block was recycled in place. */
  blocksRecycled: number;
  /** Blocks this cache gave back to its page source (it dropped their last reference). */
  blocksReturned: number;
  /** Bytes of padding before aligned fragments. */
  bytesWastedAlignment: number;
  /** Poison reports this cache made. */
  poisonReports: number;
}

/**
 * The page-fragment cache of one worker, over a {@link SharedFragmentTable} every worker shares:
 * fragments allocated here may be freed by any worker attached to the same table (the network
 * stack's receive path: allocated on one CPU, freed where the packet is consumed, as the kernel's
 * `page_frag_test` does).
 *
 * Carving is the single-threaded {@link FragmentCache}'s, with the same addresses: the bias
 * (`pagecnt_bias`) and the offset are this cache's alone and touched by no other worker. What a
 * free needs is shared: the page's head, the block's count and the fragment's start bit. `free`
 * clears the start bit with `Atomics.and` (so of two racing frees of one fragment exactly one
 * succeeds, the other is `ERR_NOT_ALLOCATED`), scrubs the fragment in clear/poison mode, then drops
 * one reference with `Atomics.sub`; the worker that takes the count to zero gives the block back to
 * its own page source, so exactly once. When a block is used up, its owner drops the unused bias in
 * one `Atomics.sub`: if that reaches zero every fragment was freed, by whichever workers, and the
 * block is recycled in place; otherwise the last free, wherever it happens, returns it.
 * `FragmentCache` stays free of Atomics; this class is the one to use across workers.
 *
 * Bad input is a typed error with nothing changed, as in `FragmentCache`; a double free is
 * `ERR_NOT_ALLOCATED` in every mode (there is no cross-worker freed log).
 *
 * Cost: `alloc` O(1) with two atomic ORs (start and end bit); `free` O(1): a head load, an atomic AND,
 * an atomic subtract; the last free of a block calls `freePages` once.
 *
 * @example
 * ```ts
 * const table = SharedFragmentTable.create({ pages: 4096 });
 * const producer = new SharedFragmentCache(table, buddyCpu0);
 * const a = producer.alloc(1500);
 * // in another worker, attached to the same table:
 * consumer.free(a);   // drops the block's shared count by one
 * ```
 */
export class SharedFragmentCache {
  /** The shared state this cache carves from and frees into. */
  readonly table: SharedFragmentTable;
  /** Bytes per page. */
  readonly pageSize: number;
  /** Bytes in a full block. */
  readonly blockSize: number;
  /** Order of a full block. */
  readonly blockOrder: number;
  /** What a fresh block's count and the bias start at: `blockSize + 1`. */
  readonly biasStart: number;
  readonly #source: PageSource;
  readonly #backing: FragmentBacking | null;
  readonly #heads: Int32Array;
  readonly #refs: Int32Array;
  readonly #order: Int8Array;
  readonly #starts: Int32Array;
  readonly #ends: Int32Array;
  readonly #zero: boolean;
  readonly #clear: boolean;
  readonly #poison: boolean;
  readonly #onPoison: (report: PoisonReport) => void;
  readonly #poisonKept: PoisonReport[] = [];
  /** Head pfn of the current block, or -1. */
  #cur = -1;
  #curBase = 0;
  #curSize = 0;
  #curOffset = 0;
  #bias = 0;
  #allocated = 0;
  #freed = 0;
  #failures = 0;
  #taken = 0;
  #fallbacks = 0;
  #recycled = 0;
  #returned = 0;
  #alignWaste = 0;
  #poisonReports = 0;

  constructor(table: SharedFragmentTable, source: PageSource, options: SharedFragmentCacheOptions = {}) {
    if (table === null || typeof table !== "object" || !(table.refs instanceof Int32Array) || !(table.modes instanceof Int32Array)) {
      throw new MmkitError(ErrorCode.InvalidArgument, `table must be a SharedFragmentTable, got ${describeValue(table)}`);
    }
    if (source === null || typeof source !== "object" || typeof source.allocPages !== "function" || typeof source.freePages !== "function") {
      throw new MmkitError(ErrorCode.InvalidArgument, `source must have allocPages(order) and freePages(pfn, order), got ${describeValue(source)}`);
    }
    if (options === null || typeof options !== "object") throw new MmkitError(ErrorCode.InvalidArgument, `options must be an object, got ${describeValue(options)}`);
    const backing = options.backing ?? null;
    if (backing !== null && typeof backing.bytes !== "function") throw new MmkitError(ErrorCode.InvalidArgument, `backing must have bytes(address, length), got ${describeValue(backing)}`);
    for (const name of ["zeroOnAlloc", "clearOnFree", "poison"] as const) {
      const value: unknown = options[name];
      if (value !== undefined && typeof value !== "boolean") throw new MmkitError(ErrorCode.InvalidArgument, `${name} must be a boolean, got ${describeValue(value)}`);
      if (value === true && backing === null) throw new MmkitError(ErrorCode.InvalidArgument, `${name} needs backing bytes: pass options.backing`);
    }
    if (options.onPoison !== undefined && typeof options.onPoison !== "function") throw new MmkitError(ErrorCode.InvalidArgument, `onPoison must be a function, got ${describeValue(options.onPoison)}`);
    // Every cache on a table uses the same modes: the freeing worker scrubs for the allocating one.
    const modes = 8 | (options.zeroOnAlloc === true ? 1 : 0) | (options.clearOnFree === true ? 2 : 0) | (options.poison === true ? 4 : 0);
    const had = Atomics.compareExchange(table.modes, 0, 0, modes);
    if (had !== 0 && had !== modes) {
      const names = (m: number): string => ["zeroOnAlloc", "clearOnFree", "poison"].filter((_, i) => (m >> i) & 1).join(", ") || "none";
      throw new MmkitError(ErrorCode.InvalidArgument, `every cache on a shared table must use the same modes: the table has ${names(had)}, these options ask for ${names(modes)}`);
    }
    this.table = table;
    this.pageSize = table.pageSize;
    this.blockSize = table.blockSize;
    this.blockOrder = table.blockOrder;
    this.biasStart = this.blockSize + 1;
    this.#source = source;
    this.#backing = backing;
    this.#heads = table.heads;
    this.#refs = table.refs;
    this.#order = table.order;
    this.#starts = table.starts;
    this.#ends = table.ends;
    this.#zero = options.zeroOnAlloc === true;
    this.#clear = options.clearOnFree === true;
    this.#poison = options.poison === true;
    this.#onPoison = options.onPoison ?? ((r) => void (this.#poisonKept.length < 10_000 && this.#poisonKept.push(r)));
  }

  /**
   * Allocates `size` bytes aligned to `align` from this worker's current block, as
   * `FragmentCache.alloc` does (same addresses for the same calls on the same page source); -1
   * when the page source has nothing. Throws `ERR_INVALID_ARGUMENT` / `ERR_OUT_OF_RANGE` for a bad
   * size or align. Cost: O(1).
   *
   * @example
   * ```ts
   * const a = cache.alloc(1500);       // 0 on a fresh source: block at pfn 0, bias 32768 left
   * const b = cache.alloc(64, 64);     // 1536
   * ```
   */
  alloc(size: number, align = 1): number {
    if (typeof size !== "number" || (size | 0) !== size || size < 1 || size > this.blockSize || (align !== 1 && !this.#alignOk(align))) rejectAlloc(size, align, this.blockSize);
    let offset = this.#curOffset;
    if (align > FRAG_GRANULE) offset = this.#alignUp(offset, align);
    if (offset + size > this.#curSize) return this.#allocSlow(size, align);
    this.#alignWaste += offset - this.#curOffset;
    return this.#carve(offset, size);
  }

  /**
   * Frees the fragment at `address`, carved by this or any other cache on the same table: clears
   * its start bit atomically, scrubs it (clear/poison modes), drops one reference; whoever drops
   * the last gives the block back to its page source. Throws `ERR_NOT_ALLOCATED` for an address
   * that is not a live fragment's first byte (nothing changes), `ERR_INVALID_ARGUMENT` for a
   * non-integer. Cost: O(1), two atomic read-modify-writes.
   *
   * @example
   * ```ts
   * consumer.free(a);   // a came from producer.alloc in another worker
   * ```
   */
  free(address: number): void {
    if (typeof address !== "number" || !Number.isSafeInteger(address) || address < 0 || address % FRAG_GRANULE !== 0) this.#rejectFree(address);
    const page = Math.floor(address / this.pageSize);
    const head = page < this.table.pages ? Atomics.load(this.#heads, page) - 1 : -1;
    if (head < 0) this.#rejectFree(address);
    const g = address / FRAG_GRANULE;
    const w = Math.floor(g / 32);
    const bit = 1 << (g & 31);
    if ((Atomics.and(this.#starts, w, ~bit) & bit) === 0) this.#rejectFree(address);
    // We own this fragment now: scrub before the count drops, so no one can reuse the bytes first.
    if (this.#clear || this.#poison) {
      const size = this.#sizeAt(g, head);
      this.#backing!.bytes(address, size).fill(this.#poison ? POISON_BYTE : 0);
    }
    this.#freed++;
    if (Atomics.sub(this.#refs, head, 1) === 1) this.#returnBlock(head);
  }

  /**
   * Lets go of the current block: drops the unused bias, giving the block back at once when no
   * fragment of it is live (otherwise its last free does). Cost: O(1).
   *
   * @example
   * ```ts
   * cache.free(cache.alloc(64));
   * cache.drain();    // the block goes back to the page source
   * ```
   */
  drain(): void {
    if (this.#cur !== -1) this.#retire();
  }

  /**
   * The current block: head pfn, order, this cache's bias and carving offset; null with none. O(1).
   *
   * @example
   * ```ts
   * cache.alloc(1500);
   * cache.currentBlock();   // { pfn: 0, order: 3, bias: 32768, offset: 1504, size: 32768 }
   * ```
   */
  currentBlock(): { pfn: number; order: number; bias: number; offset: number; size: number } | null {
    if (this.#cur === -1) return null;
    return { pfn: this.#cur, order: this.#order[this.#cur]!, bias: this.#bias, offset: this.#curOffset, size: this.#curSize };
  }

  /**
   * This cache's counters. O(1).
   *
   * @example
   * ```ts
   * cache.stats().blocksRecycled;   // 0
   * ```
   */
  stats(): SharedFragmentCacheStats {
    return {
      fragmentsAllocated: this.#allocated,
      fragmentsFreed: this.#freed,
      allocFailures: this.#failures,
      blocksTaken: this.#taken,
      fallbacks: this.#fallbacks,
      blocksRecycled: this.#recycled,
      blocksReturned: this.#returned,
      bytesWastedAlignment: this.#alignWaste,
      poisonReports: this.#poisonReports,
    };
  }

  /**
   * Poison reports kept since the last call (when no `onPoison` was given), oldest first. O(reports).
   *
   * @example
   * ```ts
   * cache.takePoisonReports();   // [] unless a freed fragment was written
   * ```
   */
  takePoisonReports(): PoisonReport[] {
    return this.#poisonKept.splice(0);
  }

  /**
   * Checks this cache's own state and, through `SharedFragmentTable.check`, the shared state with
   * this cache's bias on its current block; exact only while no other cache holds a current block
   * and no worker runs (pass every cache's current block to the table's `check` otherwise). Throws
   * `ERR_INVARIANT`. O(pages + bitmap words).
   *
   * @example
   * ```ts
   * cache.check();
   * ```
   */
  check(): void {
    if (this.#cur !== -1) {
      if (this.#heads[this.#cur] !== this.#cur + 1) invariant(`current block at pfn ${this.#cur} is not held`);
      if (this.#bias < 1 || this.#bias > this.biasStart) invariant(`bias ${this.#bias} outside [1, ${this.biasStart}]`);
      if (this.#curBase !== this.#cur * this.pageSize || this.#curSize !== this.pageSize << this.#order[this.#cur]!) invariant(`current block cache disagrees with the table`);
      if (this.#curOffset < 0 || this.#curOffset > this.#curSize || this.#curOffset % FRAG_GRANULE !== 0) invariant(`offset ${this.#curOffset} outside the block or off the granule`);
    } else if (this.#bias !== 0 || this.#curSize !== 0) invariant(`no current block but bias ${this.#bias}, size ${this.#curSize}`);
    this.table.check(this.#cur === -1 ? new Map() : new Map([[this.#cur, this.#bias]]));
  }

  #alignOk(align: number): boolean {
    return typeof align === "number" && (align | 0) === align && align > 0 && (align & (align - 1)) === 0 && align <= this.blockSize;
  }

  #alignUp(offset: number, align: number): number {
    if (align <= this.pageSize) return (offset + align - 1) & -align;
    const rem = (this.#curBase + offset) % align;
    return rem === 0 ? offset : offset + (align - rem);
  }

  #carve(offset: number, size: number): number {
    const rounded = (size + FRAG_GRANULE - 1) & -FRAG_GRANULE;
    this.#curOffset = offset + rounded;
    this.#bias--;
    this.#allocated++;
    const address = this.#curBase + offset;
    const g = address / FRAG_GRANULE;
    const e = g + rounded / FRAG_GRANULE - 1;
    // Atomic ORs: a free in another worker may be clearing another bit of the same word.
    Atomics.or(this.#ends, Math.floor(e / 32), 1 << (e & 31));
    if (this.#zero) this.#backing!.bytes(address, rounded).fill(0);
    Atomics.or(this.#starts, Math.floor(g / 32), 1 << (g & 31));
    return address;
  }

  #allocSlow(size: number, align: number): number {
    const cur = this.#cur;
    if (cur !== -1) {
      if (size > this.#curSize) {
        // A fallback page too small for this request: get a full block first, so that failing
        // leaves the page in place for smaller requests.
        const pfn = this.#take(this.blockOrder);
        if (pfn < 0) {
          this.#failures++;
          return -1;
        }
        this.#retire();
        return this.#install(pfn, this.blockOrder, size, align);
      }
      // Give back the unused bias in one step; zero means every fragment was freed (anywhere).
      const bias = this.#bias;
      this.#bias = 0;
      if (Atomics.sub(this.#refs, cur, bias) === bias) {
        this.#recycle(cur);
        return this.#carveFresh(size, align);
      }
      this.#cur = -1;
      this.#curSize = 0;
      this.#curOffset = 0;
    }
    let order = this.blockOrder;
    let pfn = this.#take(order);
    if (pfn < 0 && order > 0 && size <= this.pageSize) {
      order = 0;
      pfn = this.#take(0);
    }
    if (pfn < 0) {
      this.#failures++;
      return -1;
    }
    if (order !== this.blockOrder) this.#fallbacks++;
    return this.#install(pfn, order, size, align);
  }

  /** `allocPages(order)`, refusing (pages given back, `ERR_OUT_OF_RANGE`) a block past the table's end. */
  #take(order: number): number {
    const pfn = this.#source.allocPages(order);
    if (!(pfn >= 0)) return -1;
    if (pfn + (1 << order) > this.table.pages) {
      this.#source.freePages(pfn, order);
      throw new MmkitError(ErrorCode.OutOfRange, `the page source gave pfn ${pfn} (order ${order}), past the shared table's ${this.table.pages} pages`);
    }
    return pfn;
  }

  #install(pfn: number, order: number, size: number, align: number): number {
    const n = 1 << order;
    this.#order[pfn] = order;
    Atomics.store(this.#refs, pfn, this.biasStart);
    for (let i = 0; i < n; i++) Atomics.store(this.#heads, pfn + i, pfn + 1);
    this.#taken++;
    this.#bias = this.biasStart;
    this.#cur = pfn;
    this.#curBase = pfn * this.pageSize;
    this.#curSize = this.pageSize * n;
    this.#curOffset = 0;
    if (this.#poison) this.#backing!.bytes(this.#curBase, this.#curSize).fill(POISON_BYTE);
    return this.#carveFresh(size, align);
  }

  #carveFresh(size: number, align: number): number {
    const offset = align <= FRAG_GRANULE ? 0 : this.#alignUp(0, align);
    if (offset + size > this.#curSize) {
      this.#failures++;
      return -1;
    }
    this.#alignWaste += offset;
    return this.#carve(offset, size);
  }

  /** Drops the unused bias of the current block; gives it back if nothing else holds it. */
  #retire(): void {
    const cur = this.#cur;
    const bias = this.#bias;
    this.#cur = -1;
    this.#bias = 0;
    this.#curSize = 0;
    this.#curOffset = 0;
    if (Atomics.sub(this.#refs, cur, bias) === bias) this.#returnBlock(cur);
  }

  /** Every fragment of the current block was freed (count 0): carve it again from offset 0. */
  #recycle(head: number): void {
    if (this.#poison) this.#scanPoison(head, "recycle");
    this.#clearEnds(head);
    Atomics.store(this.#refs, head, this.biasStart);
    this.#bias = this.biasStart;
    this.#curOffset = 0;
    this.#recycled++;
    if (this.#poison) this.#backing!.bytes(this.#curBase, this.#curSize).fill(POISON_BYTE);
  }

  /** This worker dropped the block's last reference: unmap it and give it to this worker's page source. */
  #returnBlock(head: number): void {
    if (this.#poison) this.#scanPoison(head, "return");
    const order = this.#order[head]!;
    this.#clearEnds(head);
    for (let i = (1 << order) - 1; i >= 0; i--) Atomics.store(this.#heads, head + i, 0);
    this.#order[head] = 0;
    this.#returned++;
    this.#source.freePages(head, order);
  }

  #clearEnds(head: number): void {
    // A block's bitmap words are its own: blocks are whole pages, a page whole words.
    const per = this.pageSize / (32 * FRAG_GRANULE);
    this.#ends.fill(0, head * per, (head + (1 << this.#order[head]!)) * per);
  }

  /** Bytes of the fragment starting at global granule `g` in the block at `head`: up to its end bit. */
  #sizeAt(g: number, head: number): number {
    const per = this.pageSize / (32 * FRAG_GRANULE);
    const end = (head + (1 << this.#order[head]!)) * per;
    let w = Math.floor(g / 32);
    let m = Atomics.load(this.#ends, w) & -(1 << (g & 31));
    while (m === 0 && ++w < end) m = Atomics.load(this.#ends, w);
    return (w * 32 + 32 - Math.clz32(m & -m) - g) * FRAG_GRANULE;
  }

  #scanPoison(head: number, when: "recycle" | "return"): void {
    const base = head * this.pageSize;
    const view = this.#backing!.bytes(base, this.pageSize << this.#order[head]!);
    this.#poisonReports += scanBlockPoison(view, base, head, [], when, this.#onPoison);
  }

  #rejectFree(address: unknown): never {
    if (typeof address !== "number" || !Number.isSafeInteger(address)) throw new MmkitError(ErrorCode.InvalidArgument, `address must be an integer byte address, got ${describeValue(address)}`);
    throw new MmkitError(ErrorCode.NotAllocated, `address ${address} is not a live fragment's address (never handed out, or freed already)`);
  }
}

function rejectAlloc(size: unknown, align: unknown, blockSize: number): never {
  if (typeof size !== "number" || !Number.isSafeInteger(size)) throw new MmkitError(ErrorCode.InvalidArgument, `size must be an integer number of bytes, got ${describeValue(size)}`);
  if (size < 1) throw new MmkitError(ErrorCode.OutOfRange, `size must be at least 1 byte, got ${size}`);
  if (size > blockSize) throw new MmkitError(ErrorCode.OutOfRange, `size ${size} cannot fit a ${blockSize}-byte block`);
  if (typeof align !== "number" || !isPowerOfTwo(align)) throw new MmkitError(ErrorCode.InvalidArgument, `align must be a power of two, got ${describeValue(align)}`);
  throw new MmkitError(ErrorCode.OutOfRange, `align ${align} is larger than a ${blockSize}-byte block`);
}

function invariant(message: string): never {
  throw new MmkitError(ErrorCode.Invariant, `frag-cache: ${message}`);
}

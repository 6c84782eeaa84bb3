import { ErrorCode, MetadataArena, MmkitError, describeValue, isPowerOfTwo, requireInteger, requirePowerOfTwo, type ArrayFactory } from "@mmkit/physmem";
import { AddressMap } from "./address-map.js";
import type { SlabCache } from "./cache.js";
import type { RangeSource } from "./interfaces.js";
import type { SlabAllocator } from "./slab-allocator.js";
import { sizeClasses } from "./size-classes.js";

/**
 * Options for {@link Kmalloc}.
 *
 * @example
 * ```ts
 * new Kmalloc(slab, { classes: "fine", large: { allocRange: (n, a) => potad.alloc(space, n, { alignment: a }), freeRange: (x) => void potad.free(x) } });
 * ```
 */
export interface KmallocOptions {
  /** Size classes: the kernel's (`"kmalloc"`, default) or four per power of two (`"fine"`). */
  classes?: "kmalloc" | "fine";
  /** Largest request served by a size class (default two pages, SLUB's KMALLOC_MAX_CACHE_SIZE). */
  maxCacheSize?: number;
  /**
   * Where larger requests go: a contiguous range rounded up to whole pages, page aligned (POTAD's
   * contiguous allocation fits). Without it they take 2^order pages from the slab allocator's
   * page source, as the kernel's `kmalloc_large` does.
   */
  large?: RangeSource;
  /**
   * What large requests to `large` are rounded up to and aligned to at least (a power of two, 8 to
   * the page size; default the page size, as the kernel's whole pages). A byte-granular range
   * allocator takes a smaller one, so a 9000-byte request holds 9008 bytes, not 10240.
   */
  largeUnit?: number;
  /** Options every class cache gets (`minPartial`, `cpuPartial`, `debug`). */
  cacheOptions?: { minPartial?: number; cpuPartial?: number; debug?: string };
  /** Arena for the table of large allocations (default: the slab allocator's). */
  arena?: ArrayFactory;
}

/**
 * Sizes of what {@link Kmalloc} holds.
 *
 * @example
 * ```ts
 * const { slabBytes, largeBytes } = km.stats();
 * ```
 */
export interface KmallocStats {
  /** Bytes in slabs of the size classes (free slots included). */
  slabBytes: number;
  /** Bytes of large allocations (whole pages, or multiples of `largeUnit`). */
  largeBytes: number;
  /** Large allocations live. */
  largeAllocations: number;
}

/**
 * `kmalloc` / `kfree` / `ksize` over a {@link SlabAllocator}: a request is rounded up to a size
 * class and served by that class's cache; one larger than `maxCacheSize` goes to the large
 * source (whole pages). Alignment: a class serves an alignment its slot size is a multiple of
 * (objects start at page-aligned slabs), so `align` picks the first class that is; past the
 * classes, large allocations are aligned to `max(align, largeUnit)` (default: the page size).
 *
 * Cost: one table lookup for the class, then {@link SlabCache.alloc} / `free`; a large
 * allocation costs what the large source costs plus one hash insert.
 *
 * @example
 * ```ts
 * const km = new Kmalloc(slab, { classes: "fine" });
 * const p = km.alloc(100);     // from the 112-byte class
 * km.usableSize(p);            // 112
 * km.free(p);
 * ```
 */
export class Kmalloc {
  /** The slab allocator the size classes' caches live in. */
  readonly slab: SlabAllocator;
  /** The size classes in bytes, smallest first (the kernel's, or four per power of two). */
  readonly classes: readonly number[];
  /** One cache per size class, in the order of `classes`. */
  readonly caches: readonly SlabCache[];
  /** The largest size served from a cache; larger requests go to the page or range source. */
  readonly maxCacheSize: number;
  #large: RangeSource | null;
  /** Large allocation address -> bytes (from the range source) or -(order + 2) (from pages); -1 is "none". */
  #largeMap: AddressMap;
  /** (size + 7) >> 3 -> class index. */
  #index: Uint8Array;
  #largeBytes = 0;
  #largeUnit: number;

  constructor(slab: SlabAllocator, options: KmallocOptions = {}) {
    if (slab === null || typeof slab !== "object" || typeof (slab as { createCache?: unknown }).createCache !== "function") {
      throw new MmkitError(ErrorCode.InvalidArgument, `slab must be a SlabAllocator, got ${describeValue(slab)}`);
    }
    if (options === null || typeof options !== "object" || Array.isArray(options)) {
      throw new MmkitError(ErrorCode.InvalidArgument, `kmalloc options must be an object, got ${describeValue(options)}`);
    }
    this.slab = slab;
    const limit = slab.pageSize * 2 ** slab.maxOrder;
    this.maxCacheSize = requireInteger(options.maxCacheSize === undefined ? Math.min(2 * slab.pageSize, limit) : options.maxCacheSize, "maxCacheSize", 8, limit);
    const large = options.large === undefined ? null : options.large;
    if (large !== null && (typeof large !== "object" || typeof large.allocRange !== "function" || typeof large.freeRange !== "function")) {
      throw new MmkitError(ErrorCode.InvalidArgument, `large must be a RangeSource (allocRange, freeRange), got ${describeValue(large)}`);
    }
    this.#large = large;
    this.#largeUnit = requirePowerOfTwo(options.largeUnit === undefined ? slab.pageSize : options.largeUnit, "largeUnit", 8, slab.pageSize);
    const cacheOptions = options.cacheOptions === undefined ? {} : options.cacheOptions;
    if (cacheOptions === null || typeof cacheOptions !== "object") throw new MmkitError(ErrorCode.InvalidArgument, `cacheOptions must be an object, got ${describeValue(cacheOptions)}`);
    const classes = sizeClasses(options.classes === undefined ? "kmalloc" : options.classes, this.maxCacheSize);
    if (classes[classes.length - 1] !== this.maxCacheSize) classes.push(this.maxCacheSize);
    this.classes = classes;
    this.caches = classes.map((size) => slab.createCache(`kmalloc-${size}`, size, { ...cacheOptions, align: alignOf(size, slab.pageSize) }));
    this.#index = new Uint8Array((this.maxCacheSize >> 3) + 1);
    let c = 0;
    for (let i = 0; i < this.#index.length; i++) {
      while (classes[c]! < i * 8) c++;
      this.#index[i] = c;
    }
    this.#largeMap = new AddressMap(options.arena ?? slab.arena ?? new MetadataArena(), "kmalloc large");
  }

  /**
   * Allocates `size` bytes (1 to 2^52) aligned to `align` (a power of two, default 8): the
   * address, or -1 when there is no memory for it.
   */
  alloc(size: number, align = 8, cpu = 0): number {
    if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 1) {
      throw new MmkitError(ErrorCode.InvalidArgument, `size must be a positive integer, got ${describeValue(size)}`);
    }
    if (align !== 8 && (typeof align !== "number" || !isPowerOfTwo(align))) {
      throw new MmkitError(ErrorCode.InvalidArgument, `align must be a power of two, got ${describeValue(align)}`);
    }
    if (size <= this.maxCacheSize) {
      let c = this.#index[(size + 7) >> 3]!;
      if (align > 8) {
        while (c < this.caches.length && this.caches[c]!.stride % align !== 0) c++;
        if (c === this.caches.length || align > this.slab.pageSize) return this.#allocLarge(size, align);
      }
      return this.caches[c]!.alloc(cpu);
    }
    return this.#allocLarge(size, align);
  }

  #allocLarge(size: number, align: number): number {
    const page = this.slab.pageSize;
    if (this.#large !== null) {
      const unit = this.#largeUnit;
      const bytes = Math.ceil(size / unit) * unit;
      const address = this.#large.allocRange(bytes, Math.max(align, unit));
      if (address < 0) return -1;
      this.#largeMap.set(address, bytes);
      this.#largeBytes += bytes;
      return address;
    }
    const order = Math.ceil(Math.log2(Math.ceil(size / page)));
    if (order > 52 || 2 ** order * page < align) return -1;
    const pfn = this.slab.pages.allocPages(order);
    if (pfn < 0) return -1;
    const address = pfn * page;
    this.#largeMap.set(address, -(order + 2));
    this.#largeBytes += page * 2 ** order;
    return address;
  }

  /**
   * Frees what {@link alloc} returned. `ERR_NOT_ALLOCATED` for an address never handed out (or
   * inside an allocation), `ERR_DOUBLE_FREE` for a slab object already free; nothing changes when
   * it throws.
   */
  free(address: number, cpu = 0): void {
    requireInteger(address, "address");
    const s = this.slab.slabAt(address);
    if (s >= 0) {
      const cache = this.slab.cacheOfSlab(s);
      if (cache.internal) throw new MmkitError(ErrorCode.NotAllocated, `address ${address} is in a slab descriptor, never handed out`);
      cache.freeInSlab(s, address, cpu);
      return;
    }
    const v = this.#largeMap.get(address);
    if (v === -1) throw new MmkitError(ErrorCode.NotAllocated, `address ${address} was never handed out by kmalloc (or was freed)`);
    this.#largeMap.delete(address);
    if (v > 0) {
      this.#large!.freeRange(address);
      this.#largeBytes -= v;
    } else {
      const order = -v - 2;
      this.slab.pages.freePages(address / this.slab.pageSize, order);
      this.#largeBytes -= this.slab.pageSize * 2 ** order;
    }
  }

  /** `ksize`: bytes usable at `address` (its class size, or the whole pages of a large allocation). */
  usableSize(address: number): number {
    requireInteger(address, "address");
    const cache = this.slab.cacheOf(address);
    if (cache !== null) {
      if (!this.slab.isAllocatedObject(address)) throw new MmkitError(ErrorCode.NotAllocated, `address ${address} is not an allocated object`);
      return cache.objectSize;
    }
    const v = this.#largeMap.get(address);
    if (v === -1) throw new MmkitError(ErrorCode.NotAllocated, `address ${address} was never handed out by kmalloc (or was freed)`);
    return v > 0 ? v : this.slab.pageSize * 2 ** (-v - 2);
  }

  /** What it holds: slab bytes of its classes, and large bytes. */
  stats(): KmallocStats {
    let slabBytes = 0;
    for (const c of this.caches) slabBytes += c.slabPages() * this.slab.pageSize;
    return { slabBytes, largeBytes: this.#largeBytes, largeAllocations: this.#largeMap.size };
  }
}

/** Natural alignment for power-of-two classes (as kmalloc promises), else the largest power of two dividing the size, at least 8. */
function alignOf(size: number, pageSize: number): number {
  let a = 8;
  while (size % (a * 2) === 0 && a * 2 <= pageSize) a *= 2;
  return a;
}

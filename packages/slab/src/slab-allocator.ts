import { ErrorCode, MetadataArena, MmkitError, describeValue, requireArrayFactory, requireInteger, requirePowerOfTwo, type ArrayFactory } from "@mmkit/physmem";
import { SlabCache, type SlabCacheOptions } from "./cache.js";
import { checkSlabAllocator } from "./check.js";
import type { PageSource, SlabMemory, SlabShrinker } from "./interfaces.js";
import { RED_ACTIVE, RED_INACTIVE, POISON_END, POISON_FREE, objectLayout, parseDebug, slabOrder } from "./layout.js";
import { ObjectMemory } from "./object-memory.js";
import { PageMap } from "./page-map.js";
import { A_BASE, A_DESC, A_FREELIST, A_VIEW, ADDR_STRIDE, INT_STRIDE, S_CACHE, S_CPU, S_INUSE, S_NEXT, S_OBJECTS, S_ORDER, S_PREV, S_SELF, S_SLOT, S_STATE, SlabState, SlabTable } from "./slab-table.js";
import { formatSlabinfo, type SlabAllocatorStats } from "./slabinfo.js";

/** Bytes of a slab's descriptor (`struct slab`), the size of today's `struct page`. */
export const SLAB_DESCRIPTOR_BYTES = 64;
/** What a descriptor's first word holds: "SLAB" in little-endian ASCII. */
export const SLAB_DESCRIPTOR_MAGIC = 0x42414c53;

/**
 * Options for {@link SlabAllocator}.
 *
 * @example
 * ```ts
 * new SlabAllocator({ pages: buddy, memory: machine, cpus: 4, debug: "FZP" });
 * ```
 */
export interface SlabAllocatorOptions {
  /** Where slabs come from (a buddy allocator, `Potad.pageFace(space)`, ...). */
  pages: PageSource;
  /** The bytes behind those pages (`PhysicalMemory`, `MemoryBacking`, `AdoptedMemory`, ...). */
  memory: SlabMemory;
  /** Bytes per page of `pages` (a power of two, 256 to 2^30; default 4096). */
  pageSize?: number;
  /** CPUs, each with its own slab and partial list per cache (1 to 1024; default 1). */
  cpus?: number;
  /** Highest slab order (0 to 10; default 3, the kernel's PAGE_ALLOC_COSTLY_ORDER). */
  maxOrder?: number;
  /** `slub_debug` letters every cache gets unless it says otherwise (default ""). */
  debug?: string;
  /** Where the allocator's metadata arrays come from (default a new `MetadataArena`). */
  arena?: ArrayFactory;
}

/**
 * A SLUB-style slab allocator over any {@link PageSource}: caches of same-size objects
 * ({@link SlabAllocator.createCache}, the kernel's `kmem_cache_create`), slabs of 2^order pages
 * with the free pointer inside free objects, per-CPU slabs and partial lists, empty slabs given
 * back (by `shrink`, or through a shrinker registry), `slub_debug` F/Z/P, and `/proc/slabinfo`.
 *
 * Every slab has a descriptor (its `struct slab`, {@link SLAB_DESCRIPTOR_BYTES} bytes) in the
 * managed memory itself, as the memdesc plan has it: a slab's descriptor comes from the
 * allocator's own `slab` cache, except that a slab whose objects are as large as a descriptor
 * keeps its descriptor in its own first object, so taking a descriptor recurses at most once
 * (`stats().maxDepth` is 2 at most). A slab holding only its own descriptor counts as empty.
 *
 * Cost: see {@link SlabCache}; creating a slab is O(objects per slab) plus one descriptor allocation.
 *
 * @example
 * ```ts
 * const slab = new SlabAllocator({ pages: buddy, memory: machine });
 * const inodes = slab.createCache("inode", 600);
 * const i = inodes.alloc();
 * slab.free(i);          // kfree: the cache is found from the address
 * slab.check();
 * ```
 */
export class SlabAllocator {
  /** Bytes per page of the page source. */
  readonly pageSize: number;
  /** Number of CPUs, each with its own slab and partial list per cache. */
  readonly cpus: number;
  /** Largest slab order a cache may ask the page source for. */
  readonly maxOrder: number;
  /** Where the allocator's metadata arrays come from (and are measured). */
  readonly arena: ArrayFactory;
  /** @internal The `struct slab` rows. */
  readonly table: SlabTable;
  /** @internal pfn -> slab. */
  readonly pageMap: PageMap;
  /** @internal Free pointers, poison and red zones in the managed bytes. */
  readonly objects: ObjectMemory;
  /** The cache descriptors come from. */
  readonly descriptorCache: SlabCache;
  /** Where slabs come from. */
  readonly pages: PageSource;
  readonly #debug: string;
  readonly #caches: (SlabCache | null)[] = [];
  #depth = 0;
  #maxDepth = 0;
  /** Slabs created at recursion depth 1 and 2. */
  readonly #slabsAtDepth = [0, 0, 0];

  constructor(options: SlabAllocatorOptions) {
    if (options === null || typeof options !== "object" || Array.isArray(options)) {
      throw new MmkitError(ErrorCode.InvalidArgument, `slab options must be an object, got ${describeValue(options)}`);
    }
    const pages = options.pages as Partial<PageSource> | null;
    if (pages === null || typeof pages !== "object" || typeof pages.allocPages !== "function" || typeof pages.freePages !== "function") {
      throw new MmkitError(ErrorCode.InvalidArgument, `pages must be a PageSource (allocPages, freePages), got ${describeValue(pages)}`);
    }
    const memory = options.memory as Partial<SlabMemory> | null;
    if (memory === null || typeof memory !== "object" || typeof memory.bytes !== "function") {
      throw new MmkitError(ErrorCode.InvalidArgument, `memory must have bytes(address, length), got ${describeValue(memory)}`);
    }
    this.pageSize = requirePowerOfTwo(orDefault(options.pageSize, 4096), "pageSize", 256, 2 ** 30);
    this.cpus = requireInteger(orDefault(options.cpus, 1), "cpus", 1, 1024);
    this.maxOrder = requireInteger(orDefault(options.maxOrder, 3), "maxOrder", 0, 10);
    parseDebug(orDefault(options.debug, ""));
    this.#debug = orDefault(options.debug, "");
    this.arena = options.arena === undefined ? new MetadataArena() : requireArrayFactory(options.arena);
    this.pages = options.pages;
    this.objects = new ObjectMemory(options.memory);
    this.table = new SlabTable(this.arena);
    this.pageMap = new PageMap(this.arena, this.pageSize);
    // Descriptors take no debug bytes, so each is one 64-byte, 16-aligned slot (the memdesc tag needs 4 low bits).
    this.descriptorCache = this.createCache("slab", SLAB_DESCRIPTOR_BYTES, { align: 16, debug: "" });
    this.descriptorCache.internal = true;
  }

  /**
   * `kmem_cache_create`: a cache of `size`-byte objects (1 to 8 pages' worth at `maxOrder`).
   * The slab order follows SLUB's `calculate_order` (at least 4 * (fls(cpus) + 1) objects per
   * slab when it fits, at most 1/16 of the slab wasted, relaxed to 1/8 and 1/4).
   */
  createCache(name: string, size: number, options: SlabCacheOptions = {}): SlabCache {
    if (typeof name !== "string") throw new MmkitError(ErrorCode.InvalidArgument, `cache name must be a string, got ${describeValue(name)}`);
    if (options === null || typeof options !== "object" || Array.isArray(options)) {
      throw new MmkitError(ErrorCode.InvalidArgument, `cache options must be an object, got ${describeValue(options)}`);
    }
    const maxBytes = this.pageSize * 2 ** this.maxOrder;
    requireInteger(size, "size", 1, maxBytes);
    const align = requirePowerOfTwo(orDefault(options.align, 8), "align", 8, this.pageSize);
    const ctor = orDefault(options.ctor, null);
    if (ctor !== null && typeof ctor !== "function") throw new MmkitError(ErrorCode.InvalidArgument, `ctor must be a function, got ${describeValue(ctor)}`);
    const debug = parseDebug(orDefault(options.debug, this.#debug));
    const layout = objectLayout(size, align, ctor !== null, debug);
    if (layout.stride > maxBytes) {
      throw new MmkitError(ErrorCode.OutOfRange, `size ${size} with its debug bytes (${layout.stride}) does not fit a slab of order ${this.maxOrder}`);
    }
    const minPartial = requireInteger(orDefault(options.minPartial, Math.min(10, Math.max(5, Math.floor(Math.log2(size) / 2)))), "minPartial", 0, 1000);
    const minObjects = 4 * (Math.floor(Math.log2(this.cpus)) + 2);
    const order = slabOrder(layout.stride, this.pageSize, minObjects, this.maxOrder);
    const objectsPerSlab = Math.floor((this.pageSize * 2 ** order) / layout.stride);
    let minOrder = 0;
    while (this.pageSize * 2 ** minOrder < layout.stride) minOrder++;
    // SLUB's slub_set_cpu_partial: objects by size, turned into slabs (two objects free per slab on average).
    const cpuObjects = size >= this.pageSize ? 6 : size >= 1024 ? 24 : size >= 256 ? 52 : 120;
    const cpuPartial = requireInteger(orDefault(options.cpuPartial, Math.ceil((cpuObjects * 2) / objectsPerSlab)), "cpuPartial", 0, 1000);
    const cache = new SlabCache(this, { id: this.#caches.length, name, layout, align, order, objectsPerSlab, minOrder, debug, minPartial, cpuPartial, ctor }, this.arena);
    this.#caches.push(cache);
    return cache;
  }

  /**
   * `kmem_cache_destroy`: gives every empty slab back and forgets the cache. Throws
   * `ERR_INVALID_STATE` (changing nothing but the shrink) while objects are still allocated.
   */
  destroyCache(cache: SlabCache): void {
    if (!(cache instanceof SlabCache) || this.#caches[cache.id] !== cache) {
      throw new MmkitError(ErrorCode.InvalidArgument, `not a live cache of this allocator: ${describeValue(cache)}`);
    }
    if (cache === this.descriptorCache) throw new MmkitError(ErrorCode.InvalidState, "the descriptor cache cannot be destroyed");
    if (cache.activeObjects > 0) throw new MmkitError(ErrorCode.InvalidState, `cache ${cache.name} still has ${cache.activeObjects} objects allocated`);
    cache.shrink();
    cache.destroyed = true;
    this.#caches[cache.id] = null;
  }

  /** The live caches, the descriptor cache first. */
  caches(): SlabCache[] {
    return this.#caches.filter((c): c is SlabCache => c !== null);
  }

  /** The cache owning the object at `address`, or null when it is in no slab. */
  cacheOf(address: number): SlabCache | null {
    requireInteger(address, "address");
    const s = this.pageMap.slabAt(address);
    return s < 0 ? null : this.#caches[this.table.ints[s * INT_STRIDE + S_CACHE]!]!;
  }

  /** @internal The slab holding `address`, or -1 (one page lookup). */
  slabAt(address: number): number {
    return this.pageMap.slabAt(address);
  }

  /** @internal The cache of slab `s`. */
  cacheOfSlab(s: number): SlabCache {
    return this.#caches[this.table.ints[s * INT_STRIDE + S_CACHE]!]!;
  }

  /** True when `address` is the start of an object handed out (and not a slab's own descriptor). */
  isAllocatedObject(address: number): boolean {
    requireInteger(address, "address");
    const s = this.pageMap.slabAt(address);
    if (s < 0) return false;
    const cache = this.#caches[this.table.ints[s * INT_STRIDE + S_CACHE]!]!;
    return !cache.internal && cache.isAllocated(s, address);
  }

  /** Address of the descriptor (`struct slab`) of the slab holding `address`, or -1. */
  descriptorOf(address: number): number {
    requireInteger(address, "address");
    const s = this.pageMap.slabAt(address);
    return s < 0 ? -1 : this.table.addrs[s * ADDR_STRIDE + A_DESC]!;
  }

  /**
   * `kfree`: frees the object at `address` to whatever cache it belongs to. Throws
   * `ERR_NOT_ALLOCATED` when it is in no slab or not an object's start, `ERR_DOUBLE_FREE` when
   * the object is free; nothing changes when it throws.
   */
  free(address: number, cpu = 0): void {
    requireInteger(address, "address");
    const s = this.pageMap.slabAt(address);
    if (s < 0) throw new MmkitError(ErrorCode.NotAllocated, `address ${address} is in no slab`);
    const cache = this.#caches[this.table.ints[s * INT_STRIDE + S_CACHE]!]!;
    if (cache.internal) throw new MmkitError(ErrorCode.NotAllocated, `address ${address} is in a slab descriptor, never handed out`);
    cache.freeInSlab(s, address, cpu);
  }

  /** Every cache's {@link SlabCache.shrink}; returns the pages given back. */
  shrink(): number {
    let freed = 0;
    // Descriptor slabs empty out as other slabs go, so they are shrunk last.
    for (const c of this.#caches) if (c !== null && c !== this.descriptorCache) freed += c.shrink();
    return freed + this.descriptorCache.shrink();
  }

  /**
   * A shrinker for a registry (`@mmkit/shrinker`'s `ShrinkerRegistry.register` takes it): its
   * objects are the pages of empty slabs, which `scan` gives back by shrinking the caches.
   */
  shrinker(name = "slab"): SlabShrinker {
    return {
      name,
      seeks: 1,
      count: () => {
        let pages = 0;
        for (const c of this.#caches) if (c !== null) pages += c.reclaimablePages();
        return pages;
      },
      scan: () => this.shrink(),
    };
  }

  /** Totals, the recursion seen, and per-cache rows as `/proc/slabinfo` prints them. */
  stats(): SlabAllocatorStats {
    const caches = this.caches().map((c) => ({
      name: c.name,
      activeObjects: c.activeObjects,
      objects: c.objectSlots(),
      objectSize: c.objectSize,
      stride: c.stride,
      objectsPerSlab: c.objectsPerSlab,
      pagesPerSlab: 1 << c.order,
      slabs: c.nrSlabs,
      partialSlabs: c.nrPartial,
      counters: { ...c.counters },
    }));
    let slabPages = 0;
    for (let s = 0; s < this.table.capacity; s++) {
      if (this.table.ints[s * INT_STRIDE + S_STATE] !== SlabState.Unused) slabPages += 2 ** this.table.ints[s * INT_STRIDE + S_ORDER]!;
    }
    const d = this.descriptorCache;
    return {
      slabPages,
      slabBytes: slabPages * this.pageSize,
      descriptorBytes: (this.table.live) * SLAB_DESCRIPTOR_BYTES,
      descriptorPages: d.nrSlabs << d.order, // the descriptor cache's slabs are order 0 (64 objects of 64 bytes)
      maxDepth: this.#maxDepth,
      slabsAtDepth: [this.#slabsAtDepth[1]!, this.#slabsAtDepth[2]!],
      metadataBytes: metadataBytesOf(this.arena),
      caches,
    };
  }

  /** The `/proc/slabinfo` text (version 2.1, SLUB's zero tunables). */
  slabinfo(): string {
    return formatSlabinfo(this.stats());
  }

  /** Validates every invariant (lists, counts, bits, free lists in memory, descriptors, debug bytes); throws `ERR_INVARIANT`. */
  check(): void {
    checkSlabAllocator(this, this.caches());
  }

  /** @internal SLUB's allocate_slab plus seed 001's slab_alloc: pages first, then the descriptor. */
  newSlab(cache: SlabCache, cpu: number): number {
    this.#depth++;
    try {
      // SLUB's allocate_slab: the preferred order, else the lowest that holds one object.
      let order = cache.order;
      let pfn = this.pages.allocPages(order);
      if (pfn < 0 && cache.minOrder < order) {
        order = cache.minOrder;
        pfn = this.pages.allocPages(order);
      }
      if (pfn < 0) return -1;
      const base = pfn * this.pageSize;
      const selfHosted = cache.objectSize === SLAB_DESCRIPTOR_BYTES;
      let desc = base;
      if (!selfHosted) {
        desc = this.descriptorCache.allocObject(cpu);
        if (desc < 0) {
          this.pages.freePages(pfn, order);
          return -1;
        }
      }
      if (this.#depth > this.#maxDepth) this.#maxDepth = this.#depth;
      this.#slabsAtDepth[Math.min(this.#depth, 2)]!++;
      const s = this.table.allocate();
      const ints = this.table.ints;
      const o = s * INT_STRIDE;
      ints[o + S_CACHE] = cache.id;
      ints[o + S_ORDER] = order;
      ints[o + S_STATE] = SlabState.Full; // on no list until the cache places it
      ints[o + S_CPU] = -1;
      ints[o + S_NEXT] = -1;
      ints[o + S_PREV] = -1;
      ints[o + S_SELF] = selfHosted ? 1 : 0;
      ints[o + S_INUSE] = selfHosted ? 1 : 0;
      ints[o + S_OBJECTS] = Math.floor((this.pageSize * 2 ** order) / cache.stride);
      ints[o + S_SLOT] = cache.bitmap.attach();
      const a = s * ADDR_STRIDE;
      this.table.addrs[a + A_BASE] = base;
      this.table.addrs[a + A_DESC] = desc;
      // Translated once: the slab's bytes stay where they are in the memory's view while it lives.
      this.table.addrs[a + A_VIEW] = this.objects.viewOffset(base);
      for (let i = 0; i < 1 << order; i++) this.pageMap.add(pfn + i, s);
      this.#writeDescriptor(desc, s, order, cache);
      this.#layObjects(cache, s, base, selfHosted);
      return s;
    } finally {
      this.#depth--;
    }
  }

  /** Threads the free list through the objects (first object first) and sets their debug bytes. */
  #layObjects(cache: SlabCache, s: number, base: number, selfHosted: boolean): void {
    const om = this.objects;
    const stride = cache.stride;
    const { freePointerOffset, redZoneOffset, redZoneBytes, poison } = cache.layout;
    const first = selfHosted ? 1 : 0;
    const objects = this.table.ints[s * INT_STRIDE + S_OBJECTS]!;
    if (selfHosted) {
      cache.bitmap.set(this.table.ints[s * INT_STRIDE + S_SLOT]!, 0);
      if (cache.debug.redZone) om.fill(base + redZoneOffset, redZoneBytes, RED_ACTIVE);
    }
    let next = -1;
    for (let i = objects - 1; i >= first; i--) {
      const object = base + i * stride;
      if (cache.ctor !== null) cache.ctor(object);
      if (poison) {
        om.fill(object, cache.objectSize - 1, POISON_FREE);
        om.fill(object + cache.objectSize - 1, 1, POISON_END);
      }
      if (cache.debug.redZone) om.fill(object + redZoneOffset, redZoneBytes, RED_INACTIVE);
      om.writePointer(object + freePointerOffset, next);
      next = object;
    }
    this.table.addrs[s * ADDR_STRIDE + A_FREELIST] = next;
  }

  /** The descriptor's bytes: magic, slab id, cache id, order (4 little-endian words), then zeros. */
  #writeDescriptor(desc: number, s: number, order: number, cache: SlabCache): void {
    const b = this.objects.memory.bytes(desc, 16);
    const words = [SLAB_DESCRIPTOR_MAGIC, s, cache.id, order];
    for (let w = 0; w < 4; w++) for (let i = 0; i < 4; i++) b[w * 4 + i] = (words[w]! >>> (8 * i)) & 0xff;
  }

  /** @internal Gives an empty slab's pages back, then its descriptor (unless it is inside them). */
  discardSlab(s: number, cpu: number): void {
    const ints = this.table.ints;
    const o = s * INT_STRIDE;
    const order = ints[o + S_ORDER]!;
    const base = this.table.addrs[s * ADDR_STRIDE + A_BASE]!;
    const desc = this.table.addrs[s * ADDR_STRIDE + A_DESC]!;
    const selfHosted = ints[o + S_SELF] === 1;
    const pfn = base / this.pageSize;
    for (let i = 0; i < 1 << order; i++) this.pageMap.remove(pfn + i);
    this.cacheOfSlab(s).bitmap.detach(ints[o + S_SLOT]!);
    this.table.release(s);
    this.pages.freePages(pfn, order);
    if (!selfHosted) {
      const d = this.descriptorCache;
      d.freeInSlab(this.pageMap.slabAt(desc), desc, cpu);
    }
  }
}

/** `value`, or `fallback` when it is undefined (null is a value, and refused where a number goes). */
function orDefault<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
}

function metadataBytesOf(arena: ArrayFactory): number {
  const bytes = (arena as { bytes?: unknown }).bytes;
  return typeof bytes === "number" ? bytes : 0;
}

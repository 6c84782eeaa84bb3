/**
 * The narrow faces the slab allocator needs from the rest of a system. They are declared here, by
 * the consumer, so any producer with the same members fits without importing this package:
 * `BuddyAllocator`, `Potad.pageFace(space)` and `DirectReclaim` are page sources; physmem's
 * `PhysicalMemory`, `MemoryBacking` and `AdoptedMemory` give bytes.
 */

/**
 * Where slabs come from: 2^order contiguous pages at a time (the kernel's `alloc_pages`).
 *
 * @example
 * ```ts
 * const slab = new SlabAllocator({ pages: buddy, memory: machine });             // a BuddyAllocator
 * const onPotad = new SlabAllocator({ pages: potad.pageFace(ram), memory: machine });
 * ```
 */
export interface PageSource {
  /** First page frame number of 2^order contiguous pages, or -1 when none are free. */
  allocPages(order: number): number;
  /** Gives back what {@link PageSource.allocPages} returned, with the same order. */
  freePages(pfn: number, order: number): void;
}

/**
 * Real bytes behind the pages: the free pointer lives inside free objects, and poison and red
 * zones are bytes too. `bytes(address, length)` is a view of `length` bytes at a byte address
 * (`pfn * pageSize` for the first byte of a page).
 *
 * @example
 * ```ts
 * const machine = new PhysicalMemory({ ranges: [{ base: 0, size: MiB }], backing: "array" });
 * const slab = new SlabAllocator({ pages, memory: machine });
 * ```
 */
export interface SlabMemory {
  /** A view of `length` bytes at byte address `address`. */
  bytes(address: number, length: number): Uint8Array;
  /**
   * Optional fast path: a view of all the bytes, whose first byte is at address `base` (default
   * 0), the same view object for as long as the buffer behind it is the same (a new one after a
   * grow). With it the free pointer is read and written without making a view per access.
   */
  whole?(): Uint8Array;
  /** Byte address of the first byte of `whole()` (default 0). */
  readonly base?: number;
}

/**
 * Where requests too large for a size class go (the kernel's `kmalloc_large`): a contiguous range
 * of `size` bytes aligned to `alignment`, or -1. POTAD's contiguous allocations with a weaker
 * alignment fit: `{ allocRange: (n, a) => potad.alloc(space, n, { alignment: a }), freeRange: (x) => potad.free(x) }`.
 *
 * @example
 * ```ts
 * const large: RangeSource = { allocRange: (n, a) => potad.alloc(space, n, { alignment: a }), freeRange: (x) => void potad.free(x) };
 * const km = new Kmalloc(slab, { large });
 * ```
 */
export interface RangeSource {
  /** First byte address of `size` contiguous bytes aligned to `alignment`, or -1 when there is no room. */
  allocRange(size: number, alignment: number): number;
  /** Gives back the range `allocRange` returned at `address`. */
  freeRange(address: number): void;
}

/**
 * What a shrinker registry calls (the shape `@mmkit/shrinker`'s `Shrinker` has): `count` says how
 * many objects could be freed now, `scan` frees up to `sc.nrToScan` and says how many it freed.
 * Here the objects are the pages of empty slabs.
 *
 * @example
 * ```ts
 * registry.register(slab.shrinker());   // a ShrinkerRegistry from @mmkit/shrinker
 * ```
 */
export interface SlabShrinker {
  /** The name the registry reports it under. */
  name: string;
  /** Pages of empty slabs that could be given back now. */
  count(sc: { nid: number; nrToScan: number; priority: number; nrScanned: number }): number;
  /** Gives back up to `sc.nrToScan` pages of empty slabs; returns how many. */
  scan(sc: { nid: number; nrToScan: number; priority: number; nrScanned: number }): number;
  /** Cost of recreating a slab, in the kernel's seeks. */
  seeks: number;
}

/**
 * The narrow faces the slab allocator needs from the rest of a system. They are declared here, by
 * the consumer, so any producer with the same members fits without importing this package:
 * `BuddyAllocator`, `Potad.pageFace(space)` and `DirectReclaim` are page sources; physmem's
 * `PhysicalMemory`, `MemoryBacking` and `AdoptedMemory` give bytes.
 */

/** Where slabs come from: 2^order contiguous pages at a time (the kernel's `alloc_pages`). */
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
 */
export interface SlabMemory {
  bytes(address: number, length: number): Uint8Array;
  /**
   * Optional fast path: a view of all the bytes, whose first byte is at address `base` (default
   * 0), the same view object for as long as the buffer behind it is the same (a new one after a
   * grow). With it the free pointer is read and written without making a view per access.
   */
  whole?(): Uint8Array;
  readonly base?: number;
}

/**
 * Where requests too large for a size class go (the kernel's `kmalloc_large`): a contiguous range
 * of `size` bytes aligned to `alignment`, or -1. POTAD's contiguous allocations with a weaker
 * alignment fit: `{ allocRange: (n, a) => potad.alloc(space, n, { alignment: a }), freeRange: (x) => potad.free(x) }`.
 */
export interface RangeSource {
  allocRange(size: number, alignment: number): number;
  freeRange(address: number): void;
}

/**
 * What a shrinker registry calls (the shape `@mmkit/shrinker`'s `Shrinker` has): `count` says how
 * many objects could be freed now, `scan` frees up to `sc.nrToScan` and says how many it freed.
 * Here the objects are the pages of empty slabs.
 */
export interface SlabShrinker {
  name: string;
  count(sc: { nid: number; nrToScan: number; priority: number; nrScanned: number }): number;
  scan(sc: { nid: number; nrToScan: number; priority: number; nrScanned: number }): number;
  seeks: number;
}

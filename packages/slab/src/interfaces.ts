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
 * const pages: PageSource = potad.pageFace(space, 4096); // or a BuddyAllocator
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
 * const memory: SlabMemory = new PhysicalMemory({ ranges: [{ base: 0, size: 1 << 20 }], backing: "array" });
 * ```
 */
export interface SlabMemory {
  /** A view of `length` bytes at byte `address`. */
  bytes(address: number, length: number): Uint8Array;
  /**
   * Optional fast path: a view of all the bytes, whose first byte is at address `base` (default
   * 0), the same view object for as long as the buffer behind it is the same (a new one after a
   * grow). With it the free pointer is read and written without making a view per access.
   */
  whole?(): Uint8Array;
  /** Address of the first byte of {@link SlabMemory.whole}'s view (default 0). */
  readonly base?: number;
  /**
   * Optional, with `whole()`: where the byte at `address` is in `whole()`'s view, for a memory that
   * backs scattered pages in one packed buffer (default `address - base`). The bytes of one slab
   * must be contiguous in the view and stay where they are while the slab lives (a grow that copies
   * the buffer keeps every place): the allocator translates a slab's first byte once, when it makes
   * the slab, and reaches each object's bytes at an offset from it.
   */
  offsetOf?(address: number): number;
}

/**
 * Where requests too large for a size class go (the kernel's `kmalloc_large`): a contiguous range
 * of `size` bytes aligned to `alignment`, or -1. POTAD's contiguous allocations with a weaker
 * alignment fit: `{ allocRange: (n, a) => potad.alloc(space, n, { alignment: a }), freeRange: (x) => potad.free(x) }`.
 *
 * @example
 * ```ts
 * const large: RangeSource = { allocRange: (n, a) => potad.alloc(space, n, { alignment: a }), freeRange: (x) => void potad.free(x) };
 * ```
 */
export interface RangeSource {
  /** `size` contiguous bytes aligned to `alignment`: the address, or -1. */
  allocRange(size: number, alignment: number): number;
  /** Gives back what {@link RangeSource.allocRange} returned. */
  freeRange(address: number): void;
}

/**
 * What a shrinker registry calls (the shape `@mmkit/shrinker`'s `Shrinker` has): `count` says how
 * many objects could be freed now, `scan` frees up to `sc.nrToScan` and says how many it freed.
 * Here the objects are the pages of empty slabs.
 *
 * @example
 * ```ts
 * registry.register(slab.shrinker("slab"));
 * ```
 */
export interface SlabShrinker {
  /** The name the registry reports it by. */
  name: string;
  /** Pages of empty slabs that a scan would give back now. */
  count(sc: { nid: number; nrToScan: number; priority: number; nrScanned: number }): number;
  /** Gives back every empty slab; returns the pages given back. */
  scan(sc: { nid: number; nrToScan: number; priority: number; nrScanned: number }): number;
  /** Cost of recreating an object: 1, a slab page is cheap to get again. */
  seeks: number;
}

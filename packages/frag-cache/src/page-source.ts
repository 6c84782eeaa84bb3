/**
 * Where a {@link FragmentCache} gets its blocks: anything that hands out 2^order contiguous pages
 * and takes them back. `BuddyAllocator` from `@mmkit/buddy` and POTAD's page face fit it without
 * importing this package (the consumer declares the interface; see the design guide).
 *
 * @example
 * ```ts
 * // A page source over 64 pages that only ever has single pages (so every block is a fallback).
 * let next = 0;
 * const pages: PageSource = {
 *   allocPages: (order) => (order === 0 && next < 64 ? next++ : -1),
 *   freePages: () => {},
 * };
 * ```
 */
export interface PageSource {
  /** First page frame number of 2^order contiguous pages, or -1 when none are free. */
  allocPages(order: number): number;
  /** Gives back the 2^order pages starting at `pfn` that `allocPages(order)` returned. */
  freePages(pfn: number, order: number): void;
}

/**
 * Bytes behind the page source's pages, so fragments can be read and written: a byte address in,
 * a `Uint8Array` view out. `PhysicalMemory` and `MemoryBacking` from `@mmkit/physmem` fit it.
 *
 * @example
 * ```ts
 * const machine = new PhysicalMemory({ ranges: [{ base: 0, size: 1 << 20 }], backing: "array" });
 * const backing: FragmentBacking = machine;   // machine.bytes(address, length)
 * ```
 */
export interface FragmentBacking {
  /** A view of `length` bytes at byte address `address`. */
  bytes(address: number, length: number): Uint8Array;
}

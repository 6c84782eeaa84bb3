/**
 * What trace replay needs from the system under test: a page allocator, nothing more. Declared
 * here by the consumer (the bench), so `BuddyAllocator`, POTAD's page-space face or a test fake fit
 * without importing this module.
 *
 * @example
 * ```ts
 * const sut: PageAllocator = new BuddyAllocator(memoryMap);
 * const pfn = sut.allocPages(3);   // 8 contiguous pages, or -1
 * if (pfn !== -1) sut.freePages(pfn, 3);
 * ```
 */
export interface PageAllocator {
  /** First page frame number of 2^order contiguous free pages, now allocated; -1 when there are none. */
  allocPages(order: number): number;
  /** Gives back 2^order pages at `pfn`, allocated earlier by `allocPages(order)`. */
  freePages(pfn: number, order: number): void;
}

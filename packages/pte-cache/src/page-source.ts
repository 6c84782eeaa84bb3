/**
 * Where the cache gets its pages and where it gives them back: the page allocator, seen through the
 * two calls the cache makes. `BuddyAllocator` and `Potad`'s page face fit without importing this
 * package.
 *
 * The cache frees every block with the order it allocated it with: an order-9 block as order 9, a
 * fallback page as order 0 (unless {@link PteMappedCacheOptions.splitBlocks} says the source accepts
 * order-0 frees of pages out of an order-9 block, as Linux does after `split_page()`).
 *
 * @example
 * ```ts
 * const source: PageSource = {
 *   allocPages: (order) => buddy.allocPages(order),
 *   freePages: (pfn, order) => buddy.freePages(pfn, order),
 * };
 * ```
 */
export interface PageSource {
  /** First page frame number of 2^order contiguous, naturally aligned pages, or -1 when none are free. */
  allocPages(order: number): number;
  /** Gives back a block `allocPages(order)` returned. */
  freePages(pfn: number, order: number): void;
}

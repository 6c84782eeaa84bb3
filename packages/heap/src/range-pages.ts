import type { RangeFit } from "./range-fit.js";

/**
 * A heap's {@link RangeFit} as the two faces kmalloc needs: the `PageSource` the slab allocator
 * takes slabs from (2^order pages at page alignment, `pfn = address / pageSize`) and the
 * `RangeSource` large requests go to (any multiple of the granule, at the alignment asked). Slabs
 * and large allocations share one pool of free blocks, so the bytes an emptied slab gives back
 * merge with their neighbours and can serve a large request of any size.
 *
 * Cost: what `RangeFit.alloc` / `free` cost (O(1)).
 *
 * @example
 * ```ts
 * const pages = new RangePages(new RangeFit(new MetadataArena(), 1 << 20), 2048);
 * const pfn = pages.allocPages(2); // 4 pages: 8 KiB at a 2 KiB boundary
 * pages.freePages(pfn, 2);
 * ```
 */
export class RangePages {
  /** The range allocator the pages and ranges come from. */
  readonly fit: RangeFit;
  /** Bytes per page: a pfn is an address divided by it. */
  readonly pageSize: number;

  constructor(fit: RangeFit, pageSize: number) {
    this.fit = fit;
    this.pageSize = pageSize;
  }

  /** Takes `2^order` pages at a page boundary: the first pfn, or -1 when no free block holds them. */
  allocPages(order: number): number {
    const address = this.fit.alloc(this.pageSize * 2 ** order, this.pageSize);
    return address < 0 ? -1 : address / this.pageSize;
  }

  /** Gives back pages taken with `allocPages` (the range allocator knows their size). */
  freePages(pfn: number, _order: number): void {
    this.fit.free(pfn * this.pageSize);
  }

  /** Takes `size` bytes at `alignment`: the address, or -1. */
  allocRange(size: number, alignment: number): number {
    return this.fit.alloc(size, alignment);
  }

  /** Gives back a range taken with `allocRange`. */
  freeRange(address: number): void {
    this.fit.free(address);
  }
}

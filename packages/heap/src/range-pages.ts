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
  readonly fit: RangeFit;
  readonly pageSize: number;

  constructor(fit: RangeFit, pageSize: number) {
    this.fit = fit;
    this.pageSize = pageSize;
  }

  allocPages(order: number): number {
    const address = this.fit.alloc(this.pageSize * 2 ** order, this.pageSize);
    return address < 0 ? -1 : address / this.pageSize;
  }

  freePages(pfn: number, _order: number): void {
    this.fit.free(pfn * this.pageSize);
  }

  allocRange(size: number, alignment: number): number {
    return this.fit.alloc(size, alignment);
  }

  freeRange(address: number): void {
    this.fit.free(address);
  }
}

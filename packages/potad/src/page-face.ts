import { ErrorCode, MmkitError, describeValue, requireInteger, requirePowerOfTwo } from "@mmkit/physmem";

/**
 * The two operations of a {@link PageFace}, validated and done by the POTAD that built it.
 *
 * @example
 * ```ts
 * // What Potad.pageFace hands a PageFace: its own checked page operations.
 * const backend: PageFaceBackend = { allocPages: (order) => -1, freePages: (pfn, order) => {} };
 * ```
 */
export interface PageFaceBackend {
  /** First pfn of 2^order free pages, or -1 when none are free. */
  allocPages(order: number): number;
  /** Gives back the 2^order pages at `pfn`. */
  freePages(pfn: number, order: number): void;
}

/**
 * POTAD seen as a page allocator over one RAM space: page frame numbers and orders of pages, the
 * `allocPages` / `freePages` pair the fragment cache and the PTE cache take (their `PageSource`),
 * so POTAD replaces the buddy allocator under them without their knowing. Get one from
 * `potad.pageFace(space, pageSize)`.
 *
 * Cost: as `Potad.allocOrder` and `Potad.free`: orders whose block is at most 8 granules go
 * through the fronts, 2 cache lines each way.
 *
 * @example
 * ```ts
 * const potad = new Potad();
 * const ram = potad.addSpace({ base: 0, size: 64 << 20, granule: 4096 });
 * const pages = potad.pageFace(ram);
 * const pfn = pages.allocPages(3);   // 0: eight pages at pfn 0
 * pages.freePages(pfn, 3);
 * ```
 */
export class PageFace {
  /** The POTAD space the pages come from. */
  readonly space: number;
  /** Bytes per page: a pfn is an address in the space divided by it. */
  readonly pageSize: number;
  /** The largest order the space can hold. */
  readonly maxOrder: number;
  /**
   * First pfn of 2^order contiguous pages aligned to their size, or -1 when none are free. Throws
   * (changing nothing) for an order that is not an integer in `[0, maxOrder]`.
   */
  readonly allocPages: (order: number) => number;
  /**
   * Gives back the 2^order pages at `pfn` that `allocPages(order)` returned. Throws (changing
   * nothing) `ERR_OUT_OF_RANGE` for a pfn outside this face's space, `ERR_WRONG_SIZE` for another
   * order, and as `Potad.free` for anything not allocated.
   */
  readonly freePages: (pfn: number, order: number) => void;

  /**
   * Use `potad.pageFace(space, pageSize)`. Throws (`ERR_INVALID_ARGUMENT` / `ERR_OUT_OF_RANGE`)
   * for a space id that is not a non-negative integer, a page size that is not a power of two, a
   * maxOrder outside [0, 63], or a backend without the two functions.
   */
  constructor(space: number, pageSize: number, maxOrder: number, backend: PageFaceBackend) {
    requireInteger(space, "space");
    requirePowerOfTwo(pageSize, "pageSize");
    requireInteger(maxOrder, "maxOrder", 0, 63);
    const b = backend as Partial<PageFaceBackend> | null;
    if (b === null || typeof b !== "object" || typeof b.allocPages !== "function" || typeof b.freePages !== "function") {
      throw new MmkitError(ErrorCode.InvalidArgument, `a page face needs a backend with allocPages and freePages, got ${describeValue(backend)}`);
    }
    this.space = space;
    this.pageSize = pageSize;
    this.maxOrder = maxOrder;
    this.allocPages = backend.allocPages;
    this.freePages = backend.freePages;
  }
}

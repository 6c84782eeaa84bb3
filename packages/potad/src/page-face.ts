import { ErrorCode, MmkitError, describeValue, requireInteger } from "@mmkit/physmem";
import type { Potad } from "./potad.js";

/**
 * POTAD seen as a page allocator over one RAM space: page frame numbers and orders of pages, the
 * `allocPages` / `freePages` pair the fragment cache and the PTE cache take (their `PageSource`),
 * so POTAD replaces the buddy allocator under them without their knowing. Get one from
 * `potad.pageFace(space, pageSize)`.
 *
 * Cost: as `Potad.allocOrder` and `Potad.free` (plus a size check on free).
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
  readonly space: number;
  readonly pageSize: number;
  readonly #potad: Potad;
  /** The largest order the space can hold. */
  readonly maxOrder: number;
  readonly #shift: number;

  /** Use `potad.pageFace(space, pageSize)`. `shift` is log2(pageSize / granule). */
  constructor(potad: Potad, space: number, pageSize: number, shift: number, maxOrder: number) {
    this.#potad = potad;
    this.space = space;
    this.pageSize = pageSize;
    this.#shift = shift;
    this.maxOrder = maxOrder;
  }

  /** First pfn of 2^order contiguous pages aligned to their size, or -1 when none are free. */
  allocPages(order: number): number {
    if ((order >>> 0) !== order || order > this.maxOrder) requireInteger(order, "order", 0, this.maxOrder);
    const address = this.#potad.allocOrder(this.space, order + this.#shift);
    return address < 0 ? -1 : address / this.pageSize;
  }

  /**
   * Gives back the 2^order pages at `pfn` that `allocPages(order)` returned. Throws (changing
   * nothing) `ERR_WRONG_SIZE` for another order, and as `Potad.free` for anything not allocated.
   */
  freePages(pfn: number, order: number): void {
    if (typeof pfn !== "number" || !Number.isSafeInteger(pfn) || pfn < 0) {
      throw new MmkitError(ErrorCode.InvalidArgument, `pfn must be a non-negative integer, got ${describeValue(pfn)}`);
    }
    requireInteger(order, "order", 0, this.maxOrder);
    this.#potad.free(pfn * this.pageSize, this.pageSize * 2 ** order);
  }
}

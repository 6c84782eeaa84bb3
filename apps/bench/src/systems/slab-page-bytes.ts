import { ErrorCode, MmkitError, describeValue } from "@mmkit/physmem";

/**
 * Bytes for the pages of slabs only, on a machine without backing bytes: each slab's 2^order pages
 * get one `Uint8Array` when the slab takes them, dropped when it gives them back, so the slab
 * allocator can keep its free pointers inside free descriptors (as SLUB does) while the rest of
 * RAM stays unbacked. The `SlabMemory` shape of `@mmkit/slab`.
 *
 * Cost: one map lookup and one subarray per `bytes` call; `add` / `remove` touch one map entry per page.
 *
 * @example
 * ```ts
 * const bytes = new SlabPageBytes(4096);
 * bytes.add(10, 1);                // pfns 10 and 11: 8 KiB
 * bytes.bytes(10 * 4096 + 64, 8);  // a view of 8 of them
 * bytes.remove(10, 1);
 * ```
 */
export class SlabPageBytes {
  readonly pageSize: number;
  readonly #pages = new Map<number, { base: number; bytes: Uint8Array }>();
  /** Bytes held now. */
  heldBytes = 0;

  constructor(pageSize: number) {
    this.pageSize = pageSize;
  }

  /** Backs the 2^order pages at `pfn` with zeroed bytes. */
  add(pfn: number, order: number): void {
    const entry = { base: pfn * this.pageSize, bytes: new Uint8Array(this.pageSize * 2 ** order) };
    for (let i = 0; i < 2 ** order; i++) this.#pages.set(pfn + i, entry);
    this.heldBytes += entry.bytes.length;
  }

  /** Drops the bytes of the 2^order pages at `pfn`. */
  remove(pfn: number, order: number): void {
    for (let i = 0; i < 2 ** order; i++) this.#pages.delete(pfn + i);
    this.heldBytes -= this.pageSize * 2 ** order;
  }

  /** A view of `length` bytes at byte `address` (inside one slab); `ERR_NOT_ALLOCATED` when it is in no slab's pages. */
  bytes(address: number, length: number): Uint8Array {
    const e = this.#pages.get(Math.floor(address / this.pageSize));
    const offset = e === undefined ? -1 : address - e.base;
    if (e === undefined || offset + length > e.bytes.length) {
      throw new MmkitError(ErrorCode.NotAllocated, `bytes ${describeValue(address)}..+${length} are not in one slab's pages`);
    }
    return e.bytes.subarray(offset, offset + length);
  }
}

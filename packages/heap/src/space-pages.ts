import type { Potad } from "@mmkit/potad";

/**
 * Pages and ranges from the POTAD spaces that tile a heap's buffer (one space per grow, lowest
 * first): the `PageSource` the slab allocator takes, and the `RangeSource` kmalloc's large
 * requests go to (whole pages, page aligned, as POTAD's contiguous allocation gives them).
 *
 * Cost: what POTAD's page face and `alloc` cost, times the spaces tried (one unless the first is full).
 *
 * @example
 * ```ts
 * const pages = new SpacePages(potad, 4096);
 * pages.addSpace(potad.addSpace({ base: 0, size: 1 << 20, granule: 4096 }), 1 << 20);
 * const pfn = pages.allocPages(2);
 * pages.freePages(pfn, 2);
 * ```
 */
export class SpacePages {
  /** The POTAD whose spaces the pages come from. */
  readonly potad: Potad;
  /** Bytes per page. */
  readonly pageSize: number;
  /** The spaces drawn from, in the order they are tried. */
  readonly spaces: number[] = [];
  /** Bytes handed out from the spaces now (slab pages and large ranges), and the most there were. */
  heldBytes = 0;
  /** The most bytes `heldBytes` has been. */
  peakHeldBytes = 0;
  #sizes: number[] = [];
  #faces: { allocPages(order: number): number; freePages(pfn: number, order: number): void; maxOrder: number }[] = [];

  constructor(potad: Potad, pageSize: number) {
    this.potad = potad;
    this.pageSize = pageSize;
  }

  /** Adds a space of `size` bytes (already added to POTAD) to draw from. */
  addSpace(space: number, size: number): void {
    this.spaces.push(space);
    this.#sizes.push(size);
    this.#faces.push(this.potad.pageFace(space, this.pageSize));
  }

  /**
   * The last space grew at its end to `size` bytes (POTAD's `growSpace` was called): its page face
   * is made again so it sees the larger orders.
   */
  grewLast(size: number): void {
    const i = this.spaces.length - 1;
    this.#sizes[i] = size;
    this.#faces[i] = this.potad.pageFace(this.spaces[i]!, this.pageSize);
  }

  /** Takes `2^order` pages from the first space that has them: the first pfn, or -1. */
  allocPages(order: number): number {
    const faces = this.#faces;
    for (let i = 0; i < faces.length; i++) {
      const f = faces[i]!;
      if (order > f.maxOrder) continue;
      const pfn = f.allocPages(order);
      if (pfn >= 0) {
        this.#take(this.pageSize * 2 ** order);
        return pfn;
      }
    }
    return -1;
  }

  /** Gives back `2^order` pages taken with `allocPages`. */
  freePages(pfn: number, order: number): void {
    const bytes = this.pageSize * 2 ** order;
    this.potad.free(pfn * this.pageSize, bytes);
    this.heldBytes -= bytes;
  }

  /** Takes `size` contiguous bytes at `alignment` from the first space that has them: the address, or -1. */
  allocRange(size: number, alignment: number): number {
    for (let i = 0; i < this.spaces.length; i++) {
      const space = this.spaces[i]!;
      if (Math.max(size, alignment) > this.#sizes[i]!) continue;
      // POTAD's weaker alignment is for ranges longer than it; a shorter one is a block of the alignment.
      const address = alignment >= size ? this.potad.alloc(space, alignment) : this.potad.alloc(space, size, { alignment });
      if (address >= 0) {
        this.#take(this.potad.sizeOf(address));
        return address;
      }
    }
    return -1;
  }

  /** Gives back a range taken with `allocRange`. */
  freeRange(address: number): void {
    const bytes = this.potad.sizeOf(address);
    this.potad.free(address);
    this.heldBytes -= bytes;
  }

  #take(bytes: number): void {
    this.heldBytes += bytes;
    if (this.heldBytes > this.peakHeldBytes) this.peakHeldBytes = this.heldBytes;
  }
}

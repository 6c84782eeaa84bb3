import type { ArrayFactory } from "@mmkit/physmem";
import { AddressMap } from "./address-map.js";

/**
 * From a page to the slab it belongs to: the part of the kernel's memmap a slab allocator reads
 * (`virt_to_slab`), kept only for pages that are slabs, in a hash from pfn to slab id.
 *
 * Cost: one hash probe per lookup (O(1) expected); 16 to 32 bytes per slab page.
 *
 * @example
 * ```ts
 * const pages = new PageMap(new MetadataArena(), 4096);
 * pages.add(5, 0);              // pfn 5 belongs to slab 0
 * pages.slabAt(5 * 4096 + 64);  // 0
 * ```
 */
export class PageMap {
  /** Bytes per page. */
  readonly pageSize: number;
  /** 1 / pageSize: exact for a power of two, so a multiply finds the pfn (no division per lookup). */
  readonly #perPage: number;
  #slabOf: AddressMap;

  constructor(arena: ArrayFactory, pageSize: number) {
    this.pageSize = pageSize;
    this.#perPage = 1 / pageSize;
    this.#slabOf = new AddressMap(arena, "slab pages");
  }

  /** Slab pages recorded. */
  get pages(): number {
    return this.#slabOf.size;
  }

  /** The slab of page `pfn`, or -1. */
  slabOfPfn(pfn: number): number {
    return this.#slabOf.get(pfn);
  }

  /** The slab owning the byte at `address`, or -1. */
  slabAt(address: number): number {
    return this.#slabOf.get(Math.floor(address * this.#perPage));
  }

  /** Records page `pfn` as part of slab `slab`. */
  add(pfn: number, slab: number): void {
    this.#slabOf.set(pfn, slab);
  }

  /** Forgets page `pfn`. */
  remove(pfn: number): void {
    this.#slabOf.delete(pfn);
  }
}

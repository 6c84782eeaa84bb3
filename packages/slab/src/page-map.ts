import type { ArrayFactory } from "@mmkit/physmem";
import { AddressMap } from "./address-map.js";

/**
 * From a page to its slab, and which objects of the page are handed out: the part of the kernel's
 * memmap a slab allocator reads (`virt_to_slab`), kept only for pages that are slabs. Each slab
 * page gets a row: the slab's id and one allocation bit per 8 bytes of the page (an object's bit
 * is the one of its first byte), so a double free and a pointer never handed out are told apart
 * without reading the user's bytes. Cost: 4 + pageSize / 64 bytes per slab page, plus the hash.
 *
 * @example
 * ```ts
 * const pages = new PageMap(new MetadataArena(), 4096);
 * pages.add(5, 0);                  // pfn 5 belongs to slab 0
 * pages.setBit(5 * 4096 + 64);
 * pages.bit(5 * 4096 + 64);         // true
 * ```
 */
export class PageMap {
  readonly pageSize: number;
  readonly wordsPerPage: number;
  #arena: ArrayFactory;
  #rows: AddressMap;
  /** Row -> slab id. */
  slabOfRow: Int32Array;
  /** Row -> its allocation bits (wordsPerPage words each). */
  bits: Uint32Array;
  #free: Int32Array;
  #freeCount = 0;
  #capacity = 0;

  constructor(arena: ArrayFactory, pageSize: number, capacity = 16) {
    this.#arena = arena;
    this.pageSize = pageSize;
    this.wordsPerPage = Math.max(1, pageSize / 256);
    this.#rows = new AddressMap(arena, "slab page rows");
    this.slabOfRow = arena.int32(capacity, "slab page owner");
    this.bits = arena.uint32(capacity * this.wordsPerPage, "slab allocation bits");
    this.#free = arena.int32(capacity, "slab page free rows");
    this.#take(0, capacity);
  }

  /** Slab pages recorded. */
  get pages(): number {
    return this.#rows.size;
  }

  /** The row of page `pfn`, or -1 when it is not a slab page. */
  rowOf(pfn: number): number {
    return this.#rows.get(pfn);
  }

  /** The slab owning the byte at `address`, or -1. */
  slabAt(address: number): number {
    const row = this.#rows.get(Math.floor(address / this.pageSize));
    return row < 0 ? -1 : this.slabOfRow[row]!;
  }

  /** Records page `pfn` as part of slab `slab`, all its bits clear. */
  add(pfn: number, slab: number): void {
    if (this.#freeCount === 0) this.#grow();
    const row = this.#free[--this.#freeCount]!;
    this.slabOfRow[row] = slab;
    this.bits.fill(0, row * this.wordsPerPage, (row + 1) * this.wordsPerPage);
    this.#rows.set(pfn, row);
  }

  /** Forgets page `pfn`. */
  remove(pfn: number): void {
    const row = this.#rows.get(pfn);
    this.#rows.delete(pfn);
    this.#free[this.#freeCount++] = row;
  }

  #bitIndex(address: number): number {
    const row = this.#rows.get(Math.floor(address / this.pageSize));
    return row * this.wordsPerPage * 32 + Math.floor((address % this.pageSize) / 8);
  }

  /** True when the object starting at `address` is handed out. */
  bit(address: number): boolean {
    const i = this.#bitIndex(address);
    return (this.bits[i >>> 5] & (1 << (i & 31))) !== 0;
  }
  setBit(address: number): void {
    const i = this.#bitIndex(address);
    this.bits[i >>> 5] |= 1 << (i & 31);
  }
  clearBit(address: number): void {
    const i = this.#bitIndex(address);
    this.bits[i >>> 5] &= ~(1 << (i & 31));
  }

  #take(from: number, to: number): void {
    for (let r = to - 1; r >= from; r--) this.#free[this.#freeCount++] = r;
    this.#capacity = to;
  }

  #grow(): void {
    const old = this.#capacity;
    const capacity = old * 2;
    const a = this.#arena;
    const owner = a.int32(capacity, "slab page owner");
    owner.set(this.slabOfRow);
    const bits = a.uint32(capacity * this.wordsPerPage, "slab allocation bits");
    bits.set(this.bits);
    const free = a.int32(capacity, "slab page free rows");
    a.release(this.slabOfRow);
    a.release(this.bits);
    a.release(this.#free);
    this.slabOfRow = owner;
    this.bits = bits;
    this.#free = free;
    this.#freeCount = 0;
    this.#take(old, capacity);
  }
}

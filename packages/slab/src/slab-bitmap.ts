import type { ArrayFactory } from "@mmkit/physmem";

/**
 * One bit per object of each slab of a cache: set while the object is handed out. It is what
 * tells a double free from an address never handed out without reading the user's bytes. Each
 * slab of the cache takes a row of `ceil(objectsPerSlab / 32)` words; rows are reused.
 *
 * Cost: O(1) per bit; 1 bit per object slot (rounded up to 32 per slab) outside the managed memory.
 *
 * @example
 * ```ts
 * const bits = new SlabBitmap(new MetadataArena(), "kmalloc-64", 63);
 * const row = bits.attach();
 * bits.set(row, 5);
 * bits.get(row, 5); // true
 * ```
 */
export class SlabBitmap {
  readonly words: number;
  #arena: ArrayFactory;
  #label: string;
  bits: Uint32Array;
  #free: Int32Array;
  #freeCount = 0;
  #rows = 0;

  constructor(arena: ArrayFactory, label: string, objectsPerSlab: number, rows = 4) {
    this.#arena = arena;
    this.#label = label;
    this.words = Math.ceil(objectsPerSlab / 32);
    this.bits = arena.uint32(rows * this.words, `${label} allocation bits`);
    this.#free = arena.int32(rows, `${label} bitmap free rows`);
    this.#take(0, rows);
  }

  /** A cleared row for a new slab. */
  attach(): number {
    if (this.#freeCount === 0) this.#grow();
    const row = this.#free[--this.#freeCount]!;
    this.bits.fill(0, row * this.words, (row + 1) * this.words);
    return row;
  }

  /** Gives a slab's row back. */
  detach(row: number): void {
    this.#free[this.#freeCount++] = row;
  }

  get(row: number, index: number): boolean {
    const i = row * this.words * 32 + index;
    return (this.bits[i >>> 5]! & (1 << (i & 31))) !== 0;
  }
  set(row: number, index: number): void {
    const i = row * this.words * 32 + index;
    this.bits[i >>> 5] |= 1 << (i & 31);
  }
  clear(row: number, index: number): void {
    const i = row * this.words * 32 + index;
    this.bits[i >>> 5] &= ~(1 << (i & 31));
  }

  #take(from: number, to: number): void {
    for (let r = to - 1; r >= from; r--) this.#free[this.#freeCount++] = r;
    this.#rows = to;
  }

  #grow(): void {
    const old = this.#rows;
    const rows = old * 2;
    const bits = this.#arena.uint32(rows * this.words, `${this.#label} allocation bits`);
    bits.set(this.bits);
    const free = this.#arena.int32(rows, `${this.#label} bitmap free rows`);
    this.#arena.release(this.bits);
    this.#arena.release(this.#free);
    this.bits = bits;
    this.#free = free;
    this.#freeCount = 0;
    this.#take(old, rows);
  }
}

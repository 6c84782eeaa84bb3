import type { ArrayFactory } from "@mmkit/physmem";

/**
 * The blocks a {@link FragmentCache} holds: the current one and every retired one that still has
 * live fragments. One slot per block in use, never one entry per page, so the metadata is
 * proportional to the blocks in use (20 bytes each), whatever the size of the memory behind them.
 *
 * | array | holds |
 * | --- | --- |
 * | `pfn` float64 | first page frame number, or -1 for a free slot |
 * | `order` int32 | 2^order pages |
 * | `refs` int32 | the block's reference count (the kernel's `page->_refcount` of the head page) |
 * | `nextFree` int32 | next free slot |
 *
 * Cost: `take` and `release` O(1); growth doubles, amortised O(1).
 *
 * @example
 * ```ts
 * const blocks = new BlockTable(new MetadataArena());
 * blocks.reserve();
 * const s = blocks.take(64, 3);
 * blocks.pfn[s];          // 64
 * blocks.release(s);
 * ```
 */
export class BlockTable {
  readonly #arena: ArrayFactory;
  pfn: Float64Array;
  order: Int32Array;
  refs: Int32Array;
  #nextFree: Int32Array;
  #free = -1;
  #inUse = 0;

  constructor(arena: ArrayFactory, initialSlots = 16) {
    this.#arena = arena;
    const n = Math.max(4, initialSlots);
    this.pfn = arena.float64(n, "frag-cache block pfn");
    this.order = arena.int32(n, "frag-cache block order");
    this.refs = arena.int32(n, "frag-cache block refcount");
    this.#nextFree = arena.int32(n, "frag-cache block next free");
    this.pfn.fill(-1);
    this.#link(0, n);
  }

  /** Blocks in use. */
  get inUse(): number {
    return this.#inUse;
  }
  /** Slots (in use and free). */
  get capacity(): number {
    return this.pfn.length;
  }

  /** Makes room for one more block; the only step of taking a block that can throw. */
  reserve(): void {
    if (this.#free === -1) this.#grow();
  }

  /** Records a block the page source gave (after {@link reserve}); returns its slot. */
  take(pfn: number, order: number): number {
    const s = this.#free;
    this.#free = this.#nextFree[s]!;
    this.pfn[s] = pfn;
    this.order[s] = order;
    this.refs[s] = 0;
    this.#inUse++;
    return s;
  }

  /** Frees slot `s` (its block went back to the page source). */
  release(s: number): void {
    this.pfn[s] = -1;
    this.refs[s] = 0;
    this.#nextFree[s] = this.#free;
    this.#free = s;
    this.#inUse--;
  }

  /** Number of slots on the free list (for `check()`). */
  countFree(): number {
    let n = 0;
    for (let s = this.#free; s !== -1; s = this.#nextFree[s]!) {
      if (this.pfn[s] !== -1) return -1;
      if (++n > this.pfn.length) return -1;
    }
    return n;
  }

  #link(from: number, to: number): void {
    for (let s = from; s < to; s++) this.#nextFree[s] = s + 1 < to ? s + 1 : this.#free;
    if (to > from) this.#free = from;
  }

  #grow(): void {
    const arena = this.#arena;
    const old = this.pfn.length;
    const n = old * 2;
    const made: (Float64Array | Int32Array)[] = [];
    try {
      made.push(arena.float64(n, "frag-cache block pfn"));
      made.push(arena.int32(n, "frag-cache block order"));
      made.push(arena.int32(n, "frag-cache block refcount"));
      made.push(arena.int32(n, "frag-cache block next free"));
    } catch (error) {
      for (const a of made) arena.release(a);
      throw error;
    }
    const [pfn, order, refs, nextFree] = made as [Float64Array, Int32Array, Int32Array, Int32Array];
    pfn.fill(-1);
    pfn.set(this.pfn);
    order.set(this.order);
    refs.set(this.refs);
    nextFree.set(this.#nextFree);
    arena.release(this.pfn);
    arena.release(this.order);
    arena.release(this.refs);
    arena.release(this.#nextFree);
    this.pfn = pfn;
    this.order = order;
    this.refs = refs;
    this.#nextFree = nextFree;
    this.#link(old, n);
  }
}

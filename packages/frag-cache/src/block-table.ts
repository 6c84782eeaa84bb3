import { ErrorCode, MmkitError, type ArrayFactory } from "@mmkit/physmem";

/**
 * The blocks a {@link FragmentCache} holds: the current one and every retired one that still has
 * live fragments. One slot per block in use, never one entry per page of memory.
 *
 * | array | label | holds |
 * | --- | --- | --- |
 * | `info` float64, 2 per slot | "frag-cache block info" | first byte address (-1: free slot) and reference count (the kernel's `page->_refcount` of the head page), side by side so `free` reads both in one line |
 * | `starts` int32, `words` per slot | "frag-cache fragment start bitmap" | bit `g % 32` of word `g / 32`: a live fragment starts at granule `g` (byte `16 g`) of the block |
 * | `ends` int32, `words` per slot | "frag-cache fragment end bitmap" | the same for the granule a fragment ends in, set when it is carved |
 * | `order` int32 | "frag-cache block order" | 2^order pages |
 * | `nextFree` int32 | "frag-cache block next free" | next free slot |
 *
 * The start bitmap is what makes misuse detection exact and cheap: an address is a live fragment's
 * iff its start bit is set, and `free` touches nothing else of the bitmaps. The end bitmap is only
 * read to find a fragment's size (`sizeOf`, `view`, `clearOnFree`, poison, `liveBytes`): the first
 * end bit at or after its start. Ends are not cleared by `free`: within one pass over a block
 * fragments are carved upwards, so an end bit left by a freed fragment lies below every later
 * fragment's start and is never mistaken for theirs; a slot's ends are cleared when its block is
 * recycled or given back. With 32 KiB blocks: 16 + 8 + 2 x 256 bytes per slot (1.6 % of the block).
 * A free slot's bitmaps are all zeros.
 *
 * Cost: `take` and `release` O(1); growth by half as much again, amortised O(1).
 *
 * @example
 * ```ts
 * const blocks = new BlockTable(new MetadataArena(), 32768);
 * blocks.reserve();
 * const s = blocks.take(65536, 3);
 * blocks.info[2 * s];     // 65536
 * blocks.release(s);
 * ```
 */
export class BlockTable {
  readonly #arena: ArrayFactory;
  /** Bitmap int32 words per slot (one per 32 granules of 16 bytes). */
  readonly words: number;
  info: Float64Array;
  starts: Int32Array;
  ends: Int32Array;
  order: Int32Array;
  #nextFree: Int32Array;
  #free = -1;
  #inUse = 0;

  constructor(arena: ArrayFactory, blockSize: number, initialSlots = 4) {
    this.#arena = arena;
    this.words = Math.ceil(blockSize / 16 / 32);
    const n = Math.max(4, initialSlots);
    this.info = arena.float64(2 * n, "frag-cache block info");
    this.starts = arena.int32(n * this.words, "frag-cache fragment start bitmap");
    this.ends = arena.int32(n * this.words, "frag-cache fragment end bitmap");
    this.order = arena.int32(n, "frag-cache block order");
    this.#nextFree = arena.int32(n, "frag-cache block next free");
    for (let s = 0; s < n; s++) this.info[2 * s] = -1;
    this.#link(0, n);
  }

  /** Blocks in use. */
  get inUse(): number {
    return this.#inUse;
  }
  /** Slots (in use and free). */
  get capacity(): number {
    return this.order.length;
  }

  /**
   * Makes room for one more block; the only step of taking a block that can throw:
   * `ERR_ARENA_SEALED`, or `ERR_OUT_OF_RANGE` when `slots x 2^pageShift` would pass 2^31 (the page-head
   * entries' limit: a cache holds fewer than 2^31 pages at once).
   */
  reserve(pageShift = 0): void {
    if (this.#free !== -1) return;
    if ((this.capacity + Math.ceil(this.capacity / 2)) * 2 ** pageShift >= 2 ** 31) {
      throw new MmkitError(ErrorCode.OutOfRange, `a fragment cache holds at most ${2 ** 31 / 2 ** pageShift} blocks of ${2 ** pageShift} pages at once; ${this.#inUse} are held`);
    }
    this.#grow();
  }

  /** Records a block the page source gave (after {@link reserve}), at byte address `base`; returns its slot. */
  take(base: number, order: number): number {
    const s = this.#free;
    this.#free = this.#nextFree[s]!;
    this.info[2 * s] = base;
    this.info[2 * s + 1] = 0;
    this.order[s] = order;
    this.#inUse++;
    return s;
  }

  /** Clears slot `s`'s end bitmap (its block is recycled or given back; its starts are all zero). */
  clearEnds(s: number): void {
    this.ends.fill(0, s * this.words, (s + 1) * this.words);
  }

  /** Frees slot `s` (its block went back to the page source; its start bitmap is all zeros). */
  release(s: number): void {
    this.clearEnds(s);
    this.info[2 * s] = -1;
    this.info[2 * s + 1] = 0;
    this.#nextFree[s] = this.#free;
    this.#free = s;
    this.#inUse--;
  }

  /** Number of slots on the free list, or -1 when the list is broken (for `check()`). */
  countFree(): number {
    let n = 0;
    for (let s = this.#free; s !== -1; s = this.#nextFree[s]!) {
      if (this.info[2 * s] !== -1) return -1;
      if (++n > this.capacity) return -1;
    }
    return n;
  }

  #link(from: number, to: number): void {
    for (let s = from; s < to; s++) this.#nextFree[s] = s + 1 < to ? s + 1 : this.#free;
    if (to > from) this.#free = from;
  }

  #grow(): void {
    const arena = this.#arena;
    const old = this.capacity;
    // Half as much again: the bitmaps make a slot 536 bytes, so a doubling would leave too much slack.
    const n = old + Math.ceil(old / 2);
    const made: (Float64Array | Int32Array)[] = [];
    try {
      made.push(arena.float64(2 * n, "frag-cache block info"));
      made.push(arena.int32(n * this.words, "frag-cache fragment start bitmap"));
      made.push(arena.int32(n * this.words, "frag-cache fragment end bitmap"));
      made.push(arena.int32(n, "frag-cache block order"));
      made.push(arena.int32(n, "frag-cache block next free"));
    } catch (error) {
      for (const a of made) arena.release(a);
      throw error;
    }
    const [info, starts, ends, order, nextFree] = made as [Float64Array, Int32Array, Int32Array, Int32Array, Int32Array];
    info.set(this.info);
    for (let s = old; s < n; s++) info[2 * s] = -1;
    starts.set(this.starts);
    ends.set(this.ends);
    order.set(this.order);
    nextFree.set(this.#nextFree);
    arena.release(this.info);
    arena.release(this.starts);
    arena.release(this.ends);
    arena.release(this.order);
    arena.release(this.#nextFree);
    this.info = info;
    this.starts = starts;
    this.ends = ends;
    this.order = order;
    this.#nextFree = nextFree;
    this.#link(old, n);
  }
}

import { ErrorCode, MmkitError, type ArrayFactory } from "@mmkit/physmem";

/** Int32 slots per table entry. */
const STRIDE = 4;
const TWO_POW_32 = 4294967296;

/**
 * The live fragments of a {@link FragmentCache}, indexed by address: one open-addressing table
 * whose entries hold everything `free` needs, so a free touches one 64-byte line of it.
 *
 * Layout: one arena `Int32Array`, 4 slots (16 bytes, four entries per cache line) per entry:
 *
 * | slot | holds |
 * | --- | --- |
 * | 0 | low 32 bits of the fragment's byte address |
 * | 1 | high bits of the address (`floor(address / 2^32)`) |
 * | 2 | the fragment's size in bytes; 0 marks an empty entry |
 * | 3 | the block slot the fragment was carved from |
 *
 * Linear probing over a power-of-two capacity kept at most half full, Fibonacci hashing of the
 * address, backward-shift deletion (no tombstones): a freed fragment's entry is gone at once, so
 * the table is proportional to the live fragments only.
 *
 * Cost: `insert`, `find` and `remove` O(1) expected (about 1.5 probes at half load, nearly always
 * within one cache line); growth doubles and rehashes, amortised O(1). Metadata: 16 bytes per entry,
 * 32 to 64 bytes per live fragment.
 *
 * @example
 * ```ts
 * const t = new FragmentTable(new MetadataArena());
 * t.reserve();
 * t.insert(8192, 64, 0);
 * const e = t.find(8192);
 * t.sizeAt(e);         // 64
 * t.find(8193);        // -1
 * ```
 */
export class FragmentTable {
  readonly #arena: ArrayFactory;
  #e: Int32Array;
  #mask: number;
  #shift: number;
  #count = 0;
  #limit: number;

  constructor(arena: ArrayFactory, initialCapacity = 256) {
    this.#arena = arena;
    const cap = Math.max(16, 2 ** Math.ceil(Math.log2(initialCapacity)));
    this.#e = arena.int32(cap * STRIDE, "frag-cache fragment table");
    this.#mask = cap - 1;
    this.#shift = 32 - Math.log2(cap);
    this.#limit = cap >>> 1;
  }

  /** Live fragments in the table. */
  get count(): number {
    return this.#count;
  }
  /** Entries (free and used). */
  get capacity(): number {
    return this.#mask + 1;
  }

  /**
   * Makes room for one more entry, doubling the table when it would pass half full. Call it before
   * mutating anything else: it is the only step of an allocation that can throw (a sealed arena).
   */
  reserve(): void {
    if (this.#count >= this.#limit) this.#grow();
  }

  /** Adds the fragment at `address` (after {@link reserve}; the address must not be in the table). */
  insert(address: number, size: number, slot: number): void {
    const e = this.#e;
    const lo = address | 0;
    const hi = (address / TWO_POW_32) | 0;
    const mask = this.#mask;
    let i = Math.imul(lo ^ Math.imul(hi, 0x27d4eb2f), 0x9e3779b1) >>> this.#shift;
    while (e[i * STRIDE + 2] !== 0) i = (i + 1) & mask;
    const o = i * STRIDE;
    e[o] = lo;
    e[o + 1] = hi;
    e[o + 2] = size;
    e[o + 3] = slot;
    this.#count++;
  }

  /** The entry of the live fragment at `address`, or -1. Anything that is not a number finds nothing. */
  find(address: number): number {
    const e = this.#e;
    const lo = address | 0;
    const hi = (address / TWO_POW_32) | 0;
    const mask = this.#mask;
    let i = Math.imul(lo ^ Math.imul(hi, 0x27d4eb2f), 0x9e3779b1) >>> this.#shift;
    for (;;) {
      const o = i * STRIDE;
      if (e[o + 2] === 0) return -1;
      if (e[o] === lo && e[o + 1] === hi && (lo >>> 0) + hi * TWO_POW_32 === address) return i;
      i = (i + 1) & mask;
    }
  }

  /** Size of the fragment in entry `i`. */
  sizeAt(i: number): number {
    return this.#e[i * STRIDE + 2]!;
  }
  /** Block slot of the fragment in entry `i`. */
  slotAt(i: number): number {
    return this.#e[i * STRIDE + 3]!;
  }
  /** Address of the fragment in entry `i`. */
  addressAt(i: number): number {
    const o = i * STRIDE;
    return (this.#e[o]! >>> 0) + this.#e[o + 1]! * TWO_POW_32;
  }

  /** Removes entry `i` (from {@link find}); later entries of its cluster shift back into the hole. */
  remove(i: number): void {
    const e = this.#e;
    const mask = this.#mask;
    const shift = this.#shift;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const oj = j * STRIDE;
      if (e[oj + 2] === 0) break;
      const home = Math.imul(e[oj]! ^ Math.imul(e[oj + 1]!, 0x27d4eb2f), 0x9e3779b1) >>> shift;
      // The entry at j stays unless its home is cyclically outside (i, j].
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (!stays) {
        const oi = i * STRIDE;
        e[oi] = e[oj]!;
        e[oi + 1] = e[oj + 1]!;
        e[oi + 2] = e[oj + 2]!;
        e[oi + 3] = e[oj + 3]!;
        i = j;
      }
    }
    e[i * STRIDE + 2] = 0;
    this.#count--;
  }

  /** Calls `fn(address, size, slot)` for every live fragment, in table order. O(capacity). */
  forEach(fn: (address: number, size: number, slot: number) => void): void {
    for (let i = 0; i <= this.#mask; i++) if (this.#e[i * STRIDE + 2] !== 0) fn(this.addressAt(i), this.sizeAt(i), this.slotAt(i));
  }

  /**
   * Validates the table: every entry is found from its home with no empty entry between (so no
   * key is unreachable or present twice), sizes are positive, the count agrees and the table is
   * at most half full. Returns the count. O(capacity).
   */
  check(): number {
    let n = 0;
    for (let i = 0; i <= this.#mask; i++) {
      const size = this.#e[i * STRIDE + 2]!;
      if (size === 0) continue;
      if (size < 0) invariant(`table entry ${i} has size ${size}`);
      const a = this.addressAt(i);
      if (this.find(a) !== i) invariant(`address ${a} at entry ${i} is not found from its home (or is in the table twice)`);
      n++;
    }
    if (n !== this.#count) invariant(`table holds ${n} fragments, counted ${this.#count}`);
    if (n > this.#limit) invariant(`table over half full: ${n} of ${this.capacity}`);
    return n;
  }

  #grow(): void {
    const old = this.#e;
    const cap = (this.#mask + 1) * 2;
    const e = this.#arena.int32(cap * STRIDE, "frag-cache fragment table"); // may throw: nothing changed yet
    this.#e = e;
    this.#mask = cap - 1;
    this.#shift = 32 - Math.log2(cap);
    this.#limit = cap >>> 1;
    const mask = this.#mask;
    for (let o = 0; o < old.length; o += STRIDE) {
      if (old[o + 2] === 0) continue;
      let i = Math.imul(old[o]! ^ Math.imul(old[o + 1]!, 0x27d4eb2f), 0x9e3779b1) >>> this.#shift;
      while (e[i * STRIDE + 2] !== 0) i = (i + 1) & mask;
      e.set(old.subarray(o, o + STRIDE), i * STRIDE);
    }
    this.#arena.release(old);
  }
}

function invariant(message: string): never {
  throw new MmkitError(ErrorCode.Invariant, `frag-cache: ${message}`);
}

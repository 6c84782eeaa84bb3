import { type ArrayFactory, ErrorCode, MetadataArena, MmkitError, describeValue, requireArrayFactory, requireInteger } from "@mmkit/physmem";
import { homeSlot } from "./block-table.js";
import type { DescriptorIndex } from "./descriptor-index.js";
import { requireOptions } from "./validate.js";

/**
 * Doubles per slot: the piece's first address (the key), the last address of its range (stored
 * as `-1 - last` for every piece but the range's first, which marks where a range begins), the value.
 */
const STRIDE = 3;
const P_START = 0;
const P_LAST = 1;
const P_VALUE = 2;
/** START of an empty slot (addresses are >= 0). */
const EMPTY = -1;
/** Fewest slots once the table holds anything (16 slots of 24 bytes). */
const INITIAL_SLOTS = 16;
/** Orders of a piece: 2^0 .. 2^53 bytes. */
const ORDERS = 54;
/** `counts` layout: pieces of each order, then the entries count, then the orders-in-use mask (low, high word). */
const C_PIECES = ORDERS;
const C_RANGES = ORDERS + 1;
const C_MASK_LO = ORDERS + 2;
const C_MASK_HI = ORDERS + 3;
const COUNTS = ORDERS + 4;

/**
 * Options for {@link AlignedBlockIndex}.
 *
 * @example
 * ```ts
 * const arena = new MetadataArena();
 * const index = new AlignedBlockIndex({ arena }); // its arrays are counted in arena.bytes
 * ```
 */
export interface AlignedBlockIndexOptions {
  /** Where the index gets its arrays (default: a new `MetadataArena`). */
  arena?: ArrayFactory;
}

/**
 * What an index reads before its first store: one empty slot and zero counts, shared and never
 * written (the first store replaces both with arena arrays), so an index that never holds a range
 * costs its arena nothing, like a POTAD whose allocations carry no descriptors.
 */
const NO_SLOTS = Float64Array.of(EMPTY, 0, 0);
const NO_COUNTS = new Float64Array(COUNTS);

/** `2^order` for orders 0..53, exact. */
const POW2 = Float64Array.from({ length: ORDERS + 1 }, (_, i) => 2 ** i);

/** Order of the largest aligned power-of-two piece that starts at `at` and ends at or before `last`. */
function pieceOrder(at: number, last: number): number {
  const length = last - at + 1;
  // The common case, a POTAD block: an aligned power of two up to 1 GiB, in integer operations.
  if (length <= 0x40000000 && (length & (length - 1)) === 0 && ((at >>> 0) & (length - 1)) === 0) return 31 - Math.clz32(length);
  let order = Math.floor(Math.log2(length));
  // log2 rounds up just below a large power of two.
  if (POW2[order]! > length) order--;
  if (at !== 0) {
    const alignment = lowestBit(at);
    if (alignment < order) order = alignment;
  }
  return order;
}

/** Index of the lowest set bit of a positive safe integer. */
function lowestBit(x: number): number {
  const lo = x >>> 0;
  if (lo !== 0) return 31 - Math.clz32(lo & -lo);
  const hi = Math.floor(x / 4294967296) >>> 0;
  return 63 - Math.clz32(hi & -hi);
}

/** `x` rounded down to a multiple of `2^order` (x a safe integer >= 0). */
function alignDown(x: number, order: number): number {
  if (order < 31) return x - ((x >>> 0) & ((1 << order) - 1));
  return x - (x % POW2[order]!);
}

/**
 * POTAD's default {@link DescriptorIndex}: finds the range holding an address by hashing, not by
 * searching. Every range is kept as the aligned power-of-two pieces it splits into (one piece for
 * a POTAD block, which is aligned to its size; a few for a contiguous allocation with a weaker
 * alignment), each in its own slot of an open-addressing hash table keyed by the piece's first
 * address. Aligned pieces never straddle: the piece holding address `a`, if any, starts at `a`
 * rounded down to its own size, so a lookup probes one key per piece order in use (a bit mask
 * of them is kept), smallest first, and stops at the first piece that reaches `a`.
 *
 * Layout (all in arena arrays, nothing per range on the JS heap):
 *
 * | array                            | per              | what                                                        |
 * | -------------------------------- | ---------------- | ----------------------------------------------------------- |
 * | `potad descriptor index`         | slot, 24 bytes   | piece start (-1: empty), range last (`-1 - last` past the range's first piece), value |
 * | `potad descriptor index orders`  | index, 464 bytes | pieces per order, pieces, ranges, mask of orders in use     |
 *
 * Both arrays are taken at the first `store`; an index that never holds a range costs nothing.
 * A POTAD block is one piece: 24 bytes in a table at most half full, 48 bytes per descriptor at
 * worst (the sorted array it replaces took 24, but every store and erase moved the ones after).
 *
 * Linear probing with backward-shift deletion (no tombstones), at most half the slots live,
 * Fibonacci hashing of the address (the block table's `homeSlot`).
 *
 * Cost, independent of how many ranges are stored: `load` one hash probe per piece order in use
 * (8 for POTAD's 512 B..64 KiB churn, each one or two cache lines); `erase` one probe when given a
 * range's first address (POTAD's free), plus one per further piece; `store` per piece a key probe,
 * one probe per larger order in use, and an insert. `store` may grow the table (doubling, O(n) once); `erase` never
 * allocates, so POTAD's free never does.
 *
 * Overlap: aligned power-of-two pieces never straddle each other (two of them are disjoint or one
 * holds the other), so `store` refuses (`ERR_OCCUPIED`, nothing changed) exactly the ranges in
 * which the start of some piece is already covered, with one key probe per piece plus one probe
 * per larger order in use. A stored range lying strictly inside one of the new pieces, clear of
 * its start, is not detected there (that would need a search over the addresses inside it); the
 * interface's contract is that POTAD never stores over an occupied range, and {@link check}
 * reports such an overlap.
 *
 * @example
 * ```ts
 * const index = new AlignedBlockIndex();
 * index.store(4096, 8191, 7);          // one 4 KiB piece
 * index.store(3 << 20, (6 << 20) - 1, 9); // 3 MiB at 1 MiB: pieces of 1 MiB and 2 MiB
 * index.load(5000);                    // 7
 * index.load(5 << 20);                 // 9
 * index.erase(3 << 20);                // 9 (both pieces go)
 * index.size;                          // 1
 * ```
 */
export class AlignedBlockIndex implements DescriptorIndex {
  #arena: ArrayFactory;
  /** The slots; replaced when the table grows. */
  #table: Float64Array;
  /** Per-order piece counts and totals (see C_*). */
  #counts: Float64Array;
  #mask = 0;
  #shift = 32;
  /** Whether a range was ever stored with `store` (then `storeVacant` checks overlaps too). */
  #checkedStores = false;
  /** Scratch: the range {@link #rangeOf} found (read right after, never kept). */
  readonly #range = new Float64Array(2);

  constructor(options: AlignedBlockIndexOptions = {}) {
    requireOptions(options, "index options");
    if (options.arena !== undefined) requireArrayFactory(options.arena);
    this.#arena = options.arena === undefined ? new MetadataArena() : options.arena;
    // One empty slot until the first store: a lookup in an empty index needs no special case.
    this.#table = NO_SLOTS;
    this.#counts = NO_COUNTS;
  }

  /** Ranges stored. */
  get size(): number {
    return this.#counts[C_RANGES]!;
  }

  /** Pieces stored (a range is one piece when it is an aligned power of two). */
  get pieces(): number {
    return this.#counts[C_PIECES]!;
  }

  /** Slots in the hash table. */
  get capacity(): number {
    return this.#mask + 1;
  }

  /**
   * Maps `[first, last]` to `value`. Throws `ERR_OCCUPIED` (changing nothing) when a stored range
   * covers the start of one of its pieces (see the class comment), `ERR_INVALID_ARGUMENT` /
   * `ERR_OUT_OF_RANGE` for bad bounds or a value that is not a finite number.
   *
   * Cost: per piece, a key probe and one probe per larger order in use, then an insert. A POTAD
   * block is one piece.
   *
   * @example
   * ```ts
   * index.store(0, 511, 1);
   * index.store(256, 1023, 2); // throws ERR_OCCUPIED: [256, 1023] overlaps the stored range [0, 511]
   * ```
   */
  store(first: number, last: number, value: number): void {
    requireInteger(first, "first");
    requireInteger(last, "last", first);
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new MmkitError(ErrorCode.InvalidArgument, `value must be a finite number, got ${describeValue(value)}`);
    }
    let covered = -1;
    let pieces = 0;
    let slot = -1;
    for (let at = first; at <= last; pieces++) {
      // A stored piece covering `at` either starts there or is larger than the new piece there.
      const order = pieceOrder(at, last);
      const found = this.#find(at);
      if (found >= 0) {
        covered = found;
        break;
      }
      if (at === first) slot = ~found;
      covered = this.#containing(at, order);
      if (covered >= 0) break;
      at += POW2[order]!;
    }
    if (covered >= 0) {
      this.#rangeOf(covered);
      throw new MmkitError(ErrorCode.Occupied, `range [${first}, ${last}] overlaps the stored range [${this.#range[0]}, ${this.#range[1]}]`);
    }
    // Without growth, the first piece goes where its key probe ended (the slot insert would take).
    this.#put(first, last, value, pieces, this.#reserve(pieces) ? -1 : slot);
    this.#checkedStores = true;
  }

  /**
   * {@link store} for a range the caller knows overlaps nothing it stored itself (POTAD's newly
   * allocated block: POTAD stores only its allocated blocks, which never overlap a free one): the same
   * validation and layout, without the overlap probes while every range stored so far came through
   * `storeVacant`. Once a range has been stored with `store` (someone else writing into the index,
   * such as a user registering a foreign range in POTAD's own index), `storeVacant` checks as `store`
   * does from then on, so such a range is still refused with `ERR_OCCUPIED`. A range that does
   * overlap one stored through `storeVacant` corrupts the index ({@link check} reports it).
   *
   * Cost: per piece one insert (a POTAD block is one piece), where `store` also probes the piece's
   * key and every larger order in use (up to 7 more probes for POTAD's 512 B..64 KiB churn, each a
   * likely cache miss at a million ranges).
   *
   * @example
   * ```ts
   * index.storeVacant(8192, 16383, 3);
   * index.load(9000); // 3
   * ```
   */
  storeVacant(first: number, last: number, value: number): void {
    if (this.#checkedStores) {
      this.store(first, last, value);
      return;
    }
    requireInteger(first, "first");
    requireInteger(last, "last", first);
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new MmkitError(ErrorCode.InvalidArgument, `value must be a finite number, got ${describeValue(value)}`);
    }
    let pieces = 0;
    for (let at = first; at <= last; pieces++) at += POW2[pieceOrder(at, last)]!;
    this.#reserve(pieces);
    this.#put(first, last, value, pieces, -1);
  }

  /** Writes the pieces of `[first, last]` (room reserved; `slot`: where the first goes, or -1 to probe). */
  #put(first: number, last: number, value: number, pieces: number, slot: number): void {
    const counts = this.#counts;
    for (let at = first; at <= last; ) {
      const order = pieceOrder(at, last);
      const o = (slot >= 0 ? slot : this.#insert(at)) * STRIDE;
      slot = -1;
      const t = this.#table;
      t[o + P_START] = at;
      t[o + P_LAST] = at === first ? last : -1 - last;
      t[o + P_VALUE] = value;
      if (counts[order]++ === 0) this.#flipOrder(order);
      at += POW2[order]!;
    }
    counts[C_PIECES] += pieces;
    counts[C_RANGES]++;
  }

  /**
   * Removes the range containing `index` and returns its value (`undefined` when none). Throws
   * (changing nothing) for an index that is not a non-negative safe integer. Never allocates.
   *
   * Cost: one probe when `index` is the range's first address (POTAD's free), else a {@link load}
   * and one more per piece before the one holding `index`; then one probe per further piece.
   *
   * @example
   * ```ts
   * index.store(4096, 8191, 7);
   * index.erase(4096); // 7
   * index.erase(4096); // undefined
   * ```
   */
  erase(index: number): number | undefined {
    if (!Number.isSafeInteger(index) || index < 0) requireInteger(index, "index");
    const t = this.#table;
    let slot = this.#find(index);
    let head = index;
    let last = slot >= 0 ? t[slot * STRIDE + P_LAST]! : -1;
    if (last < 0) {
      // Not a range's first address (POTAD frees by it): find the range and its first piece.
      slot = this.#containing(index, -1);
      if (slot < 0) return undefined;
      this.#rangeOf(slot);
      head = this.#range[0]!;
      last = this.#range[1]!;
      slot = this.#find(head);
    }
    const value = t[slot * STRIDE + P_VALUE]!;
    const counts = this.#counts;
    let pieces = 0;
    for (let at = head; at <= last; pieces++) {
      const order = pieceOrder(at, last);
      this.#removeAt(pieces === 0 ? slot : this.#find(at));
      if (--counts[order] === 0) this.#flipOrder(order);
      at += POW2[order]!;
    }
    counts[C_PIECES] -= pieces;
    counts[C_RANGES]--;
    return value;
  }

  /**
   * The value of the range containing `index`, or `undefined`. Throws for an index that is not a
   * non-negative safe integer (keys are byte addresses).
   *
   * Cost: one hash probe per piece order in use, smallest order first, stopping at the hit.
   *
   * @example
   * ```ts
   * index.store(8192, 16383, 3);
   * index.load(9000);  // 3
   * index.load(16384); // undefined
   * ```
   */
  load(index: number): number | undefined {
    if (!Number.isSafeInteger(index) || index < 0) requireInteger(index, "index");
    const slot = this.#containing(index, -1);
    return slot < 0 ? undefined : this.#table[slot * STRIDE + P_VALUE];
  }

  /** Every range in order of first address, as `[first, last, value]` (O(n log n), for tests and reports). */
  entries(): Array<[number, number, number]> {
    const t = this.#table;
    const out: Array<[number, number, number]> = [];
    for (let i = 0; i <= this.#mask; i++) {
      const o = i * STRIDE;
      if (t[o + P_START] !== EMPTY && t[o + P_LAST]! >= 0) out.push([t[o + P_START]!, t[o + P_LAST]!, t[o + P_VALUE]!]);
    }
    return out.sort((x, y) => x[0] - y[0]);
  }

  /**
   * Validates every invariant and throws `ERR_INVARIANT` on the first broken one: every piece is
   * found by its key; every range is stored as its canonical split (largest aligned piece first),
   * each piece with the range's last address, value and first-piece mark; no two ranges overlap;
   * the per-order counts, the mask of orders in use, the range and piece totals; at most half the
   * slots live. O(n log n).
   *
   * @example
   * ```ts
   * index.check(); // throws MmkitError(ERR_INVARIANT) or returns
   * ```
   */
  check(): void {
    const t = this.#table;
    const counts = this.#counts;
    const perOrder = new Float64Array(ORDERS);
    let live = 0;
    for (let i = 0; i <= this.#mask; i++) {
      const start = t[i * STRIDE + P_START]!;
      if (start === EMPTY) continue;
      live++;
      if (this.#find(start) !== i) fail(`piece at ${start} is not found by its address`);
    }
    const ranges = this.entries();
    let pieces = 0;
    let prevLast = -1;
    for (const [first, last, value] of ranges) {
      if (first <= prevLast) fail(`ranges ending at ${prevLast} and starting at ${first} overlap`);
      if (last < first) fail(`range at ${first} ends at ${last}, before it starts`);
      prevLast = last;
      for (let at = first; at <= last; pieces++) {
        const order = pieceOrder(at, last);
        const s = this.#find(at);
        const mark = at === first ? last : -1 - last;
        if (s < 0 || t[s * STRIDE + P_LAST] !== mark || t[s * STRIDE + P_VALUE] !== value) fail(`range [${first}, ${last}] is not stored as its canonical pieces at ${at}`);
        perOrder[order]!++;
        at += POW2[order]!;
      }
    }
    if (pieces !== live) fail(`${live} pieces live, ${pieces} belong to ranges`);
    for (let order = 0; order < ORDERS; order++) {
      if (counts[order] !== perOrder[order]) fail(`${perOrder[order]} pieces of order ${order}, ${counts[order]} counted`);
      if (this.#usesOrder(order) !== perOrder[order]! > 0) fail(`order ${order} is ${this.#usesOrder(order) ? "" : "not "}in the mask with ${perOrder[order]} pieces`);
    }
    if (counts[C_PIECES] !== live) fail(`${live} pieces live, ${counts[C_PIECES]} counted`);
    if (counts[C_RANGES] !== ranges.length) fail(`${ranges.length} ranges live, ${counts[C_RANGES]} counted`);
    if (live * 2 > this.#mask + 1) fail(`${live} pieces in ${this.#mask + 1} slots: load above 1/2`);
  }

  /** Slot of the piece keyed by `key`; when there is none, `~slot` of the empty slot its probe ended on (negative). */
  #find(key: number): number {
    const t = this.#table;
    const mask = this.#mask;
    let i = homeSlot(key, this.#shift) & mask;
    for (;;) {
      const k = t[i * STRIDE + P_START]!;
      if (k === key) return i;
      if (k === EMPTY) return ~i;
      i = (i + 1) & mask;
    }
  }

  /**
   * Slot of a piece of an order above `above` (-1: any) that contains `index` (a valid key), or -1:
   * one probe per such order in use, smallest first. A piece keyed at `index` rounded down to an
   * order in use belongs to a range that starts at or before it, so it holds `index` exactly when
   * that range ends at or after `index`.
   */
  #containing(index: number, above: number): number {
    const counts = this.#counts;
    const s = this.#containingIn(index, (counts[C_MASK_LO]! | 0) & (above < 0 ? -1 : above >= 31 ? 0 : ~((2 << above) - 1)), 0);
    if (s >= 0) return s;
    return this.#containingIn(index, (counts[C_MASK_HI]! | 0) & (above < 32 ? -1 : ~((2 << (above - 32)) - 1)), 32);
  }

  /** {@link #containing} over the orders `base + bit` of the bits set in `orders`, lowest first. */
  #containingIn(index: number, orders: number, base: number): number {
    for (let m = orders; m !== 0; m &= m - 1) {
      const s = this.#find(alignDown(index, base + 31 - Math.clz32(m & -m)));
      if (s >= 0) {
        const l = this.#table[s * STRIDE + P_LAST]!;
        if ((l < 0 ? -1 - l : l) >= index) return s;
      }
    }
    return -1;
  }

  /** `[first, last]` of the range the piece in `slot` belongs to, into {@link #range}: walks back to its first piece. */
  #rangeOf(slot: number): void {
    const t = this.#table;
    let at = t[slot * STRIDE + P_START]!;
    let mark = t[slot * STRIDE + P_LAST]!;
    while (mark < 0) {
      // The piece before ends at at - 1 and belongs to the same range.
      const s = this.#containing(at - 1, -1);
      at = t[s * STRIDE + P_START]!;
      mark = t[s * STRIDE + P_LAST]!;
    }
    this.#range[0] = at;
    this.#range[1] = mark;
  }

  #usesOrder(order: number): boolean {
    const word = order < 32 ? this.#counts[C_MASK_LO]! | 0 : this.#counts[C_MASK_HI]! | 0;
    return ((word >>> (order & 31)) & 1) === 1;
  }

  /** Toggles `order` in the mask of orders in use (its count just became 1 or 0). */
  #flipOrder(order: number): void {
    const c = this.#counts;
    if (order < 32) c[C_MASK_LO] = (c[C_MASK_LO]! | 0) ^ (1 << order);
    else c[C_MASK_HI] = (c[C_MASK_HI]! | 0) ^ (1 << (order - 32));
  }

  /** Makes room for `count` more pieces at load <= 1/2, before anything changes; true when the table grew. */
  #reserve(count: number): boolean {
    const need = (this.#counts[C_PIECES]! + count) * 2;
    const capacity = this.#mask + 1;
    if (need <= capacity && capacity > 1) return false;
    let next = Math.max(capacity * 2, INITIAL_SLOTS);
    while (next < need) next *= 2;
    if (this.#counts === NO_COUNTS) this.#counts = this.#arena.float64(COUNTS, "potad descriptor index orders");
    const old = this.#table;
    const table = this.#arena.float64(next * STRIDE, "potad descriptor index");
    for (let i = 0; i < next; i++) table[i * STRIDE + P_START] = EMPTY;
    this.#table = table;
    this.#mask = next - 1;
    this.#shift = 32 - Math.log2(next);
    for (let i = 0; i < capacity; i++) {
      const o = i * STRIDE;
      if (old[o + P_START] === EMPTY) continue;
      const n = this.#insert(old[o + P_START]!) * STRIDE;
      for (let f = 1; f < STRIDE; f++) table[n + f] = old[o + f]!;
    }
    if (old !== NO_SLOTS) this.#arena.release(old);
    return true;
  }

  /** Claims a slot for `key` (absent; room reserved) and returns it with only its key written. */
  #insert(key: number): number {
    const t = this.#table;
    const mask = this.#mask;
    let i = homeSlot(key, this.#shift) & mask;
    while (t[i * STRIDE + P_START] !== EMPTY) i = (i + 1) & mask;
    t[i * STRIDE + P_START] = key;
    return i;
  }

  /** Empties slot `i`, shifting later pieces of its probe run back. */
  #removeAt(i: number): void {
    const t = this.#table;
    const mask = this.#mask;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const jo = j * STRIDE;
      const k = t[jo + P_START]!;
      if (k === EMPTY) break;
      const h = homeSlot(k, this.#shift) & mask;
      // Move the piece at j back to i unless its home lies cyclically in (i, j].
      if (i <= j ? h <= i || h > j : h <= i && h > j) {
        const io = i * STRIDE;
        for (let f = 0; f < STRIDE; f++) t[io + f] = t[jo + f]!;
        i = j;
      }
    }
    t[i * STRIDE + P_START] = EMPTY;
  }
}

function fail(message: string): never {
  throw new MmkitError(ErrorCode.Invariant, `descriptor index: ${message}`);
}

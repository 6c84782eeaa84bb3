import { type ArrayFactory, ErrorCode, MmkitError } from "@mmkit/physmem";
import { EMPTY, HASH_MIX, HASH_MUL, HASH_ROTATE, RECORD_STRIDE, TWO_POW_MINUS_32, R_ADDR, R_STATE, UNUSED } from "./layout.js";

const INITIAL_SLOTS = 128;

/**
 * Home slot of the address `key` in a table of `2^(32 - shift)` slots (`shift` 32: one slot, 0):
 * the low word xor the mixed high word, rotated right by {@link HASH_ROTATE} so that a 4 KiB page's
 * number becomes the low bits, then Fibonacci hashing (the top bits of a product with 2^32 / phi).
 * Page-aligned addresses are multiples of 4096, so without the rotation the product would keep 12
 * zero bits and its top bits would come from fewer bits of the page number; with it, the dense page
 * numbers of a RAM space are spread by the golden ratio (three-distance theorem) and sit on their home
 * slot more often than random keys would (on the bench churn, 0.10 slots past home on average at
 * 10000 live blocks, against 0.28 without the rotation and 0.24 for random keys). Integer
 * operations only: V8 inlines it at every probe.
 */
export function homeSlot(key: number, shift: number): number {
  const x = (key >>> 0) ^ Math.imul((key * TWO_POW_MINUS_32) | 0, HASH_MIX);
  return Math.imul((x >>> HASH_ROTATE) | (x << (32 - HASH_ROTATE)), HASH_MUL) >>> shift;
}

/**
 * The block records, stored in place in an open-addressing hash table keyed by address (layout in
 * `layout.ts`): the slot a lookup lands on *is* the record, so finding a block touches one line
 * when it sits on its home slot. At most half the slots are live; growth happens only in
 * {@link reserve}, which allocation calls before it changes anything, never while freeing.
 *
 * Removal shifts later records of the probe run back (no tombstones), so a slot number is valid
 * only until the next {@link removeAt}; links between records are addresses for that reason.
 *
 * Cost: `find`, `insert`, `removeAt` are O(1) expected (load <= 1/2); `find` touches the home line
 * and one more per displaced slot; `removeAt` moves at most the rest of the probe run.
 *
 * @example
 * ```ts
 * const table = new BlockTable(new MetadataArena());
 * table.reserve(1);
 * const r = table.insert(4096);      // the slot now keyed by 4096
 * table.records[r * 8 + 3] = 12;     // LOG2
 * table.find(4096);                  // r
 * table.removeAt(r);
 * table.find(4096);                  // -1
 * ```
 */
export class BlockTable {
  /** The slots, 8 doubles each; replaced when the table grows (re-read after {@link reserve}). */
  records: Float64Array;
  #arena: ArrayFactory;
  /** Slots - 1 (the table is a power of two); read-only for callers, which may inline {@link find}. */
  mask = 0;
  /** 32 - log2(slots): {@link home} keeps the top bits of the product. Read-only for callers. */
  shift = 32;
  #capacity = 0;
  #entries = 0;

  constructor(arena: ArrayFactory) {
    this.#arena = arena;
    // One empty slot, so a lookup in an empty table needs no special case (mask 0: every key homes there).
    this.records = arena.float64(RECORD_STRIDE, "potad blocks");
    this.records[R_ADDR] = EMPTY;
    this.#capacity = 1;
    this.mask = 0;
  }

  /** Slots in the table. */
  get capacity(): number {
    return this.#capacity;
  }
  /** Records in use. */
  get used(): number {
    return this.#entries;
  }

  /** Makes sure `count` records can be inserted without growing. Call before mutating anything. */
  reserve(count: number): void {
    const need = this.#entries + count;
    if (need * 2 <= this.#capacity) return;
    let capacity = Math.max(this.#capacity * 2, INITIAL_SLOTS);
    while (capacity < need * 2) capacity *= 2;
    this.#grow(capacity);
  }

  /** Home slot of `key`. */
  home(key: number): number {
    return homeSlot(key, this.shift);
  }

  /** Slot of the record whose block starts at `key`, or -1. */
  find(key: number): number {
    const rec = this.records;
    const mask = this.mask;
    let i = this.home(key) & mask;
    for (;;) {
      const k = rec[i * RECORD_STRIDE + R_ADDR]!;
      if (k === key) return i;
      if (k === EMPTY) return -1;
      i = (i + 1) & mask;
    }
  }

  /**
   * Claims a slot for `key` (which must not be present; a prior {@link reserve} guarantees room)
   * and returns it with only ADDR written.
   */
  insert(key: number): number {
    if ((this.#entries + 1) * 2 > this.#capacity) throw new MmkitError(ErrorCode.Invariant, "potad: block table full (reserve was not called)");
    const rec = this.records;
    const mask = this.mask;
    let i = this.home(key) & mask;
    while (rec[i * RECORD_STRIDE + R_ADDR] !== EMPTY) i = (i + 1) & mask;
    rec[i * RECORD_STRIDE + R_ADDR] = key;
    this.#entries++;
    return i;
  }

  /** Empties slot `i`, shifting later records of its run back (their slots change). */
  removeAt(i: number): void {
    const rec = this.records;
    const mask = this.mask;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const jo = j * RECORD_STRIDE;
      const k = rec[jo + R_ADDR]!;
      if (k === EMPTY) break;
      const h = this.home(k);
      // Move the record at j back to i unless its home lies cyclically in (i, j].
      if (i <= j ? h <= i || h > j : h <= i && h > j) {
        const io = i * RECORD_STRIDE;
        for (let f = 0; f < RECORD_STRIDE; f++) rec[io + f] = rec[jo + f]!;
        i = j;
      }
    }
    const io = i * RECORD_STRIDE;
    rec[io + R_ADDR] = EMPTY;
    rec[io + R_STATE] = UNUSED;
    this.#entries--;
  }

  /** Validates the table: every live record is found at its slot, and the count. Returns it. */
  check(): number {
    const rec = this.records;
    let live = 0;
    for (let i = 0; i < this.#capacity; i++) {
      const o = i * RECORD_STRIDE;
      const key = rec[o + R_ADDR]!;
      if (key === EMPTY) {
        if (rec[o + R_STATE] !== UNUSED) fail(`empty slot ${i} has state ${rec[o + R_STATE]}`);
        continue;
      }
      live++;
      if (rec[o + R_STATE] === UNUSED) fail(`slot ${i} (address ${key}) has no state`);
      if (this.find(key) !== i) fail(`slot ${i} (address ${key}) is not found by its address`);
    }
    if (live !== this.#entries) fail(`${live} records live, ${this.#entries} counted`);
    if (live * 2 > this.#capacity) fail(`${live} records in ${this.#capacity} slots: load above 1/2`);
    return live;
  }

  #grow(capacity: number): void {
    const old = this.records;
    const oldCapacity = this.#capacity;
    const records = this.#arena.float64(capacity * RECORD_STRIDE, "potad blocks");
    for (let i = 0; i < capacity; i++) records[i * RECORD_STRIDE + R_ADDR] = EMPTY;
    this.records = records;
    this.#capacity = capacity;
    this.mask = capacity - 1;
    this.shift = 32 - Math.log2(capacity);
    for (let i = 0; i < oldCapacity; i++) {
      const o = i * RECORD_STRIDE;
      const key = old[o + R_ADDR]!;
      if (key === EMPTY) continue;
      let j = this.home(key);
      while (records[j * RECORD_STRIDE + R_ADDR] !== EMPTY) j = (j + 1) & this.mask;
      const jo = j * RECORD_STRIDE;
      for (let f = 0; f < RECORD_STRIDE; f++) records[jo + f] = old[o + f]!;
    }
    this.#arena.release(old);
  }
}

function fail(message: string): never {
  throw new MmkitError(ErrorCode.Invariant, `potad: ${message}`);
}

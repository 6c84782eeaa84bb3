import { type ArrayFactory, ErrorCode, MmkitError } from "@mmkit/physmem";
import { RECORD_STRIDE, R_ADDR, R_NEXT, R_STATE, UNUSED } from "./layout.js";

const EMPTY = -1;
const INITIAL_RECORDS = 64;

/**
 * The block records and the address hash that finds them (layout in `layout.ts`). Records come
 * from a pool threaded through their NEXT field; the hash always has two slots per record of
 * capacity, so whatever records exist can be hashed without growing it: growth happens only in
 * {@link reserve}, which allocation calls before it changes anything, never while freeing.
 *
 * Cost: `find`, `insert`, `remove` are O(1) expected (load factor <= 1/2), usually one hash line;
 * `take`/`give` are O(1) and touch only the record itself.
 *
 * @example
 * ```ts
 * const table = new BlockTable(new MetadataArena());
 * table.reserve(1);
 * const r = table.take();
 * table.records[r * 8] = 4096;
 * table.insert(4096, r);
 * table.find(4096);   // r
 * ```
 */
export class BlockTable {
  /** The records, 8 doubles each; replaced when the table grows (re-read after {@link reserve}). */
  records: Float64Array;
  /** The hash slots, [key, record] pairs. */
  slots: Float64Array;
  #arena: ArrayFactory;
  #capacity = 0;
  #spare = 0;
  #poolHead = -1;
  #mask = 0;
  #shift = 0;
  #entries = 0;

  constructor(arena: ArrayFactory) {
    this.#arena = arena;
    this.records = arena.float64(0, "potad blocks");
    this.slots = arena.float64(0, "potad hash");
  }

  /** Records the table has room for. */
  get capacity(): number {
    return this.#capacity;
  }
  /** Records in use. */
  get used(): number {
    return this.#capacity - this.#spare;
  }
  /** Keys in the hash. */
  get entries(): number {
    return this.#entries;
  }

  /** Makes sure `count` records can be taken without growing. Call before mutating anything. */
  reserve(count: number): void {
    if (this.#spare >= count) return;
    let capacity = Math.max(this.#capacity * 2, INITIAL_RECORDS);
    while (capacity - this.used < count) capacity *= 2;
    this.#grow(capacity);
  }

  /** Takes a record from the pool (a prior {@link reserve} guarantees there is one). */
  take(): number {
    const r = this.#poolHead;
    if (r < 0) throw new MmkitError(ErrorCode.Invariant, "potad: record pool empty (reserve was not called)");
    this.#poolHead = this.records[r * RECORD_STRIDE + R_NEXT]!;
    this.#spare--;
    return r;
  }

  /** Returns a record to the pool. */
  give(r: number): void {
    const rec = this.records;
    const o = r * RECORD_STRIDE;
    rec[o + R_STATE] = UNUSED;
    rec[o + R_NEXT] = this.#poolHead;
    this.#poolHead = r;
    this.#spare++;
  }

  /** Home slot of `key`. */
  home(key: number): number {
    const lo = key >>> 0;
    const hi = (key / 4294967296) | 0;
    return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> this.#shift;
  }

  /** Record whose block starts at `key`, or -1. */
  find(key: number): number {
    if (this.#entries === 0) return -1;
    const slots = this.slots;
    const mask = this.#mask;
    let i = this.home(key);
    for (;;) {
      const k = slots[2 * i]!;
      if (k === key) return slots[2 * i + 1]!;
      if (k === EMPTY) return -1;
      i = (i + 1) & mask;
    }
  }

  /** Hashes record `r` under `key` (which must not be present). */
  insert(key: number, r: number): void {
    const slots = this.slots;
    const mask = this.#mask;
    let i = this.home(key);
    while (slots[2 * i] !== EMPTY) i = (i + 1) & mask;
    slots[2 * i] = key;
    slots[2 * i + 1] = r;
    this.#entries++;
  }

  /** Removes `key` (which must be present), shifting later entries of its run back. */
  remove(key: number): void {
    const slots = this.slots;
    const mask = this.#mask;
    let i = this.home(key);
    while (slots[2 * i] !== key) i = (i + 1) & mask;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const k = slots[2 * j]!;
      if (k === EMPTY) break;
      const h = this.home(k);
      // Move the entry at j back to i unless its home lies cyclically in (i, j].
      if (i <= j ? h <= i || h > j : h <= i && h > j) {
        slots[2 * i] = k;
        slots[2 * i + 1] = slots[2 * j + 1]!;
        i = j;
      }
    }
    slots[2 * i] = EMPTY;
    this.#entries--;
  }

  /** Validates the pool and the hash against the records; returns the number of records in use. */
  check(): number {
    const rec = this.records;
    let pooled = 0;
    for (let r = this.#poolHead; r >= 0; r = rec[r * RECORD_STRIDE + R_NEXT]!) {
      if (rec[r * RECORD_STRIDE + R_STATE] !== UNUSED) fail(`pooled record ${r} is in use`);
      if (++pooled > this.#capacity) fail("record pool has a cycle");
    }
    if (pooled !== this.#spare) fail(`record pool holds ${pooled} records, expected ${this.#spare}`);
    let live = 0;
    for (let r = 0; r < this.#capacity; r++) {
      if (rec[r * RECORD_STRIDE + R_STATE] === UNUSED) continue;
      live++;
      const key = rec[r * RECORD_STRIDE + R_ADDR]!;
      if (this.find(key) !== r) fail(`record ${r} (address ${key}) is not found by its address`);
    }
    if (live !== this.used) fail(`${live} records in use, expected ${this.used}`);
    let occupied = 0;
    const slots = this.slots;
    for (let i = 0; i <= this.#mask && this.#capacity > 0; i++) {
      if (slots[2 * i] === EMPTY) continue;
      occupied++;
      const r = slots[2 * i + 1]!;
      if (rec[r * RECORD_STRIDE + R_STATE] === UNUSED || rec[r * RECORD_STRIDE + R_ADDR] !== slots[2 * i]) fail(`hash slot ${i} names record ${r}, which does not hold its key`);
    }
    if (occupied !== this.#entries || occupied !== live) fail(`hash holds ${occupied} keys, ${this.#entries} counted, ${live} records live`);
    return live;
  }

  #grow(capacity: number): void {
    const old = this.records;
    const records = this.#arena.float64(capacity * RECORD_STRIDE, "potad blocks");
    let slots: Float64Array;
    try {
      slots = this.#arena.float64(capacity * 4, "potad hash");
    } catch (error) {
      this.#arena.release(records);
      throw error;
    }
    records.set(old);
    for (let r = capacity - 1; r >= this.#capacity; r--) {
      records[r * RECORD_STRIDE + R_STATE] = UNUSED;
      records[r * RECORD_STRIDE + R_NEXT] = this.#poolHead;
      this.#poolHead = r;
    }
    slots.fill(EMPTY);
    const oldSlots = this.slots;
    this.#spare += capacity - this.#capacity;
    this.#capacity = capacity;
    const bits = Math.log2(capacity * 2);
    this.#mask = capacity * 2 - 1;
    this.#shift = 32 - bits;
    this.records = records;
    this.slots = slots;
    this.#entries = 0;
    for (let i = 0; i < oldSlots.length; i += 2) {
      if (oldSlots[i] !== EMPTY) this.insert(oldSlots[i]!, oldSlots[i + 1]!);
    }
    this.#arena.release(old);
    this.#arena.release(oldSlots);
  }
}

function fail(message: string): never {
  throw new MmkitError(ErrorCode.Invariant, `potad: ${message}`);
}

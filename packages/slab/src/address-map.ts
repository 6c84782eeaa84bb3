import type { ArrayFactory } from "@mmkit/physmem";

const EMPTY = -1;
// Fibonacci hashing: multiply by 2^32 / phi and keep the top bits, so consecutive keys spread.
const GOLDEN = 0x9e3779b1;
/** 2^-32, exact: a multiply by it is the division that takes a key's bits above 32 down. */
const TWO_TO_MINUS_32 = 1 / 4294967296;

/**
 * An open-addressing hash map from a non-negative integer key (a pfn, an address) to a number,
 * kept in two typed arrays from the arena: linear probing, at most half full, deletion by
 * backward shift (no tombstones), doubling when half full.
 *
 * Cost: `get`, `set` and `delete` touch O(1) slots expected; a doubling rehashes every entry once.
 *
 * @example
 * ```ts
 * const map = new AddressMap(new MetadataArena(), "slab pages");
 * map.set(4096, 7);
 * map.get(4096); // 7
 * map.get(8192); // -1
 * ```
 */
export class AddressMap {
  #arena: ArrayFactory;
  #label: string;
  #keys: Float64Array;
  #values: Float64Array;
  #mask: number;
  #shift: number;
  #size = 0;

  constructor(arena: ArrayFactory, label: string, capacity = 64) {
    this.#arena = arena;
    this.#label = label;
    this.#keys = arena.float64(capacity, `${label} keys`).fill(EMPTY);
    this.#values = arena.float64(capacity, `${label} values`);
    this.#mask = capacity - 1;
    this.#shift = 32 - Math.log2(capacity);
  }

  /** Entries stored. */
  get size(): number {
    return this.#size;
  }

  #home(key: number): number {
    // Mix the high bits in as well: keys can exceed 2^32.
    const folded = (key ^ Math.floor(key * TWO_TO_MINUS_32)) | 0;
    return Math.imul(folded, GOLDEN) >>> this.#shift;
  }

  /** The value stored for `key`, or -1. */
  get(key: number): number {
    const keys = this.#keys;
    const mask = this.#mask;
    for (let i = this.#home(key) & mask; ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === key) return this.#values[i]!;
      if (k === EMPTY) return -1;
    }
  }

  /** Stores `value` for `key` (replacing any). */
  set(key: number, value: number): void {
    if ((this.#size + 1) * 2 > this.#keys.length) this.#grow();
    const keys = this.#keys;
    const mask = this.#mask;
    for (let i = this.#home(key) & mask; ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === key) {
        this.#values[i] = value;
        return;
      }
      if (k === EMPTY) {
        keys[i] = key;
        this.#values[i] = value;
        this.#size++;
        return;
      }
    }
  }

  /** Removes `key`; returns whether it was there. */
  delete(key: number): boolean {
    const keys = this.#keys;
    const values = this.#values;
    const mask = this.#mask;
    let i = this.#home(key) & mask;
    for (; ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === key) break;
      if (k === EMPTY) return false;
    }
    // Backward shift: move later entries of the run into the hole when their home allows it.
    let hole = i;
    for (let j = (i + 1) & mask; keys[j] !== EMPTY; j = (j + 1) & mask) {
      const home = this.#home(keys[j]!) & mask;
      // j may move to hole when home is not cyclically in (hole, j].
      const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!inRange) {
        keys[hole] = keys[j]!;
        values[hole] = values[j]!;
        hole = j;
      }
    }
    keys[hole] = EMPTY;
    this.#size--;
    return true;
  }

  /** Calls `fn(key, value)` for every entry, in slot order. */
  forEach(fn: (key: number, value: number) => void): void {
    const keys = this.#keys;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== EMPTY) fn(keys[i]!, this.#values[i]!);
  }

  #grow(): void {
    const oldKeys = this.#keys;
    const oldValues = this.#values;
    const capacity = oldKeys.length * 2;
    this.#keys = this.#arena.float64(capacity, `${this.#label} keys`).fill(EMPTY);
    this.#values = this.#arena.float64(capacity, `${this.#label} values`);
    this.#mask = capacity - 1;
    this.#shift = 32 - Math.log2(capacity);
    this.#size = 0;
    for (let i = 0; i < oldKeys.length; i++) if (oldKeys[i] !== EMPTY) this.set(oldKeys[i]!, oldValues[i]!);
    this.#arena.release(oldKeys);
    this.#arena.release(oldValues);
  }
}

import type { ArrayFactory } from "@mmkit/physmem";

const EMPTY = -1;
// Fibonacci hashing: multiply by 2^32 / phi and keep the top bits, so consecutive keys spread.
const GOLDEN = 0x9e3779b1;
/** 2^-32, exact: a multiply by it is the division that takes a key's bits above 32 down. */
const TWO_TO_MINUS_32 = 1 / 4294967296;

/**
 * An open-addressing hash map from a non-negative integer key (a pfn, an address) to a number,
 * kept in one typed array from the arena with each key beside its value (so a hit reads one cache
 * line, not one for the key and one for the value): linear probing, at most half full, deletion
 * by backward shift (no tombstones), doubling when half full.
 *
 * Cost: `get`, `set` and `delete` touch O(1) slots expected (a slot is 16 bytes: usually one cache
 * line per lookup); a doubling rehashes every entry once.
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
  /** Slot i: its key at 2i (EMPTY when free), its value at 2i + 1. */
  #slots: Float64Array;
  #mask: number;
  #shift: number;
  #size = 0;

  constructor(arena: ArrayFactory, label: string, capacity = 64) {
    this.#arena = arena;
    this.#label = label;
    this.#slots = newSlots(arena, capacity, label);
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
    const slots = this.#slots;
    const mask = this.#mask;
    for (let i = this.#home(key) & mask; ; i = (i + 1) & mask) {
      const k = slots[2 * i]!;
      if (k === key) return slots[2 * i + 1]!;
      if (k === EMPTY) return -1;
    }
  }

  /** Stores `value` for `key` (replacing any). */
  set(key: number, value: number): void {
    if ((this.#size + 1) * 2 > this.#mask + 1) this.#grow();
    const slots = this.#slots;
    const mask = this.#mask;
    for (let i = this.#home(key) & mask; ; i = (i + 1) & mask) {
      const k = slots[2 * i]!;
      if (k === key) {
        slots[2 * i + 1] = value;
        return;
      }
      if (k === EMPTY) {
        slots[2 * i] = key;
        slots[2 * i + 1] = value;
        this.#size++;
        return;
      }
    }
  }

  /** Removes `key`; returns whether it was there. */
  delete(key: number): boolean {
    const slots = this.#slots;
    const mask = this.#mask;
    let i = this.#home(key) & mask;
    for (; ; i = (i + 1) & mask) {
      const k = slots[2 * i]!;
      if (k === key) break;
      if (k === EMPTY) return false;
    }
    // Backward shift: move later entries of the run into the hole when their home allows it.
    let hole = i;
    for (let j = (i + 1) & mask; slots[2 * j] !== EMPTY; j = (j + 1) & mask) {
      const home = this.#home(slots[2 * j]!) & mask;
      // j may move to hole when home is not cyclically in (hole, j].
      const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!inRange) {
        slots[2 * hole] = slots[2 * j]!;
        slots[2 * hole + 1] = slots[2 * j + 1]!;
        hole = j;
      }
    }
    slots[2 * hole] = EMPTY;
    this.#size--;
    return true;
  }

  /** Calls `fn(key, value)` for every entry, in slot order. */
  forEach(fn: (key: number, value: number) => void): void {
    const slots = this.#slots;
    for (let i = 0; i < slots.length; i += 2) if (slots[i] !== EMPTY) fn(slots[i]!, slots[i + 1]!);
  }

  #grow(): void {
    const old = this.#slots;
    const capacity = old.length; // slots double: old.length / 2 of them now
    this.#slots = newSlots(this.#arena, capacity, this.#label);
    this.#mask = capacity - 1;
    this.#shift = 32 - Math.log2(capacity);
    this.#size = 0;
    for (let i = 0; i < old.length; i += 2) if (old[i] !== EMPTY) this.set(old[i]!, old[i + 1]!);
    this.#arena.release(old);
  }
}

/** `capacity` empty slots (key and value each), from the arena. */
function newSlots(arena: ArrayFactory, capacity: number, label: string): Float64Array {
  const slots = arena.float64(2 * capacity, `${label} keys and values`);
  for (let i = 0; i < slots.length; i += 2) slots[i] = EMPTY;
  return slots;
}

/**
 * A hash map from integer keys (exact in a double: pfns, or `-1 - id`) to slot numbers (>= 0), in
 * two typed arrays with linear probing: what the trace replayer looks every allocation and free up
 * in. A `Map<number, number>` costs a heap object per entry and a cache miss per probe chain
 * through it; here a lookup is a hash and a few adjacent loads.
 *
 * Layout: `keys[i]` (Float64Array) and `slots[i]` (Int32Array) per bucket, the bucket count a
 * power of two; `slots[i]` is -1 for an empty bucket, -2 for a deleted one (a tombstone, so probe
 * chains stay whole), else the value. It grows (and sheds tombstones) at 3/4 of buckets used.
 *
 * Cost: get/set/delete O(1) expected; memory 12 bytes per bucket, at most 8/3 buckets per entry.
 *
 * @example
 * ```ts
 * const map = new KeySlotMap();
 * map.set(0x1baa, 7);
 * map.get(0x1baa); // 7
 * map.delete(0x1baa);
 * map.get(0x1baa); // undefined
 * ```
 */
export class KeySlotMap {
  #keys: Float64Array;
  #slots: Int32Array;
  #mask: number;
  /** Live entries. */
  #size = 0;
  /** Buckets not empty: live entries and tombstones. */
  #used = 0;

  constructor(capacity = 64) {
    const n = 2 ** Math.max(4, Math.ceil(Math.log2(Math.max(1, capacity))));
    this.#keys = new Float64Array(n);
    this.#slots = new Int32Array(n).fill(EMPTY);
    this.#mask = n - 1;
  }

  /** Entries held. */
  get size(): number {
    return this.#size;
  }

  /** The slot of `key`, or undefined. */
  get(key: number): number | undefined {
    const keys = this.#keys;
    const slots = this.#slots;
    const mask = this.#mask;
    for (let i = hash(key) & mask; ; i = (i + 1) & mask) {
      const s = slots[i]!;
      if (s === EMPTY) return undefined;
      if (s >= 0 && keys[i] === key) return s;
    }
  }

  /**
   * The bucket holding `key`, or -1: with {@link slotAt} and {@link deleteAt}, a look-then-delete
   * probes once. A bucket stays valid until the next `set` or `delete`.
   */
  find(key: number): number {
    const keys = this.#keys;
    const slots = this.#slots;
    const mask = this.#mask;
    for (let i = hash(key) & mask; ; i = (i + 1) & mask) {
      const s = slots[i]!;
      if (s === EMPTY) return -1;
      if (s >= 0 && keys[i] === key) return i;
    }
  }

  /**
   * Where `key` is: its bucket (>= 0), or, when it is absent, `-1 - b` where `b` is the bucket a
   * `set` would fill (so a miss-then-insert probes once, with {@link insertAt}). Valid until the
   * next `set`, `delete` or `insertAt`.
   */
  probe(key: number): number {
    const keys = this.#keys;
    const slots = this.#slots;
    const mask = this.#mask;
    let tomb = -1;
    for (let i = hash(key) & mask; ; i = (i + 1) & mask) {
      const s = slots[i]!;
      if (s === EMPTY) return -1 - (tomb !== -1 ? tomb : i);
      if (s === TOMBSTONE) {
        if (tomb === -1) tomb = i;
      } else if (keys[i] === key) return i;
    }
  }

  /** Puts absent `key` with `slot` (>= 0) in `bucket` (`-1 - probe(key)`, with no change to the map since). */
  insertAt(bucket: number, key: number, slot: number): void {
    const slots = this.#slots;
    if (slots[bucket] === EMPTY) this.#used++;
    this.#keys[bucket] = key;
    slots[bucket] = slot;
    this.#size++;
    if (this.#used * 4 >= slots.length * 3) this.#rehash();
  }

  /** The slot in `bucket` (from {@link find}). */
  slotAt(bucket: number): number {
    return this.#slots[bucket]!;
  }

  /** Removes the entry in `bucket` (from {@link find}, with no `set` or `delete` since). */
  deleteAt(bucket: number): void {
    this.#slots[bucket] = TOMBSTONE;
    this.#size--;
  }

  /** True when `key` has a slot. */
  has(key: number): boolean {
    return this.get(key) !== undefined;
  }

  /** Sets the slot (>= 0) of `key`. */
  set(key: number, slot: number): void {
    const keys = this.#keys;
    const slots = this.#slots;
    const mask = this.#mask;
    let tomb = -1;
    let i = hash(key) & mask;
    for (; ; i = (i + 1) & mask) {
      const s = slots[i]!;
      if (s === EMPTY) break;
      if (s === TOMBSTONE) {
        if (tomb === -1) tomb = i;
      } else if (keys[i] === key) {
        slots[i] = slot;
        return;
      }
    }
    if (tomb !== -1) i = tomb;
    else this.#used++;
    keys[i] = key;
    slots[i] = slot;
    this.#size++;
    if (this.#used * 4 >= slots.length * 3) this.#rehash();
  }

  /** Removes `key`; true when it was there. */
  delete(key: number): boolean {
    const keys = this.#keys;
    const slots = this.#slots;
    const mask = this.#mask;
    for (let i = hash(key) & mask; ; i = (i + 1) & mask) {
      const s = slots[i]!;
      if (s === EMPTY) return false;
      if (s >= 0 && keys[i] === key) {
        slots[i] = TOMBSTONE;
        this.#size--;
        return true;
      }
    }
  }

  /** Every [key, slot], in bucket order. */
  *[Symbol.iterator](): Generator<[number, number], void, undefined> {
    const keys = this.#keys;
    const slots = this.#slots;
    for (let i = 0; i < slots.length; i++) if (slots[i]! >= 0) yield [keys[i]!, slots[i]!];
  }

  /** Re-inserts every entry into a table twice the live entries' need (tombstones dropped). */
  #rehash(): void {
    const oldKeys = this.#keys;
    const oldSlots = this.#slots;
    const n = 2 ** Math.max(4, Math.ceil(Math.log2(this.#size * 3 + 1)));
    this.#keys = new Float64Array(n);
    this.#slots = new Int32Array(n).fill(EMPTY);
    this.#mask = n - 1;
    this.#size = 0;
    this.#used = 0;
    for (let i = 0; i < oldSlots.length; i++) if (oldSlots[i]! >= 0) this.set(oldKeys[i]!, oldSlots[i]!);
  }
}

const EMPTY = -1;
const TOMBSTONE = -2;

/** Mixes an integer key (up to 2^53, or negative) into 32 bits. */
function hash(key: number): number {
  const lo = key | 0;
  const hi = (key / 4294967296) | 0;
  return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> 0;
}

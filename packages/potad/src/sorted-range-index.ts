import { type ArrayFactory, ErrorCode, MetadataArena, requireArrayFactory, MmkitError, describeValue, requireInteger } from "@mmkit/physmem";
import type { DescriptorIndex } from "./descriptor-index.js";
import { requireOptions } from "./validate.js";

const STRIDE = 3;

/**
 * Options for {@link SortedRangeIndex}.
 *
 * @example
 * ```ts
 * const arena = new MetadataArena();
 * const index = new SortedRangeIndex({ arena });   // its triples count in arena.bytes
 * ```
 */
export interface SortedRangeIndexOptions {
  /** Where the index gets its array (default: a new `MetadataArena`). */
  arena?: ArrayFactory;
}

/**
 * A small {@link DescriptorIndex} (POTAD's default before {@link AlignedBlockIndex}): disjoint
 * ranges `[first, last] -> value` in one sorted arena array of `[first, last, value]` triples (24
 * bytes per range, nothing else).
 *
 * Cost: `load` is a binary search, O(log n), about log2(n) - 1 cache lines; `store` and `erase`
 * move the triples after the position with one `copyWithin`, O(n) bytes moved (fast for thousands of
 * ranges; use the maple tree of `@mmkit/memdesc-lookup` for millions). `store` may grow the array
 * (doubling); `erase` never allocates, so POTAD's free never does.
 *
 * @example
 * ```ts
 * const index = new SortedRangeIndex();
 * index.store(0, 511, 7);
 * index.store(1024, 2047, 9);
 * index.load(1500);   // 9
 * index.load(600);    // undefined
 * index.erase(1024);  // 9
 * index.size;         // 1
 * ```
 */
export class SortedRangeIndex implements DescriptorIndex {
  #arena: ArrayFactory;
  #data: Float64Array;
  #count = 0;

  constructor(options: SortedRangeIndexOptions = {}) {
    requireOptions(options, "index options");
    if (options.arena !== undefined) requireArrayFactory(options.arena);
    this.#arena = options.arena === undefined ? new MetadataArena() : options.arena;
    this.#data = this.#arena.float64(0, "potad descriptor index");
  }

  /** Ranges stored. */
  get size(): number {
    return this.#count;
  }

  /**
   * Maps `[first, last]` to `value`. Throws `ERR_OCCUPIED` (changing nothing) when the range
   * overlaps a stored one, `ERR_INVALID_ARGUMENT` / `ERR_OUT_OF_RANGE` for bad bounds or a value
   * that is not a finite number.
   */
  store(first: number, last: number, value: number): void {
    requireInteger(first, "first");
    requireInteger(last, "last", first);
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new MmkitError(ErrorCode.InvalidArgument, `value must be a finite number, got ${describeValue(value)}`);
    }
    const at = this.#upperBound(first); // ranges [0, at) start at or before `first`
    const data = this.#data;
    if (at > 0 && data[(at - 1) * STRIDE + 1]! >= first) {
      throw new MmkitError(ErrorCode.Occupied, `range [${first}, ${last}] overlaps the stored range [${data[(at - 1) * STRIDE]}, ${data[(at - 1) * STRIDE + 1]}]`);
    }
    if (at < this.#count && data[at * STRIDE]! <= last) {
      throw new MmkitError(ErrorCode.Occupied, `range [${first}, ${last}] overlaps the stored range [${data[at * STRIDE]}, ${data[at * STRIDE + 1]}]`);
    }
    if ((this.#count + 1) * STRIDE > data.length) this.#grow();
    const d = this.#data;
    d.copyWithin((at + 1) * STRIDE, at * STRIDE, this.#count * STRIDE);
    d[at * STRIDE] = first;
    d[at * STRIDE + 1] = last;
    d[at * STRIDE + 2] = value;
    this.#count++;
  }

  /**
   * Removes the range containing `index` and returns its value (`undefined` when none). Throws
   * (changing nothing) for an index that is not a non-negative safe integer.
   */
  erase(index: number): number | undefined {
    const at = this.#containing(index);
    if (at < 0) return undefined;
    const d = this.#data;
    const value = d[at * STRIDE + 2];
    d.copyWithin(at * STRIDE, (at + 1) * STRIDE, this.#count * STRIDE);
    this.#count--;
    return value;
  }

  /**
   * The value of the range containing `index`, or `undefined`. Throws for an index that is not a
   * non-negative safe integer (keys are byte addresses).
   */
  load(index: number): number | undefined {
    const at = this.#containing(index);
    return at < 0 ? undefined : this.#data[at * STRIDE + 2];
  }

  /** Every range in order, as `[first, last, value]` (O(n), for tests and reports). */
  entries(): Array<[number, number, number]> {
    const out: Array<[number, number, number]> = [];
    const d = this.#data;
    for (let i = 0; i < this.#count; i++) out.push([d[i * STRIDE]!, d[i * STRIDE + 1]!, d[i * STRIDE + 2]!]);
    return out;
  }

  /** Validates order and disjointness; throws `ERR_INVARIANT` on the first violation. O(n). */
  check(): void {
    const d = this.#data;
    for (let i = 0; i < this.#count; i++) {
      if (d[i * STRIDE]! > d[i * STRIDE + 1]!) throw new MmkitError(ErrorCode.Invariant, `descriptor index: range ${i} ends before it starts`);
      if (i > 0 && d[(i - 1) * STRIDE + 1]! >= d[i * STRIDE]!) throw new MmkitError(ErrorCode.Invariant, `descriptor index: ranges ${i - 1} and ${i} overlap or are out of order`);
    }
  }

  /** Position of the range containing `index`, or -1; throws for an index that is not a key. */
  #containing(index: number): number {
    // One combined check; the diagnosis (the same as `store`'s for `first`) is out of line.
    if (!Number.isSafeInteger(index) || index < 0) requireInteger(index, "index");
    const at = this.#upperBound(index) - 1;
    return at >= 0 && this.#data[at * STRIDE + 1]! >= index ? at : -1;
  }

  /** Number of ranges whose first index is <= `key`. */
  #upperBound(key: number): number {
    const d = this.#data;
    let lo = 0;
    let hi = this.#count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (d[mid * STRIDE]! <= key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #grow(): void {
    const old = this.#data;
    const next = this.#arena.float64(Math.max(16, (old.length / STRIDE) * 2) * STRIDE, "potad descriptor index");
    next.set(old);
    this.#data = next;
    this.#arena.release(old);
  }
}

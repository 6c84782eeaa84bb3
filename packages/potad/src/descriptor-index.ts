/**
 * Where POTAD registers descriptors so the owner of any address can be found: a map from
 * non-overlapping ranges of addresses to numbers. POTAD stores `[address, address + size - 1]`
 * when an allocation carries a descriptor, erases it when the allocation is freed, and answers
 * `descriptorOf(address)` with `load`. Keys are byte addresses (safe integers up to 2^53).
 *
 * POTAD's default is the {@link AlignedBlockIndex} shipped here (a hash of aligned power-of-two
 * pieces, O(1) per operation); the maple tree of `@mmkit/memdesc-lookup` fits it without
 * importing this package, and so does the small {@link SortedRangeIndex}. An index used with
 * POTAD must not allocate metadata in `erase`, or POTAD's free would (see the package README).
 *
 * @example
 * ```ts
 * const index: DescriptorIndex = new AlignedBlockIndex();
 * index.store(4096, 8191, 42);
 * index.load(5000);    // 42
 * index.erase(4096);
 * index.load(5000);    // undefined
 * ```
 */
export interface DescriptorIndex {
  /** Maps every index in `[first, last]` to `value`. POTAD never stores over an occupied range. */
  store(first: number, last: number, value: number): void;
  /**
   * Optional: {@link store} for a range the caller knows overlaps nothing stored, so the index may
   * skip its overlap check. POTAD calls it on the default index it made itself, for a block it has
   * just taken off its free lists (which none of its own ranges can overlap); an index passed to
   * POTAD may be shared, so POTAD stores into it with `store`.
   */
  storeVacant?(first: number, last: number, value: number): void;
  /** Removes the range containing `index`; what it returns is not used. */
  erase(index: number): unknown;
  /** The value of the range containing `index`, or `undefined`. */
  load(index: number): number | undefined;
}

/**
 * An inclusive range of page frame numbers.
 *
 * @example
 * ```ts
 * const table = new MapleDescriptorTable();
 * table.set(256, 511, encodeMemdesc(MemdescType.Slab, 0x2000));
 * const range: PfnRange = { firstPfn: 0, lastPfn: 0 };
 * table.range(300, range);   // true; range is { firstPfn: 256, lastPfn: 511 }
 * ```
 */
export interface PfnRange {
  /** First page frame number of the range. */
  firstPfn: number;
  /** Last page frame number of the range (inclusive). */
  lastPfn: number;
}

/**
 * Where a system records which memdesc describes each page frame, and finds it again. Two
 * implementations fit: {@link MapleDescriptorTable} (one maple-tree entry per allocation, however
 * large) and {@link MemmapTable} (a flat array with a fixed number of bytes per page, like
 * `struct page`). Both count their metadata through an arena.
 *
 * Every method takes pfns; `-1` means "no descriptor".
 *
 * @example
 * ```ts
 * function owner(table: DescriptorTable, pfn: number): number {
 *   return memdescType(table.get(pfn));
 * }
 * ```
 */
export interface DescriptorTable {
  /** A short name for reports ("maple", "memmap-64"). */
  readonly name: string;
  /** Bytes of metadata the table holds in its arena. */
  readonly metadataBytes: number;
  /** Records `memdesc` (a non-negative integer) for pfns `[firstPfn, lastPfn]`, cutting what it overlaps. */
  set(firstPfn: number, lastPfn: number, memdesc: number): void;
  /**
   * Removes the descriptor covering `pfn` from all its pages; returns its memdesc or -1. With `out`,
   * the range it covered is written there (untouched when none), so a caller can put it back with
   * `set` without a lookup first.
   */
  clear(pfn: number, out?: PfnRange): number;
  /** The memdesc covering `pfn`, or -1. */
  get(pfn: number): number;
  /** Writes the pfn range of the descriptor covering `pfn` into `out`; false (out untouched) when none. */
  range(pfn: number, out: PfnRange): boolean;
  /** Validates the table's invariants; throws `ERR_INVARIANT`. */
  check(): void;
}

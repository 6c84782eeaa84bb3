/**
 * The direct map as the cache sees it: split a range to page-size entries (`set_memory_4k`) and fold
 * a 2 MiB region back into a large leaf. physmem's `DirectMap` fits as it is.
 *
 * @example
 * ```ts
 * import { DirectMap, MemoryMap } from "@mmkit/physmem";
 * const directMap: DirectMapControl = new DirectMap(MemoryMap.uniform(1 << 30));
 * directMap.splitToPages(0, 512); // 2: the 1 GiB leaf, then the 2 MiB leaf
 * directMap.collapse(0);          // true: back to one 1 GiB leaf
 * ```
 */
export interface DirectMapControl {
  /** Maps `count` pages from `pfn` with page-size entries; returns how many leaves it had to split. */
  splitToPages(pfn: number, count: number): number;
  /**
   * Folds the 2 MiB region holding `pfn` back into a large leaf when all its entries agree (and its
   * 1 GiB region too, if it can); true if anything was folded.
   */
  collapse(pfn: number): boolean;
  /**
   * Optional: pages the leaf mapping `pfn` covers (1 for a page-size entry). When present,
   * `check()` verifies that every page the cache holds is PTE-mapped.
   */
  leafPages?(pfn: number): number;
}

/**
 * What {@link PteMappedCache.stats} reports. Counters (`refills` ... `shrinkerReturnedRegions`) only
 * grow; gauges (`cachedPages` ... `freeablePages`) describe the cache now.
 *
 * @example
 * ```ts
 * const s = cache.stats();
 * s.splitsCaused / Math.max(1, s.allocs); // direct-map splits per allocation
 * ```
 */
export interface PteMappedCacheStats {
  /** Refills that got an order-9 block (one 2 MiB region, split once). */
  refills: number;
  /** Refills that fell back to a single page because no order-9 block was free. */
  fallbacks: number;
  /** Refills that got nothing at all (`alloc()` returned -1). */
  refillFailures: number;
  /** Pages handed out by `alloc()`. */
  allocs: number;
  /** Pages given back with `free()`. */
  frees: number;
  /** Pages of PTE-mapped regions taken in through `adopt()`. */
  adopted: number;
  /** Direct-map splits the cache's `splitToPages` calls caused (2 MiB and 1 GiB leaves). */
  splitsCaused: number;
  /** Regions folded back into a large leaf after the cache gave them up. */
  collapses: number;
  /** Pages the shrinker (or `shrink()`) gave back to the page source. */
  shrinkerReturnedPages: number;
  /** Whole 2 MiB regions among them, given back as one order-9 block each. */
  shrinkerReturnedRegions: number;
  /** Free pages held now. */
  cachedPages: number;
  /** Pages handed out now. */
  inUsePages: number;
  /** 2 MiB regions the cache holds at least one page of (and so knows to be PTE-mapped). */
  regions: number;
  /** Regions held as one intact order-9 block. */
  wholeRegions: number;
  /** Intact blocks with all 512 pages free: what a shrink gives back first. */
  regionsFullyFree: number;
  /** Pages a shrink could give back now, over all nodes. */
  freeablePages: number;
}

/**
 * What one page is to the cache, as {@link PteMappedCache.pageState} reports it.
 *
 * @example
 * ```ts
 * cache.pageState(cache.alloc()) === PageState.InUse; // true
 * ```
 */
export const PageState = {
  /** Not held by the cache (the page source's, or never seen). */
  None: 0,
  /** Held free in the cache. */
  Cached: 1,
  /** Handed out by `alloc()` and not yet freed. */
  InUse: 2,
} as const;

/** One of {@link PageState}'s values. */
export type PageStateValue = (typeof PageState)[keyof typeof PageState];

/**
 * One region record, as {@link PteMappedCache.regions} lists them.
 *
 * @example
 * ```ts
 * cache.alloc();         // the first page of a fresh 2 MiB region
 * cache.regions()[0];    // { pfn: 0, node: 0, held: 512, free: 511, whole: true, splitByCache: true, list: "block-partial" }
 * ```
 */
export interface RegionInfo {
  /** First pfn of the 2 MiB region. */
  pfn: number;
  /** NUMA node of the region. */
  node: number;
  /** Pages of the region the cache holds (free or handed out). */
  held: number;
  /** Of those, free in the cache. */
  free: number;
  /** Held as one intact order-9 block. */
  whole: boolean;
  /** The cache's own `splitToPages` split it (so the cache folds it back when it gives it up). */
  splitByCache: boolean;
  /** The list it is on, or null when none of its pages is free. */
  list: "block-partial" | "pieces" | "block-free" | null;
}

/**
 * What a {@link FragmentCache} has done, as `cache.stats()` returns it (a snapshot; counters only
 * grow, except the `live*` and `blocksInUse` levels).
 *
 * @example
 * ```ts
 * const s = cache.stats();
 * s.fragmentsAllocated - s.fragmentsFreed === s.liveFragments;   // true
 * (s.blocksRecycled / s.fragmentsAllocated) * 1000;              // blocks recycled in place per 1k fragments
 * ```
 */
export interface FragmentCacheStats {
  /** Successful `alloc` calls. */
  fragmentsAllocated: number;
  /** Successful `free` calls. */
  fragmentsFreed: number;
  /** Fragments allocated and not yet freed. */
  liveFragments: number;
  /** Bytes in live fragments. */
  liveBytes: number;
  /** `alloc` calls that returned -1 (the page source had nothing). */
  allocFailures: number;
  /** Blocks taken from the page source (fallback single pages included). */
  blocksTaken: number;
  /** Of those, single pages taken because the full-size block could not be had. */
  fallbacks: number;
  /** Used-up blocks whose fragments were all freed already, reused in place with no page-source call. */
  blocksRecycled: number;
  /** Blocks given back to the page source. */
  blocksReturned: number;
  /** Blocks held now: the current one and retired ones with live fragments. */
  blocksInUse: number;
  /** Bytes skipped to align fragments. */
  bytesWastedAlignment: number;
  /** Bytes added by rounding fragment sizes up to `FRAG_GRANULE` (16). */
  bytesWastedRounding: number;
  /** Bytes left unused at the end of blocks the cache moved on from because a request did not fit. */
  bytesWastedTail: number;
  /** Use-after-free writes reported in poison mode. */
  poisonReports: number;
}

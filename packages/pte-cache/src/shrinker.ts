/**
 * The shrinker contract, declared here as the cache needs it; the `@mmkit/shrinker` registry has this
 * shape. `count` says how many objects (here: pages) could be freed on a node; `scan` frees up to
 * `nrToScan` of them and says how many it freed.
 */

/** `scan` could make no progress: stop calling this shrinker for now (the kernel's SHRINK_STOP). */
export const SHRINK_STOP = -1;

/** `count` has nothing at all cached on this node (the kernel's SHRINK_EMPTY). */
export const SHRINK_EMPTY = -2;

/** The kernel's DEFAULT_SEEKS: how costly an object is to recreate, relative to others. */
export const DEFAULT_SEEKS = 2;

/**
 * What `count` is asked about.
 *
 * @example
 * ```ts
 * const freeable = cacheShrinker.count({ nid: 0 });   // pages node 0 could give back
 * ```
 */
export interface ShrinkCountControl {
  /** NUMA node id. */
  nid: number;
}

/**
 * What `scan` is asked to do.
 *
 * @example
 * ```ts
 * const freed = cacheShrinker.scan({ nid: 0, nrToScan: 128 });   // up to 128 pages, or SHRINK_STOP
 * ```
 */
export interface ShrinkScanControl {
  /** NUMA node id, 0..1023 (a real node: unlike `shrink()`'s `nid`, not -1 for every node). */
  nid: number;
  /** Objects (pages) to free. */
  nrToScan: number;
}

/**
 * A shrinker as a registry calls it.
 *
 * @example
 * ```ts
 * const s: CacheShrinker = { name: "demo", count: () => 0, scan: () => SHRINK_STOP };
 * ```
 */
export interface CacheShrinker {
  /** A name for reports and warnings. */
  name: string;
  /** Freeable objects on `sc.nid`, 0 when some are cached but none can go now, or {@link SHRINK_EMPTY}. */
  count(sc: ShrinkCountControl): number;
  /** Frees up to `sc.nrToScan` objects on `sc.nid`; returns how many, or {@link SHRINK_STOP}. */
  scan(sc: ShrinkScanControl): number;
  /** Cost to recreate an object, in the kernel's seeks (default {@link DEFAULT_SEEKS}); more seeks, less pressure. */
  seeks?: number;
  /** Objects per `scan` call (default the registry's, 128). */
  batch?: number;
  /** Asked per node (`sc.nid` a real node) rather than once for all memory. */
  numaAware?: boolean;
}

/**
 * Something a shrinker registers with (the `@mmkit/shrinker` registry fits).
 *
 * @example
 * ```ts
 * const host: ShrinkerHost = { register: (s) => list.add(s), unregister: (s) => list.delete(s) };
 * ```
 */
export interface ShrinkerHost {
  /** Starts calling `shrinker` under memory pressure. */
  register(shrinker: CacheShrinker): void;
  /** Stops calling `shrinker`. */
  unregister(shrinker: CacheShrinker): void;
}

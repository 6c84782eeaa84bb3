/**
 * What the registry hands a shrinker's callbacks (the kernel's `struct shrink_control`).
 *
 * Who reads and writes what:
 * - `nid` (read): the node being reclaimed; always 0 for a shrinker that is not `numaAware`.
 * - `priority` (read): the reclaim priority, 12 (gentle) down to 0 (desperate).
 * - `nrToScan` (read, `scan` only): how many objects to look at in this call, at most `batch`.
 *   It is 0 in `count`.
 * - `nrScanned` (write, `scan` only): preset to `nrToScan`; a scan that looked at fewer objects
 *   (or more, up to `nrToScan`) may set it to what it did. Setting it to 0 ends this shrinker's
 *   pass (nothing left to look at). Values outside `[0, nrToScan]` are clamped with a warning.
 *
 * The registry resets every field before each call, so writes to the others are ignored.
 *
 * @example
 * ```ts
 * const scan = (sc: ShrinkControl) => {
 *   const freed = cache.evict(sc.nid, sc.nrToScan);
 *   sc.nrScanned = sc.nrToScan;
 *   return freed;
 * };
 * ```
 */
export interface ShrinkControl {
  /** The node being reclaimed; 0 for a shrinker that is not `numaAware`. */
  nid: number;
  /** Objects to look at in this `scan` call, at most `batch`; 0 in `count`. */
  nrToScan: number;
  /** Reclaim priority, 12 (gentle) down to 0 (desperate). */
  priority: number;
  /** Objects the `scan` looked at; preset to `nrToScan`, 0 ends this shrinker's pass. */
  nrScanned: number;
}

/**
 * A cache that can give memory back (the kernel's `struct shrinker`).
 *
 * - `count(sc)`: how many objects could be freed on `sc.nid` now. 0 means "skip me this time",
 *   {@link SHRINK_EMPTY} means "I hold none". Should be cheap: it runs on every pass.
 * - `scan(sc)`: free up to `sc.nrToScan` objects and return how many were freed, or
 *   {@link SHRINK_STOP} when it cannot make progress now.
 * - `seeks`: the cost of recreating an object (default {@link DEFAULT_SEEKS} = 2); the pressure on a
 *   cache is scaled by `4 / seeks`, and 0 means "free half of them every pass regardless of priority".
 * - `batch`: objects per `scan` call (default {@link SHRINK_BATCH} = 128).
 * - `numaAware`: counts and scans per node; otherwise `sc.nid` is always 0 and deferred work is kept
 *   for node 0 only.
 *
 * `seeks`, `batch` and `numaAware` are read once, when the shrinker is registered.
 *
 * @example
 * ```ts
 * const shrinker: Shrinker = {
 *   name: "dentry-cache",
 *   count: (sc) => lru.count(sc.nid),
 *   scan: (sc) => lru.shrinkWalk(sc, (item) => (dispose(item), LruWalk.Removed)),
 *   numaAware: true,
 * };
 * ```
 */
export interface Shrinker {
  /** A name for statistics, warnings and debug dumps. */
  name: string;
  /** How many objects could be freed on `sc.nid` now: 0 to be skipped this time, `SHRINK_EMPTY` when none are held. */
  count(sc: ShrinkControl): number;
  /** Frees up to `sc.nrToScan` objects; returns how many, or `SHRINK_STOP`. */
  scan(sc: ShrinkControl): number;
  /** Cost of recreating an object (default `DEFAULT_SEEKS` = 2): pressure scales by 4 / seeks. */
  seeks?: number;
  /** Objects per `scan` call (default `SHRINK_BATCH` = 128). */
  batch?: number;
  /** Counted and scanned per node; otherwise `sc.nid` is always 0. */
  numaAware?: boolean;
}

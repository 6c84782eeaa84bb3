/**
 * The kernel's shrinker constants, as JS numbers. Facts carried over from `include/linux/shrinker.h`,
 * `mm/shrinker.c`, `mm/vmscan.c` and `mm/page_alloc.c` (Linux 6.x).
 */

/**
 * What `scan` returns to say "I cannot make progress now, stop calling me in this pass" (the
 * kernel's `SHRINK_STOP`, `~0UL`). Nothing freed by that call is counted.
 *
 * @example
 * ```ts
 * const s: Shrinker = { name: "c", count: () => 10, scan: () => (locked ? SHRINK_STOP : freeSome()) };
 * ```
 */
export const SHRINK_STOP = -1;

/**
 * What `count` returns to say "I hold no objects at all" (the kernel's `SHRINK_EMPTY`, `~0UL - 1`),
 * as opposed to 0, "nothing freeable right now". Both skip the shrinker for this pass.
 *
 * @example
 * ```ts
 * const s: Shrinker = { name: "c", count: () => (lru.size === 0 ? SHRINK_EMPTY : lru.size), scan: ... };
 * ```
 */
export const SHRINK_EMPTY = -2;

/**
 * Default `seeks`: the cost of recreating one object, in disk seeks. `delta` is scaled by `4 / seeks`,
 * so a shrinker with the default gives up objects at twice the rate of its pressure share.
 *
 * @example
 * ```ts
 * scanDelta(4096, 0, DEFAULT_SEEKS); // 8192
 * ```
 */
export const DEFAULT_SEEKS = 2;

/**
 * Default `batch`: the kernel scans at most this many objects per `scan` call (`SHRINK_BATCH`).
 *
 * @example
 * ```ts
 * registry.register({ name: "c", count, scan, batch: SHRINK_BATCH });
 * ```
 */
export const SHRINK_BATCH = 128;

/**
 * The first (gentlest) reclaim priority: a pass scans `1 / 2^12` of each cache. Priority 0 is the
 * most desperate (whole caches).
 *
 * @example
 * ```ts
 * registry.shrink({ nid: 0, priority: DEF_PRIORITY });
 * ```
 */
export const DEF_PRIORITY = 12;

/**
 * Pages a direct-reclaim pass aims to free at least (`SWAP_CLUSTER_MAX`).
 *
 * @example
 * ```ts
 * new DirectReclaim(pages, registry, { minTarget: SWAP_CLUSTER_MAX });
 * ```
 */
export const SWAP_CLUSTER_MAX = 32;

/**
 * How many times the page allocator's slow path retries after reclaim before giving up
 * (`MAX_RECLAIM_RETRIES`).
 *
 * @example
 * ```ts
 * new DirectReclaim(pages, registry, { maxRetries: MAX_RECLAIM_RETRIES });
 * ```
 */
export const MAX_RECLAIM_RETRIES = 16;

/**
 * Default most `scan` calls one pass makes to one shrinker (`maxScanCalls` of a registry): 2^16,
 * which at the default batch of 128 is 8 M objects, more than any honest cache's pass at priority 0
 * holding under 4 M. Not a kernel constant: the kernel trusts `count`; this bounds a liar's cost.
 *
 * @example
 * ```ts
 * new ShrinkerRegistry({ maxScanCalls: DEFAULT_MAX_SCAN_CALLS });
 * ```
 */
export const DEFAULT_MAX_SCAN_CALLS = 65536;

/** The largest node count a registry or list accepts (the kernel's `MAX_NUMNODES` with `NODES_SHIFT = 10`). */
export const MAX_NODES = 1024;

/**
 * Error codes this package adds to physmem's `ErrorCode`.
 *
 * @example
 * ```ts
 * try { registry.register(s); } catch (e) { if (e.code === ShrinkerErrorCode.AlreadyRegistered) ... }
 * ```
 */
export const ShrinkerErrorCode = {
  /** `register` of a shrinker that is registered already. */
  AlreadyRegistered: "ERR_ALREADY_REGISTERED",
  /** `unregister` (or `stats`) of a shrinker that is not registered. */
  NotRegistered: "ERR_NOT_REGISTERED",
} as const;

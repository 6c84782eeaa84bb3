/**
 * One node's figures for one shrinker. Counts accumulate from registration on; `deferred` is the
 * current carried-over scan work. A shrinker that is not NUMA-aware keeps everything on node 0.
 *
 * @example
 * ```ts
 * registry.stats(cacheShrinker).nodes[0]?.freed;   // objects this shrinker freed on node 0
 * ```
 */
export interface ShrinkerNodeStats {
  /** The node. */
  nid: number;
  /** What `count` said last (after clamping; `SHRINK_EMPTY` shows as 0). */
  lastCount: number;
  /** Objects counted, summed over every `count` call on this node. */
  counted: number;
  /** Objects scanned (`sc.nrScanned` summed over `scan` calls). */
  scanned: number;
  /** Objects freed (`scan` results summed, after clamping). */
  freed: number;
  /** Scan work carried to the next pass. */
  deferred: number;
}

/**
 * Everything the registry knows about one shrinker.
 *
 * @example
 * ```ts
 * const s = registry.stats(cacheShrinker);
 * console.log(s.freed, s.nodes[0]!.deferred);
 * ```
 */
export interface ShrinkerStats {
  /** The shrinker's name. */
  name: string;
  /** Its id in this registry, in registration order. */
  id: number;
  /** `seeks` as read at registration. */
  seeks: number;
  /** `batch` as read at registration. */
  batch: number;
  /** `numaAware` as read at registration. */
  numaAware: boolean;
  /** `count` calls. */
  countCalls: number;
  /** `scan` calls. */
  scanCalls: number;
  /** Sums over nodes. */
  counted: number;
  /** Objects scanned, summed over nodes. */
  scanned: number;
  /** Objects freed, summed over nodes. */
  freed: number;
  /** Scan work carried to the next pass, summed over nodes. */
  deferred: number;
  /** Misbehaviours recorded for this shrinker. */
  warnings: number;
  /** The same figures per node. */
  nodes: ShrinkerNodeStats[];
}

/**
 * What {@link ShrinkerRegistry.reclaim} did.
 *
 * @example
 * ```ts
 * const r = registry.reclaim(1000, 0);
 * if (!r.reachedTarget) console.log(`only ${r.freed} after ${r.passes} passes`);
 * ```
 */
export interface ReclaimResult {
  /** Objects freed by all shrinkers. */
  freed: number;
  /** Shrink passes made (one per priority tried). */
  passes: number;
  /** The last priority used (12 = gentle ... 0 = desperate). */
  priority: number;
  /** `freed >= target`. */
  reachedTarget: boolean;
}

export {
  SHRINK_STOP,
  SHRINK_EMPTY,
  DEFAULT_SEEKS,
  SHRINK_BATCH,
  DEF_PRIORITY,
  SWAP_CLUSTER_MAX,
  MAX_RECLAIM_RETRIES,
  MAX_NODES,
  DEFAULT_MAX_SCAN_CALLS,
  ShrinkerErrorCode,
} from "./constants.js";
export type { Shrinker, ShrinkControl } from "./shrinker.js";
export { scanDelta, totalScan, nextDeferred, scanBatches } from "./scan-arithmetic.js";
export { ShrinkerRegistry, type ShrinkerRegistryOptions, type ShrinkRequest } from "./registry.js";
export type { ShrinkerStats, ShrinkerNodeStats, ReclaimResult } from "./stats.js";
export type { ShrinkerWarning, ShrinkerWarningKind } from "./warnings.js";
export { ListLru, LruWalk, type LruWalkResult, type LruWalkCallback, type ListLruOptions } from "./list-lru.js";
export { DirectReclaim, type PageAllocator, type DirectReclaimOptions, type DirectReclaimStats } from "./direct-reclaim.js";

export { PteMappedCache, type PteMappedCacheOptions } from "./pte-mapped-cache.js";
export { PageState, type PageStateValue, type PteMappedCacheStats, type RegionInfo } from "./stats.js";
export type { PageSource } from "./page-source.js";
export type { DirectMapControl } from "./direct-map-control.js";
export {
  SHRINK_STOP,
  SHRINK_EMPTY,
  DEFAULT_SEEKS,
  type CacheShrinker,
  type ShrinkerHost,
  type ShrinkCountControl,
  type ShrinkScanControl,
} from "./shrinker.js";
export { REGION_ORDER, REGION_PAGES } from "./constants.js";

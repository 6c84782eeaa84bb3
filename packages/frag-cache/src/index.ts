export { FragmentCache, type FragmentCacheOptions, type FragmentBlockInfo, type CurrentBlockInfo } from "./fragment-cache.js";
export type { PageSource, FragmentBacking } from "./page-source.js";
export type { FragmentCacheStats } from "./stats.js";
export type { PoisonReport } from "./poison.js";
export { FRAG_BLOCK_BYTES, FRAG_GRANULE, POISON_BYTE } from "./constants.js";

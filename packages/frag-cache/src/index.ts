export { FragmentCache, type FragmentCacheOptions, type FragmentBlockInfo, type CurrentBlockInfo } from "./fragment-cache.js";
export type { PageSource, FragmentBacking } from "./page-source.js";
export type { FragmentCacheStats } from "./stats.js";
export type { PoisonReport } from "./poison.js";
export { FRAG_BLOCK_BYTES, FRAG_GRANULE, POISON_BYTE } from "./constants.js";
export { SharedFragmentCache, type SharedFragmentCacheOptions, type SharedFragmentCacheStats } from "./shared-fragment-cache.js";
export { SharedFragmentTable, SHARED_FRAG_TABLE_VERSION, type SharedFragmentTableHandle, type SharedFragmentTableOptions } from "./shared-fragment-table.js";

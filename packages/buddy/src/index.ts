export { BuddyAllocator, type BlockInfo, type CompactOptions, type ContigPagesOptions, type CompactingAlloc, type CompactionDeferState } from "./buddy-allocator.js";
export type { PageMover } from "./page-mover.js";
export type { CompactionCounters } from "./compaction-counters.js";
export { COMPACT_CLUSTER_MAX, type CompactResult, type CompactionRun } from "./compaction.js";
export { ALLOC_CONTIG_MIGRATE_TRIES, type ContigFailure, type ContigFailureReason } from "./contig-range.js";
export { COMPACT_MAX_DEFER_SHIFT } from "./compaction-deferral.js";
export { DEFAULT_EXTFRAG_THRESHOLD } from "./compaction-suitable.js";
export { DEFAULT_COMPACTION_PROACTIVENESS } from "./proactive-compaction.js";
export type { CpuPages } from "./cpu-pages.js";
export { SharedBuddy, SHARED_BUDDY_VERSION, type SharedBuddyHandle, type SharedBuddyOptions } from "./shared-buddy.js";
export type { AllocOptions } from "./misuse.js";
export type { BuddyOptions, BuddyCounters, CmaOptions } from "./state.js";
export type { BuddyInitialState, DescribedBlock, PerCpuLimits } from "./initial-state.js";
export type { BuddyInfo, PageTypeInfo, FreeList } from "./statistics.js";
export {
  MAX_PAGE_ORDER,
  PAGEBLOCK_ORDER,
  PAGE_ALLOC_COSTLY_ORDER,
  MigrateType,
  MIGRATE_TYPES,
  MIGRATE_PCPTYPES,
  MIGRATE_TYPE_NAMES,
  FALLBACK_ORDER,
} from "./constants.js";
export { FaultInjector, type FaultInjectionOptions } from "./fault-injection.js";
export { unusableFreeIndex, fragmentationIndex } from "./fragmentation.js";
export {
  minFreeKbytes,
  zoneWatermarks,
  zoneBatchsize,
  zoneHighsize,
  DEFAULT_WATERMARK_SCALE_FACTOR,
  MIN_FREE_KBYTES_FLOOR,
  MIN_FREE_KBYTES_CEILING,
  type Watermarks,
} from "./watermarks.js";

/**
 * The compaction and migration lines of `/proc/vmstat`, per allocator.
 *
 * @example
 * ```ts
 * buddy.compact(mover);
 * buddy.compactionCounters();  // { compactStall: 0, ..., compactMigrateScanned: 512, pgmigrateSuccess: 12, ... }
 * ```
 */
export interface CompactionCounters {
  /** `compact_stall`: direct compactions run for an allocation (not skipped). */
  compactStall: number;
  /** `compact_fail`: direct compactions after which the allocation still failed. */
  compactFail: number;
  /** `compact_success`: direct compactions after which the allocation succeeded. */
  compactSuccess: number;
  /** `compact_migrate_scanned`: pages the migration scanner walked over. */
  compactMigrateScanned: number;
  /** `compact_free_scanned`: pages the free scanner walked over. */
  compactFreeScanned: number;
  /** `compact_isolated`: pages isolated, by both scanners (movable sources and free targets). */
  compactIsolated: number;
  /** `pgmigrate_success`: pages moved. */
  pgmigrateSuccess: number;
  /** `pgmigrate_fail`: pages tried that did not move (refused, no target, or a mover that threw or lied). */
  pgmigrateFail: number;
  /** `compact_daemon_wake`: nodes the background step (`proactiveCompact`, kcompactd's work) woke up to compact. */
  compactDaemonWake: number;
  /** Contiguous allocations (`allocContigRange`, `allocContigPages`) that succeeded (like `cma_alloc_success`, for every contiguous request). */
  contigAllocSuccess: number;
  /** Contiguous allocations that returned -1 (like `cma_alloc_fail`). */
  contigAllocFail: number;
}

/** A zeroed set of compaction counters. O(1). */
export function newCompactionCounters(): CompactionCounters {
  return {
    compactStall: 0,
    compactFail: 0,
    compactSuccess: 0,
    compactMigrateScanned: 0,
    compactFreeScanned: 0,
    compactIsolated: 0,
    pgmigrateSuccess: 0,
    pgmigrateFail: 0,
    compactDaemonWake: 0,
    contigAllocSuccess: 0,
    contigAllocFail: 0,
  };
}

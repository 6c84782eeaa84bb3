import type { MigrateType } from "./constants.js";
import type { Watermarks } from "./watermarks.js";

/**
 * Starting an allocator from a described state instead of all-free memory: which pageblocks have
 * which migratetype, which blocks are free (and in what list order), which are allocated, and the
 * watermarks and per-CPU limits of each node. This is how a replay starts where a real kernel was
 * (its `/proc/pagetypeinfo` counts laid out at chosen pfns). Internal: `BuddyOptions.initialState`.
 */

/**
 * A block of 2^order pages at `pfn` (aligned to its size).
 *
 * @example
 * ```ts
 * const free: DescribedBlock[] = [{ pfn: 1024, order: 10 }, { pfn: 8, order: 3 }];
 * ```
 */
export interface DescribedBlock {
  /** First page frame number; a multiple of 2^order. */
  readonly pfn: number;
  /** The block holds 2^order pages. */
  readonly order: number;
}

/**
 * `batch` and `high` of the per-CPU lists, in pages.
 *
 * @example
 * ```ts
 * const limits: PerCpuLimits = { batch: 63, high: 378 };   // one node's per-CPU lists
 * ```
 */
export interface PerCpuLimits {
  /** Pages moved between a per-CPU list and the free lists at once. */
  readonly batch: number;
  /** Pages a per-CPU list holds before it drains a batch. */
  readonly high: number;
}

/**
 * A starting state for {@link BuddyAllocator} (option `initialState`). Every page of RAM ends up in
 * exactly one block: a listed free block, a listed allocated block, or (everything else) an
 * allocated block of the largest aligned order that fits, so a later `freePages` of a listed
 * allocated block with its order succeeds and merges as usual. Allocated blocks take their
 * pageblock's migratetype. Refused with `MmkitError` naming the value (the constructor throws,
 * nothing is built): a block not aligned (`ERR_NOT_ALIGNED`), outside RAM, across a hole or a
 * range end (`ERR_NOT_RAM`), overlapping another (`ERR_OVERLAP`), two free buddies of the same
 * order that the allocator would have merged, a free block of a pageblock or more whose
 * pageblocks differ in type, a migratetype that is not one of the three, watermarks with
 * `min > low` or `low > high` (`ERR_INVALID_ARGUMENT`), one entry per node not given for
 * `watermarks` / `perCpuLimits` (`ERR_INVALID_ARGUMENT`).
 *
 * @example
 * ```ts
 * const buddy = new BuddyAllocator(MemoryMap.uniform(8 << 20), {
 *   initialState: {
 *     pageblocks: [MigrateType.Unmovable, MigrateType.Movable, MigrateType.Movable, MigrateType.Movable],
 *     free: [{ pfn: 1024, order: 10 }, { pfn: 8, order: 3 }],
 *     allocated: [{ pfn: 16, order: 0 }],
 *   },
 * });
 * buddy.freePageCount(); // 1032
 * ```
 */
export interface BuddyInitialState {
  /**
   * Migratetype of each pageblock: entry i is the pageblock of pfns [i * 2^pageblockOrder,
   * (i + 1) * 2^pageblockOrder). Pageblocks past the end of the array are Movable, as at boot.
   */
  readonly pageblocks?: ArrayLike<number>;
  /** Free blocks, each put at the tail of its list (node, order, pageblock type) in this order. */
  readonly free?: readonly DescribedBlock[];
  /** Allocated blocks that must exist with exactly this order (so they can be freed). */
  readonly allocated?: readonly DescribedBlock[];
  /** Watermarks of each node, in node-id order (default: the kernel's formulas). */
  readonly watermarks?: readonly Watermarks[];
  /** Per-CPU limits of each node's lists, for every CPU, in node-id order (default: the kernel's formulas or `pcpBatch`/`pcpHigh`). */
  readonly perCpuLimits?: readonly PerCpuLimits[];
}

/**
 * The kernel's page-allocator constants and migratetypes, as mmkit's buddy allocator uses them.
 */

/** Largest order a block may have by default: 2^10 pages (4 MiB of 4 KiB pages), as in Linux. */
export const MAX_PAGE_ORDER = 10;

/** Default pageblock order (2 MiB of 4 KiB pages), the unit whose migratetype is tracked. */
export const PAGEBLOCK_ORDER = 9;

/** Highest order kept on per-CPU lists (`PAGE_ALLOC_COSTLY_ORDER`). */
export const PAGE_ALLOC_COSTLY_ORDER = 3;

/** Largest `maxOrder` the allocator accepts (blocks of 2^20 pages). */
export const MAX_CONFIGURABLE_ORDER = 20;

/**
 * Migratetypes of the kernel's page allocator (the three kept on per-CPU lists). Every pageblock
 * has one; a free block sits on the free list of its pageblock's type; an allocation asks for one,
 * and falls back to the others in {@link FALLBACK_ORDER} when its own lists are empty.
 *
 * @example
 * ```ts
 * buddy.allocPages(0, { migratetype: MigrateType.Movable });
 * ```
 */
export const MigrateType = {
  /** Kernel allocations that can never move (`GFP_KERNEL`). */
  Unmovable: 0,
  /** User pages and page cache that compaction can migrate (`__GFP_MOVABLE`). */
  Movable: 1,
  /** Slab caches a shrinker can free (`__GFP_RECLAIMABLE`). */
  Reclaimable: 2,
  /**
   * Pageblocks of a reserved contiguous area (`MIGRATE_CMA`): only Movable allocations use them, and
   * contiguous requests are served from them first. Never stolen by another type. Not requestable.
   */
  Cma: 3,
  /**
   * A pageblock being isolated for a contiguous allocation (`MIGRATE_ISOLATE`): its free pages sit
   * on their own lists, are not counted as free and are never handed out. Not requestable.
   */
  Isolate: 4,
} as const;

/** One of {@link MigrateType}'s values. */
export type MigrateType = (typeof MigrateType)[keyof typeof MigrateType];

/** Number of migratetypes ({@link MigrateType}): free lists and pagetypeinfo rows per order. */
export const MIGRATE_TYPES = 5;

/** Migratetypes an allocation may request and per-CPU lists hold (`MIGRATE_PCPTYPES`): Unmovable, Movable, Reclaimable. */
export const MIGRATE_PCPTYPES = 3;

/** Names as `/proc/pagetypeinfo` prints them, indexed by migratetype. */
export const MIGRATE_TYPE_NAMES: readonly string[] = /*#__PURE__*/ Object.freeze(["Unmovable", "Movable", "Reclaimable", "CMA", "Isolate"]);

/** `migratetype_is_mergeable`: free blocks of different pageblock types merge only when both are of these (not CMA, not Isolate). */
export function migratetypeIsMergeable(mt: number): boolean {
  return mt < MIGRATE_PCPTYPES;
}

/**
 * The kernel's `fallbacks[]` table: where an allocation of each migratetype looks, in order, when
 * its own free lists are empty. Unmovable tries Reclaimable then Movable; Movable tries Reclaimable
 * then Unmovable; Reclaimable tries Unmovable then Movable.
 */
export const FALLBACK_ORDER: readonly (readonly MigrateType[])[] = /*#__PURE__*/ Object.freeze([
  /*#__PURE__*/ Object.freeze([MigrateType.Reclaimable, MigrateType.Movable]),
  /*#__PURE__*/ Object.freeze([MigrateType.Reclaimable, MigrateType.Unmovable]),
  /*#__PURE__*/ Object.freeze([MigrateType.Unmovable, MigrateType.Movable]),
]);

import { ErrorCode, MmkitError, describeValue, requireInteger, type ArrayFactory, type MemoryMap } from "@mmkit/physmem";
import { allocCore } from "./allocate.js";
import { freeOnePage, freeToBuddy } from "./buddy-core.js";
import { checkInvariants } from "./check.js";
import { newCompactionCounters, type CompactionCounters } from "./compaction-counters.js";
import { CompactionDeferral } from "./compaction-deferral.js";
import { DEFAULT_EXTFRAG_THRESHOLD, compactionSuitable } from "./compaction-suitable.js";
import { compactZone, type CompactResult, type CompactionRun } from "./compaction.js";
import { allocContigSearch, allocContigSpan, freeContigSpan, requireContigSpan, type ContigFailure } from "./contig-range.js";
import { requireOptions } from "./options.js";
import { tryToCompactPages } from "./direct-compaction.js";
import { requireMover, type PageMover } from "./page-mover.js";
import { DEFAULT_COMPACTION_PROACTIVENESS, fragmentationScoreNode, fragmentationScoreWmark } from "./proactive-compaction.js";
import { applyInitialState } from "./apply-initial-state.js";
import { MigrateType } from "./constants.js";
import { createCpuFront, perCpuPages, type CpuFront, type CpuPages } from "./cpu-pages.js";
import { FaultInjector, type FaultInjectionOptions } from "./fault-injection.js";
import { fragmentationIndex, unusableFreeIndex } from "./fragmentation.js";
import { AF_THISNODE, FREE_KEY_MASK, MT_MASK, MT_SHIFT, ORDER_MASK, ORDER_SHIFT, PAGE_SHIFT, PCP_BATCH, PCP_HIGH, PG_RESERVED, STATE_ALLOCATED, STATE_MASK, ZONE_INTS, Z_FREE, Z_HIGH, Z_LOW, Z_MANAGED, Z_MIN } from "./layout.js";
import { diagnoseFree, orderError, parseAllocOptions, type AllocOptions, type ParsedAlloc } from "./misuse.js";
import { retypePageblocks } from "./page-isolation.js";
import { drainAll, pcpBase } from "./per-cpu.js";
import { BuddyState, type BuddyCounters, type BuddyOptions } from "./state.js";
import {
  buddyinfo,
  formatBuddyinfo,
  formatPagetypeinfo,
  freeBlocksPerOrder,
  freeLists,
  pagetypeinfo,
  type BuddyInfo,
  type FreeList,
  type PageTypeInfo,
} from "./statistics.js";
import type { Watermarks } from "./watermarks.js";

/**
 * What a page belongs to, as {@link BuddyAllocator.blockOf} reports it.
 *
 * @example
 * ```ts
 * const buddy = new BuddyAllocator(MemoryMap.uniform(64 * MiB));
 * const pfn = buddy.allocPages(2, { migratetype: MigrateType.Movable });   // 0
 * buddy.blockOf(pfn + 1);   // { pfn: 0, order: 2, state: "allocated", migratetype: 1, node: 0 }
 * ```
 */
export interface BlockInfo {
  /** First pfn of the block holding the page. */
  readonly pfn: number;
  /** Order of the block: it holds 2^order pages. */
  readonly order: number;
  /** "free" (on the free lists), "per-cpu" (on a CPU's list) or "allocated". */
  readonly state: "free" | "per-cpu" | "allocated";
  /** The list's migratetype (free, per-CPU) or the request's (allocated). */
  readonly migratetype: MigrateType;
  /** Node id. */
  readonly node: number;
}

/**
 * Options of {@link BuddyAllocator.compact}.
 *
 * @example
 * ```ts
 * buddy.compact(mover, { order: 9, node: 0 });
 * ```
 */
export interface CompactOptions {
  /** Order to compact for: stop once a block of it is free with the min watermark met; -1 (default) compacts the whole zone. */
  order?: number;
  /** Node id to compact (default every node, in id order). */
  node?: number;
  /**
   * Also scan Reclaimable pageblocks and move Reclaimable blocks the mover agrees to move
   * (`isMovable` decides, as for a non-LRU movable page); default false: Movable only.
   */
  reclaimable?: boolean;
}

/**
 * Options of {@link BuddyAllocator.allocContigPages}.
 *
 * @example
 * ```ts
 * buddy.allocContigPages(2048, mover, { node: 1, alignPages: 256, thisNode: true });
 * ```
 */
export interface ContigPagesOptions {
  /** Node id searched first (default the first node). */
  node?: number;
  /** The range starts at a pfn that is a multiple of this power of two (default: the smallest power of two >= count). */
  alignPages?: number;
  /** Search only `node` (`__GFP_THISNODE`); default false: the other nodes follow, nearest first. */
  thisNode?: boolean;
}

/**
 * What {@link BuddyAllocator.allocPagesCompacting} did.
 *
 * @example
 * ```ts
 * const { pfn, compaction } = buddy.allocPagesCompacting(9, mover, { migratetype: MigrateType.Movable });
 * // pfn: first pfn of the block or -1; compaction: null if the first try succeeded, else "success", "complete", ...
 * ```
 */
export interface CompactingAlloc {
  /** First pfn of the block, or -1. */
  readonly pfn: number;
  /** The direct compaction's result (`COMPACT_*`), or null when none ran (the first try succeeded, or order 0). */
  readonly compaction: CompactResult | null;
}

/**
 * Deferred-compaction state of a node (`compact_considered`, `compact_defer_shift`, `compact_order_failed`).
 *
 * @example
 * ```ts
 * buddy.compactionDeferral(0);   // { considered: 0, deferShift: 1, orderFailed: 9 } after one failed order-9 run
 * ```
 */
export interface CompactionDeferState {
  /** Requests of a deferred order seen since the last failure. */
  readonly considered: number;
  /** Compaction is tried once per 2^deferShift requests (0..6). */
  readonly deferShift: number;
  /** Lowest order whose compaction failed; smaller orders are never deferred. */
  readonly orderFailed: number;
}

const STATE_NAMES = ["none", "free", "per-cpu", "allocated"] as const;

/**
 * A Linux-style binary buddy page allocator over the RAM of a `MemoryMap`: free lists per node,
 * order (0..maxOrder) and migratetype, with one 64-byte `struct page` record per page in the
 * metadata arena; splitting as `expand()` does, merging with tail placement by
 * `buddy_merge_likely`; per-CPU lists ({@link cpu}); min/low/high watermarks; migratetype fallback
 * and pageblock stealing; buddyinfo, pagetypeinfo and the extfrag indices; seeded fault injection.
 * Blocks never cross a hole or a node. Running out of memory returns -1; misuse throws
 * `MmkitError` and changes nothing.
 *
 * Costs: `allocPages(order)` is O(maxOrder) (a list head per order until one is non-empty, then
 * one list insertion per split); `freePages` is O(merges), touching the page record of each buddy
 * looked at and the `free_area` line of each order merged through. Through a CPU front, orders 0..3
 * are O(1) and touch no free list except when a batch refills or drains. Metadata: 64 bytes per
 * spanned page, plus 64 bytes per node and order and 128 bytes per CPU and node.
 *
 * @example
 * ```ts
 * const buddy = new BuddyAllocator(MemoryMap.uniform(64 << 20));
 * const pfn = buddy.allocPages(2);   // 4 contiguous pages
 * buddy.freePages(pfn, 2);
 * buddy.buddyinfo()[0].freeBlocks;   // [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16]
 * ```
 */
export class BuddyAllocator {
  /** The machine's memory map: the RAM ranges and nodes this allocator manages. */
  readonly map: MemoryMap;
  /** Where the allocator's metadata arrays come from (and are measured). */
  readonly arena: ArrayFactory;
  /** Largest block order. */
  readonly maxOrder: number;
  /** Order of a pageblock, the unit of migratetype ownership. */
  readonly pageblockOrder: number;
  /** Bytes per page (the memory map's page size). */
  readonly pageSize: number;
  /** Number of CPU fronts. */
  readonly cpus: number;
  /** `vm.min_free_kbytes` in effect. */
  readonly minFreeKbytes: number;
  readonly #s: BuddyState;
  readonly #fronts: CpuFront[];
  readonly #parsed: ParsedAlloc = { mt: 0, node: 0, flags: 0, cpu: -1 };
  #compaction: CompactionCounters = newCompactionCounters();
  readonly #deferral: CompactionDeferral;
  #extfragThreshold = DEFAULT_EXTFRAG_THRESHOLD;
  readonly #contigFailure: { last: ContigFailure | null } = { last: null };

  constructor(map: MemoryMap, options: BuddyOptions = {}) {
    const s = new BuddyState(map, options);
    this.#s = s;
    this.map = map;
    this.arena = s.arena;
    this.maxOrder = s.maxOrder;
    this.pageblockOrder = s.pbOrder;
    this.pageSize = s.pageSize;
    this.cpus = s.cpuCount;
    this.minFreeKbytes = s.minFreeKbytes;
    this.#deferral = new CompactionDeferral(s.nodeCount);
    // A described starting state (a kernel's snapshot laid out), or memblock_free_all: every RAM
    // range goes to the free lists in maximal aligned blocks, at the tail (FPI_TO_TAIL), so the
    // lists start in address order.
    if (options.initialState !== undefined) applyInitialState(s, options.initialState);
    else for (const range of map.ranges) {
      const node = s.nodeIds.indexOf(range.node);
      for (let pfn = range.startPfn; pfn < range.endPfn; ) {
        const idx = pfn - s.base;
        let o = s.maxOrder;
        while (o > 0 && (idx % 2 ** o !== 0 || pfn + 2 ** o > range.endPfn)) o--;
        freeOnePage(s, node, idx, o, MigrateType.Movable, true);
        pfn += 2 ** o;
      }
    }
    // cma_activate_area: the CMA pageblocks' free pages go to the CMA lists.
    if (s.cmaStart >= 0) retypePageblocks(s, s.cmaStart, s.cmaEnd, MigrateType.Cma);
    s.resetCounters();
    this.#fronts = [];
    for (let c = 0; c < s.cpuCount; c++) this.#fronts.push(createCpuFront(s, c));
  }

  /**
   * First pfn of 2^order free pages, or -1 when none can be had (watermark, no block, or an
   * injected failure). Without `options.cpu` it takes from the free lists directly; with it, orders
   * 0..3 go through that CPU's lists. Throws `ERR_INVALID_ARGUMENT`/`ERR_OUT_OF_RANGE` on a bad
   * order or option. O(maxOrder); see the class for lines touched.
   *
   * @example
   * ```ts
   * buddy.allocPages(0, { migratetype: MigrateType.Movable, atomic: true });
   * ```
   */
  allocPages(order: number, options?: AllocOptions): number {
    const s = this.#s;
    // `typeof` first: `&` on a BigInt would throw a TypeError instead of the typed error.
    if (typeof order !== "number" || (order & 31) !== order || order > s.maxOrder) throw orderError(s, order);
    let idx: number;
    if (options === undefined) idx = allocCore(s, -1, order, s.defaultMt, 0, 0);
    else {
      const p = this.#parsed;
      parseAllocOptions(s, options, 0, p, true);
      idx = allocCore(s, p.cpu, order, p.mt, p.node, p.flags);
    }
    return idx < 0 ? -1 : idx + s.base;
  }

  /**
   * Frees the 2^order pages at `pfn`, merging with free buddies, straight to the free lists.
   * Throws (changing nothing) on a non-integer, an order out of range, a pfn not in RAM or not
   * aligned (`ERR_NOT_RAM`, `ERR_NOT_ALIGNED`), a double free (`ERR_DOUBLE_FREE`), another order
   * than allocated (`ERR_WRONG_SIZE`), or a pfn never handed out (`ERR_NOT_ALLOCATED`). O(merges).
   *
   * @example
   * ```ts
   * buddy.freePages(buddy.allocPages(3), 3);
   * ```
   */
  freePages(pfn: number, order: number): void {
    const s = this.#s;
    // `typeof` before any arithmetic: a BigInt pfn or order would throw a TypeError, not the typed error.
    const idx = typeof pfn === "number" ? pfn - s.base : -1;
    if ((idx | 0) !== idx || idx < 0 || idx >= s.pages || typeof order !== "number" || (order & 31) !== order) throw diagnoseFree(s, pfn, order);
    const f = s.mem[idx << PAGE_SHIFT]!;
    if ((f & FREE_KEY_MASK) !== (STATE_ALLOCATED | (order << ORDER_SHIFT))) throw diagnoseFree(s, pfn, order);
    s.counters.frees++;
    freeToBuddy(s, idx, order);
  }

  /**
   * CPU `i`'s front: the same `allocPages`/`freePages` through its per-CPU lists. O(1); the front
   * object is created once and reused.
   *
   * @example
   * ```ts
   * const pfn = buddy.cpu(1).allocPages(0);
   * buddy.cpu(0).freePages(pfn, 0);  // freeing on another CPU is fine
   * ```
   */
  cpu(i: number): CpuPages {
    const front = this.#fronts[i];
    if (front === undefined || typeof i !== "number") {
      requireInteger(i, "cpu", 0, this.#s.cpuCount - 1);
      throw new MmkitError(ErrorCode.OutOfRange, `cpu must be in [0, ${this.#s.cpuCount - 1}], got ${describeValue(i)}`);
    }
    return front;
  }

  /** Returns every CPU's lists to the free lists (`drain_all_pages`). O(pages held). */
  drainAll(): void {
    drainAll(this.#s);
  }

  #node(node: unknown): number {
    return node === undefined ? -1 : this.#s.requireNode(node, "node");
  }

  #sumZone(node: number | undefined, field: number): number {
    const s = this.#s;
    const slot = this.#node(node);
    let total = 0;
    for (let n = 0; n < s.nodeCount; n++) if (slot < 0 || n === slot) total += s.zone[n * ZONE_INTS + field]!;
    return total;
  }

  /** Free pages on the free lists (`NR_FREE_PAGES`) of `node`, or of all nodes. O(nodes). */
  freePageCount(node?: number): number {
    return this.#sumZone(node, Z_FREE);
  }

  /** Pages of RAM the allocator manages on `node`, or on all nodes. O(nodes). */
  managedPages(node?: number): number {
    return this.#sumZone(node, Z_MANAGED);
  }

  /** Pages sitting on per-CPU lists for `node`, or for all nodes. O(cpus x nodes). */
  perCpuPageCount(node?: number): number {
    return perCpuPages(this.#s, this.#node(node));
  }

  /** Pages handed out (managed - free - per-CPU) on `node` or all nodes. */
  allocatedPageCount(node?: number): number {
    return this.managedPages(node) - this.freePageCount(node) - this.perCpuPageCount(node);
  }

  /** The min/low/high watermarks of `node` (default the first node), in pages. O(1). */
  watermarks(node?: number): Watermarks {
    const slot = Math.max(0, this.#node(node));
    const z = slot * ZONE_INTS;
    const zone = this.#s.zone;
    return { min: zone[z + Z_MIN]!, low: zone[z + Z_LOW]!, high: zone[z + Z_HIGH]! };
  }

  /** `batch` and `high` of the per-CPU lists of `cpu` for `node` (default its home node). */
  perCpuLimits(cpu: number, node?: number): { batch: number; high: number } {
    const s = this.#s;
    const c = requireInteger(cpu, "cpu", 0, s.cpuCount - 1);
    const slot = node === undefined ? s.cpuHome[c]! : s.requireNode(node, "node");
    const base = pcpBase(s, c, slot);
    return { batch: s.pcp[base + PCP_BATCH]!, high: s.pcp[base + PCP_HIGH]! };
  }

  /** Migratetype of the pageblock holding `pfn` (throws `ERR_NOT_RAM` outside RAM). O(1). */
  pageblockMigratetype(pfn: number): MigrateType {
    const idx = this.#requireRamIndex(pfn);
    return this.#s.pb[idx >> this.#s.pbOrder]! as MigrateType;
  }

  #requireRamIndex(pfn: unknown): number {
    const s = this.#s;
    if (typeof pfn !== "number" || !Number.isSafeInteger(pfn)) throw new MmkitError(ErrorCode.InvalidArgument, `pfn must be an integer, got ${describeValue(pfn)}`);
    const idx = pfn - s.base;
    if (idx < 0 || idx >= s.pages || (s.mem[idx << PAGE_SHIFT]! & PG_RESERVED) !== 0) {
      throw new MmkitError(ErrorCode.NotRam, `pfn ${pfn} is not RAM (outside the memory map or in a hole)`);
    }
    return idx;
  }

  /**
   * The block holding page `pfn`: its first pfn, order, state and migratetype. O(maxOrder).
   *
   * @example
   * ```ts
   * buddy.blockOf(buddy.allocPages(2) + 3); // { pfn, order: 2, state: "allocated", ... }
   * ```
   */
  blockOf(pfn: number): BlockInfo {
    const s = this.#s;
    const idx = this.#requireRamIndex(pfn);
    for (let o = 0; o <= s.maxOrder; o++) {
      const h = idx & ~((1 << o) - 1);
      const f = s.mem[h << PAGE_SHIFT]!;
      const state = f & STATE_MASK;
      const order = (f >> ORDER_SHIFT) & ORDER_MASK;
      if (state !== 0 && order >= o) {
        return { pfn: h + s.base, order, state: STATE_NAMES[state] as BlockInfo["state"], migratetype: ((f >> MT_SHIFT) & MT_MASK) as MigrateType, node: s.nodeIds[(f >>> 16) & 1023]! };
      }
    }
    throw new MmkitError(ErrorCode.Invariant, `pfn ${pfn} is in no block`);
  }

  /** `/proc/buddyinfo`: free blocks per order for each node. */
  buddyinfo(): BuddyInfo[] {
    return buddyinfo(this.#s);
  }

  /** `/proc/buddyinfo` as text. */
  formatBuddyinfo(): string {
    return formatBuddyinfo(this.#s);
  }

  /** `/proc/pagetypeinfo`: free blocks per migratetype and order, and pageblocks per migratetype. */
  pagetypeinfo(): PageTypeInfo[] {
    return pagetypeinfo(this.#s);
  }

  /** `/proc/pagetypeinfo` as text. */
  formatPagetypeinfo(): string {
    return formatPagetypeinfo(this.#s);
  }

  /** Every non-empty free list of `node` (default all), blocks in list order. O(free blocks). */
  freeLists(node?: number): FreeList[] {
    return freeLists(this.#s, this.#node(node));
  }

  #blocks(node: number | undefined): number[] {
    const s = this.#s;
    const slot = this.#node(node);
    const total = new Array<number>(s.maxOrder + 1).fill(0);
    for (let n = 0; n < s.nodeCount; n++) {
      if (slot >= 0 && n !== slot) continue;
      freeBlocksPerOrder(s, n).forEach((b, o) => (total[o]! += b));
    }
    return total;
  }

  /**
   * The kernel's `unusable_free_index` (x1000) for `order` on `node`, or over all nodes' free blocks.
   *
   * @example
   * ```ts
   * buddy.unusableFreeIndex(9); // 0 on a fresh allocator
   * ```
   */
  unusableFreeIndex(order: number, node?: number): number {
    const o = requireInteger(order, "order", 0, this.maxOrder);
    return unusableFreeIndex(o, this.#blocks(node));
  }

  /**
   * The kernel's `fragmentation_index` (x1000) for `order` on `node`, or over all nodes: -1000 when
   * the allocation would succeed, towards 0 for lack of memory, towards 1000 for fragmentation.
   */
  fragmentationIndex(order: number, node?: number): number {
    const o = requireInteger(order, "order", 0, this.maxOrder);
    return fragmentationIndex(o, this.#blocks(node));
  }

  /** Order of the largest free block on `node` (or anywhere), -1 when nothing is free. */
  largestFreeOrder(node?: number): number {
    const blocks = this.#blocks(node);
    for (let o = blocks.length - 1; o >= 0; o--) if (blocks[o]! > 0) return o;
    return -1;
  }

  /** A copy of the event counters. */
  counters(): BuddyCounters {
    const c = { ...this.#s.counters };
    for (const front of this.#fronts) {
      c.allocs += front.fastAllocs;
      c.pcpAllocs += front.fastAllocs;
      c.frees += front.fastFrees;
      c.pcpFrees += front.fastFrees;
    }
    return c;
  }

  /**
   * Runs compaction (`compact_zone`) on one node or every node: movable pages of Movable pageblocks
   * move, through `mover`, from the bottom of the zone to free pages at its top, until the scanners
   * meet or, with `options.order`, a block of that order is free with the min watermark met. No
   * deferral or suitability check (that is {@link allocPagesCompacting}). Throws
   * `ERR_INVALID_ARGUMENT`/`ERR_OUT_OF_RANGE` on bad arguments (nothing changed) and
   * `ERR_INVALID_STATE` when the mover throws or lies (the moves done stay done; every page is
   * accounted for). O(pages of the nodes) plus one mover call per block moved.
   *
   * @example
   * ```ts
   * const [run] = buddy.compact(mover, { order: 9, node: 0 });
   * run.result;   // "success" or "complete"
   * ```
   */
  compact(mover: PageMover, options: CompactOptions = {}): CompactionRun[] {
    const s = this.#s;
    const m = requireMover(mover);
    if (options === null || typeof options !== "object") throw new MmkitError(ErrorCode.InvalidArgument, `compact options must be an object, got ${describeValue(options)}`);
    const order = options.order === undefined ? -1 : requireInteger(options.order, "order", -1, s.maxOrder);
    const only = options.node === undefined ? -1 : s.requireNode(options.node, "node");
    if (options.reclaimable !== undefined && typeof options.reclaimable !== "boolean") throw new MmkitError(ErrorCode.InvalidArgument, `reclaimable must be a boolean, got ${describeValue(options.reclaimable)}`);
    const runs: CompactionRun[] = [];
    for (let n = 0; n < s.nodeCount; n++) if (only < 0 || n === only) runs.push(compactZone(s, this.#compaction, m, n, order, -1, options.reclaimable === true));
    return runs;
  }

  /**
   * `allocPages`, and when that fails for order > 0, direct compaction as the kernel's slow path
   * does it (`__alloc_pages_direct_compact`): the nodes in zonelist order, each unless its
   * compaction is deferred or not suitable ({@link compactionSuitable}), then one more try.
   * Counts `compact_stall` when compaction was not skipped, then `compact_success` or
   * `compact_fail`; a run that completes without success defers the node (`defer_compaction`).
   * Throws as `allocPages` and {@link compact} do. O(allocPages) + O(compaction).
   *
   * @example
   * ```ts
   * const { pfn } = buddy.allocPagesCompacting(9, mover);
   * ```
   */
  allocPagesCompacting(order: number, mover: PageMover, options?: AllocOptions): CompactingAlloc {
    const s = this.#s;
    const m = requireMover(mover);
    const first = this.allocPages(order, options);
    if (first >= 0 || order === 0) return { pfn: first, compaction: null };
    const p: ParsedAlloc = { mt: 0, node: 0, flags: 0, cpu: -1 };
    if (options !== undefined) parseAllocOptions(s, options, 0, p, true);
    const result = tryToCompactPages(s, this.#compaction, this.#deferral, m, order, p.node, (p.flags & AF_THISNODE) !== 0, this.#extfragThreshold);
    if (result === "skipped") return { pfn: -1, compaction: result };
    this.#compaction.compactStall++;
    const pfn = this.allocPages(order, options);
    if (pfn >= 0) {
      this.#compaction.compactSuccess++;
      this.#deferral.reset((s.mem[(pfn - s.base) << PAGE_SHIFT]! >>> 16) & 1023, order, true);
    } else this.#compaction.compactFail++;
    return { pfn, compaction: result };
  }

  /**
   * kcompactd's proactive step (`should_proactive_compact_node` + `proactive_compact_node`), to
   * call as a background tick: each node whose {@link fragmentationScore} is above the high mark
   * of `proactiveness` (0..100, `vm.compaction_proactiveness`, default 20; 0 disables) is
   * compacted over its whole zone until its zone score is at most the low mark
   * (max(100 - proactiveness, 5); high = low + 10). Returns the runs done (none when every node is
   * below the mark). Throws as {@link compact} does. O(maxOrder x nodes) + O(compaction).
   *
   * @example
   * ```ts
   * buddy.proactiveCompact(mover, 20);   // [] unless a node's score is above 90
   * ```
   */
  proactiveCompact(mover: PageMover, proactiveness: number = DEFAULT_COMPACTION_PROACTIVENESS): CompactionRun[] {
    const s = this.#s;
    const m = requireMover(mover);
    const p = requireInteger(proactiveness, "proactiveness", 0, 100);
    const runs: CompactionRun[] = [];
    if (p === 0) return runs;
    for (let n = 0; n < s.nodeCount; n++) {
      if (fragmentationScoreNode(s, n) <= fragmentationScoreWmark(p, false)) continue;
      // The daemon woke to compact this node (compact_daemon_wake).
      this.#compaction.compactDaemonWake++;
      runs.push(compactZone(s, this.#compaction, m, n, -1, fragmentationScoreWmark(p, true)));
    }
    return runs;
  }

  /**
   * `alloc_contig_range`: takes the `count` pages at `startPfn` (one node, no hole, any alignment)
   * for the caller. The pageblocks covering them are isolated (`MIGRATE_ISOLATE`: their free pages
   * leave the allocatable lists), every allocated block in the range is moved out through `mover`
   * to a free block elsewhere (up to 5 attempts each, as the kernel's `tries`), the range is taken,
   * and the isolation is undone, on success and failure alike. Returns `startPfn`, or -1 when the
   * range cannot be had: an Unmovable page, a pinned page, a move refused 5 times, no memory to
   * move to, or a page still busy; {@link lastContigFailure} says which, and where. The pages are
   * then allocated Unmovable blocks that only {@link freeContigRange} gives back (`freePages` on
   * them is `ERR_NOT_ALLOCATED`), and that compaction never moves.
   *
   * Throws, changing nothing, on bad input: a non-integer (`ERR_INVALID_ARGUMENT`), `count` < 1
   * (`ERR_OUT_OF_RANGE`), a range outside RAM or across a hole (`ERR_NOT_RAM`) or across nodes
   * (`ERR_INVALID_ARGUMENT`), a mover without its three methods. A mover that throws or lies
   * is `ERR_INVALID_STATE`, as in {@link compact}: the blocks moved before stay moved, the block
   * being moved stays where it was, the isolation is undone and every page is accounted for.
   * Counts into {@link compactionCounters} (`pgmigrate_*`, `compact_migrate_scanned`,
   * `compact_isolated`, `contigAllocSuccess`/`contigAllocFail`). O(pages of the covering
   * pageblocks) plus one mover call per block moved.
   *
   * @example
   * ```ts
   * const pfn = buddy.allocContigRange(4096, 2048, mover);   // 8 MiB of 4 KiB pages at pfn 4096, or -1
   * if (pfn < 0) console.log(buddy.lastContigFailure);       // { reason: "unmovable", pfn: 5000, order: 0 }
   * else buddy.freeContigRange(pfn, 2048);
   * ```
   */
  allocContigRange(startPfn: number, count: number, mover: PageMover): number {
    const s = this.#s;
    const span = requireContigSpan(s, startPfn, count);
    const m = requireMover(mover);
    const idx = allocContigSpan(s, this.#compaction, m, span, this.#contigFailure);
    if (idx < 0) this.#compaction.contigAllocFail++;
    else this.#compaction.contigAllocSuccess++;
    return idx < 0 ? -1 : idx + s.base;
  }

  /**
   * `alloc_contig_pages`: finds and takes `count` contiguous pages on one node, starting at a pfn
   * that is a multiple of `alignPages` (a power of two; default the smallest power of two >=
   * `count`, as the kernel aligns to the request). The CMA area is searched first, then each node's
   * RAM from its start: a candidate range holding an Unmovable or contiguous-range page is skipped
   * (the search goes on past that page), and the others are tried with {@link allocContigRange}
   * until one succeeds. `node` names the node to search first (default the first node); the others
   * follow nearest first unless `thisNode`. Returns the first pfn or -1, with
   * {@link lastContigFailure} then the last candidate's failure, or `"no-range"` when no candidate
   * qualified. Bad input (non-integer or count < 1, `alignPages` not a power of two, an unknown
   * node, a bad mover) throws, changing nothing. Costs as `allocContigRange` per candidate tried,
   * plus O(pages) scanned.
   *
   * @example
   * ```ts
   * const pfn = buddy.allocContigPages(2048, mover, { alignPages: 256 });   // 8 MiB at a 1 MiB boundary, or -1
   * ```
   */
  allocContigPages(count: number, mover: PageMover, options: ContigPagesOptions = {}): number {
    const s = this.#s;
    const n = requireInteger(count, "count", 1, s.pages);
    const m = requireMover(mover);
    requireOptions(options, "allocContigPages options");
    const align = options.alignPages === undefined ? 2 ** Math.ceil(Math.log2(n)) : requireInteger(options.alignPages, "alignPages", 1, 2 ** 40);
    if (!Number.isInteger(Math.log2(align))) throw new MmkitError(ErrorCode.OutOfRange, `alignPages must be a power of two, got ${align}`);
    const first = options.node === undefined ? 0 : s.requireNode(options.node, "node");
    if (options.thisNode !== undefined && typeof options.thisNode !== "boolean") throw new MmkitError(ErrorCode.InvalidArgument, `thisNode must be a boolean, got ${describeValue(options.thisNode)}`);
    const nodes = [first];
    if (options.thisNode !== true) {
      for (let d = 1; d < s.nodeCount; d++) {
        if (first - d >= 0) nodes.push(first - d);
        if (first + d < s.nodeCount) nodes.push(first + d);
      }
    }
    const idx = allocContigSearch(s, this.#compaction, m, n, align, nodes, this.#contigFailure);
    if (idx < 0) this.#compaction.contigAllocFail++;
    else this.#compaction.contigAllocSuccess++;
    return idx < 0 ? -1 : idx + s.base;
  }

  /**
   * `free_contig_range`: gives back the `count` pages at `startPfn`, every one of which must have
   * been taken by {@link allocContigRange} (or {@link allocContigPages}); any part of a taken range
   * may be freed, the rest staying taken. Throws, changing nothing, on bad input as
   * `allocContigRange` does, and `ERR_NOT_ALLOCATED` naming the first page not taken that way
   * (free, or allocated by `allocPages`). O(count + merges).
   *
   * @example
   * ```ts
   * buddy.freeContigRange(buddy.allocContigRange(4096, 2048, mover), 2048);
   * ```
   */
  freeContigRange(startPfn: number, count: number): void {
    freeContigSpan(this.#s, requireContigSpan(this.#s, startPfn, count));
  }

  /**
   * Why the last contiguous allocation ({@link allocContigRange}, {@link allocContigPages}) returned
   * -1, or null when it succeeded (or none ran); a call that throws leaves it as it was. O(1).
   */
  get lastContigFailure(): ContigFailure | null {
    return this.#contigFailure.last;
  }

  /**
   * The fragmentation score of `node` (default the first node) as kcompactd computes it
   * (`fragmentation_score_node`): the percentage of free pages outside blocks of a pageblock or
   * more, weighted by present pages / (present + 1); 0..100. O(maxOrder).
   *
   * @example
   * ```ts
   * buddy.fragmentationScore();   // 0 on a fresh allocator
   * ```
   */
  fragmentationScore(node?: number): number {
    return fragmentationScoreNode(this.#s, Math.max(0, this.#node(node)));
  }

  /**
   * `compaction_suitable` for an allocation of `order` on `node` (default the first node): "success"
   * when it would already succeed, "skipped" when compaction cannot help (too few free pages, or a
   * fragmentation index in [0, extfragThreshold] for a costly order), else "continue". O(maxOrder).
   *
   * @example
   * ```ts
   * buddy.compactionSuitable(9);   // "continue" on a fragmented machine with memory to spare
   * ```
   */
  compactionSuitable(order: number, node?: number): CompactResult {
    const o = requireInteger(order, "order", 0, this.maxOrder);
    return compactionSuitable(this.#s, Math.max(0, this.#node(node)), o, this.#extfragThreshold);
  }

  /** `vm.extfrag_threshold` (0..1000, default 500) used by {@link compactionSuitable}. */
  get extfragThreshold(): number {
    return this.#extfragThreshold;
  }

  set extfragThreshold(value: number) {
    this.#extfragThreshold = requireInteger(value, "extfragThreshold", 0, 1000);
  }

  /** The deferred-compaction state of `node` (default the first node). O(1). */
  compactionDeferral(node?: number): CompactionDeferState {
    const n = Math.max(0, this.#node(node));
    const d = this.#deferral;
    return { considered: d.considered[n]!, deferShift: d.shift[n]!, orderFailed: d.orderFailed[n]! };
  }

  /** A copy of the compaction counters (the `compact_*` and `pgmigrate_*` lines of `/proc/vmstat`). */
  compactionCounters(): CompactionCounters {
    return { ...this.#compaction };
  }

  /** Zeroes the event counters (the compaction counters too). */
  resetCounters(): void {
    this.#compaction = newCompactionCounters();
    this.#s.resetCounters();
    for (const front of this.#fronts) front.resetFastCounters();
  }

  /**
   * Arms `fail_page_alloc`-style fault injection (validated first; throws on bad settings and
   * keeps the old ones), or disarms it with `null`.
   *
   * @example
   * ```ts
   * buddy.setFaultInjection({ probability: 10, minOrder: 3, seed: 42 });
   * ```
   */
  setFaultInjection(options: FaultInjectionOptions | null): void {
    const s = this.#s;
    if (options === null) {
      s.fault = null;
      s.faultArmed = false;
    } else {
      s.fault = new FaultInjector(options);
      s.faultArmed = true;
    }
    for (const front of this.#fronts) front.syncFault();
  }

  /** The armed fault-injection settings, or null. */
  get faultInjection(): Readonly<Required<FaultInjectionOptions>> | null {
    return this.#s.fault?.options ?? null;
  }

  /**
   * Validates every invariant (see the package README) and throws `ERR_INVARIANT` on the first one
   * broken. O(spanned pages + free blocks).
   */
  check(): void {
    checkInvariants(this.#s);
  }
}


import { ErrorCode, MmkitError, MetadataArena, requireArrayFactory, describeValue, requireInteger, type ArrayFactory, type MemoryMap } from "@mmkit/physmem";
import { MAX_CONFIGURABLE_ORDER, MAX_PAGE_ORDER, MIGRATE_PCPTYPES, MIGRATE_TYPES, MigrateType, PAGEBLOCK_ORDER, PAGE_ALLOC_COSTLY_ORDER } from "./constants.js";
import { FaultInjector, type FaultInjectionOptions } from "./fault-injection.js";
import type { BuddyInitialState } from "./initial-state.js";
import { optional, requireOptions } from "./options.js";
import { requireRamSpan } from "./ram-span.js";
import {
  FA_INTS,
  FA_LISTS,
  NODE_SHIFT,
  PAGE_SHIFT,
  PAGE_INTS,
  PCP_BATCH,
  PCP_HIGH,
  PCP_INTS,
  PCP_LISTS,
  PG_RESERVED,
  ZONE_INTS,
  Z_HIGH,
  Z_LOW,
  Z_MANAGED,
  Z_MIN,
  Z_SPAN_END,
  Z_SPAN_START,
} from "./layout.js";
import { DEFAULT_WATERMARK_SCALE_FACTOR, minFreeKbytes, zoneBatchsize, zoneHighsize, zoneWatermarks } from "./watermarks.js";

/**
 * Options for {@link BuddyAllocator}.
 *
 * @example
 * ```ts
 * const buddy = new BuddyAllocator(MemoryMap.uniform(64 * MiB), { maxOrder: 8, pageblockOrder: 8, cpus: 2 });
 * buddy.buddyinfo()[0]?.freeBlocks.length;   // 9: orders 0..8
 * ```
 */
export interface BuddyOptions {
  /** Where the metadata arrays come from (default a new `MetadataArena`). */
  arena?: ArrayFactory;
  /** Largest block order, 0..20 (default 10, `MAX_PAGE_ORDER`). */
  maxOrder?: number;
  /** Pageblock order, 0..maxOrder (default min(9, maxOrder)). */
  pageblockOrder?: number;
  /** Number of per-CPU fronts, 1..1024 (default 1). */
  cpus?: number;
  /** Home node id of each CPU (default: CPU i on the i-th node, round robin). */
  cpuNodes?: readonly number[];
  /** Per-CPU list batch in pages (default the kernel's `zone_batchsize`). */
  pcpBatch?: number;
  /** Per-CPU list high mark in pages (default the kernel's `zone_highsize`). */
  pcpHigh?: number;
  /** `vm.min_free_kbytes` (default `int_sqrt(KiB * 16)` clamped to [128, 262144]). */
  minFreeKbytes?: number;
  /** `vm.watermark_scale_factor`, 1..3000 (default 10). */
  watermarkScaleFactor?: number;
  /** Group pages by mobility (default true). False: every request is Movable, nothing falls back. */
  groupByMobility?: boolean;
  /** Claim whole pageblocks when falling back (default true). False: take single blocks only. */
  stealWholeBlocks?: boolean;
  /** Migratetype of requests that name none (default Unmovable, like `GFP_KERNEL`). */
  defaultMigratetype?: MigrateType;
  /** Start with `fail_page_alloc`-style fault injection armed. */
  faultInjection?: FaultInjectionOptions;
  /** Start from this described state (pageblock types, free and allocated blocks, watermarks, per-CPU limits) instead of all RAM free. */
  initialState?: BuddyInitialState;
  /**
   * A reserved contiguous area (CMA): `{ startPfn, count }` (both multiples of the pageblock size,
   * RAM of one node without a hole) or a page count (rounded up to whole pageblocks, placed at the
   * top of the highest RAM range that holds it, as the kernel places its default CMA area). Its
   * pageblocks are `MigrateType.Cma`: only Movable allocations use them, and contiguous requests
   * (`allocContigPages`) look there first.
   */
  cma?: CmaOptions | number;
}

/**
 * Where a CMA area lies, as {@link BuddyOptions.cma} takes it.
 *
 * @example
 * ```ts
 * new BuddyAllocator(MemoryMap.uniform(64 * MiB), { cma: { startPfn: 8192, count: 4096 } });   // the top 16 MiB
 * ```
 */
export interface CmaOptions {
  /** First pfn of the area (a multiple of the pageblock size). */
  startPfn: number;
  /** Pages in the area (a multiple of the pageblock size). */
  count: number;
}

/**
 * Event counters, like the `pgalloc`/`pgfree`/`pgsteal` lines of `/proc/vmstat`.
 *
 * @example
 * ```ts
 * const buddy = new BuddyAllocator(MemoryMap.uniform(64 * MiB));
 * buddy.freePages(buddy.allocPages(0), 0);
 * buddy.counters();   // { allocs: 1, frees: 1, splits: 10, merges: 10, ... }
 * ```
 */
export interface BuddyCounters {
  /** Successful allocations (any path). */
  allocs: number;
  /** Frees (any path). */
  frees: number;
  /** Halves put back on a free list by `expand()`. */
  splits: number;
  /** Buddy pairs merged on free. */
  merges: number;
  /** Allocations served from a per-CPU list. */
  pcpAllocs: number;
  /** Frees onto a per-CPU list. */
  pcpFrees: number;
  /** Per-CPU refills from the free lists (`rmqueue_bulk`). */
  pcpRefills: number;
  /** Per-CPU batch drains to the free lists (`free_pcppages_bulk`). */
  pcpDrains: number;
  /** Allocations served from another migratetype (`mm_page_alloc_extfrag`). */
  fallbacks: number;
  /** Pageblocks whose migratetype changed to the requester's. */
  pageblockSteals: number;
  /** Allocations that returned -1 (injected failures included). */
  allocFailures: number;
  /** Node attempts refused by a watermark. */
  watermarkFailures: number;
  /** Failures injected by fault injection. */
  injectedFailures: number;
}

function newCounters(): BuddyCounters {
  return {
    allocs: 0,
    frees: 0,
    splits: 0,
    merges: 0,
    pcpAllocs: 0,
    pcpFrees: 0,
    pcpRefills: 0,
    pcpDrains: 0,
    fallbacks: 0,
    pageblockSteals: 0,
    allocFailures: 0,
    watermarkFailures: 0,
    injectedFailures: 0,
  };
}

function requireBoolean(value: unknown, name: string, dflt: boolean): boolean {
  if (value === undefined) return dflt;
  if (typeof value !== "boolean") throw new MmkitError(ErrorCode.InvalidArgument, `${name} must be a boolean, got ${describeValue(value)}`);
  return value;
}

/** Pages of a CMA option: the count, rounded up to whole pageblocks for the size form. */
function cmaPages(cma: CmaOptions | number, pbOrder: number): number {
  const count = typeof cma === "number" ? cma : cma.count;
  return Math.ceil(count / 2 ** pbOrder) * 2 ** pbOrder;
}

/**
 * Validates the `cma` option and returns the area's first pfn. The explicit form must be pageblock
 * aligned RAM of one node; the size form goes at the top of the highest RAM range (searched from
 * the last) that holds it whole and aligned. O(RAM ranges).
 */
function placeCma(map: MemoryMap, cma: unknown, pbOrder: number): number {
  const pb = 2 ** pbOrder;
  if (typeof cma === "number") {
    const count = requireInteger(cma, "cma", 1, 2 ** 40);
    const pages = Math.ceil(count / pb) * pb;
    for (let r = map.ranges.length - 1; r >= 0; r--) {
      const range = map.ranges[r]!;
      const end = Math.floor(range.endPfn / pb) * pb;
      if (end - pages >= range.startPfn) return end - pages;
    }
    throw new MmkitError(ErrorCode.OutOfRange, `cma: no RAM range holds ${pages} pageblock-aligned pages (cma ${count} pages)`);
  }
  requireOptions(cma, "cma");
  const { startPfn, count } = cma as CmaOptions;
  requireRamSpan(map, startPfn, count, "cma.startPfn");
  if (startPfn % pb !== 0 || count % pb !== 0) {
    throw new MmkitError(ErrorCode.NotAligned, `cma must start and end on a pageblock boundary (multiples of ${pb} pages), got startPfn ${startPfn}, count ${count}`);
  }
  return startPfn;
}

/** Largest page count the 64-byte memmap supports (page index << 4 must stay an int32). */
export const MAX_MEMMAP_PAGES = 2 ** 27;

/**
 * All of one buddy allocator's state. Internal: the public classes hold one and the functions of
 * the other files operate on it. Arrays are laid out as `layout.ts` documents.
 */
export class BuddyState {
  readonly map: MemoryMap;
  readonly arena: ArrayFactory;
  readonly pageSize: number;
  readonly maxOrder: number;
  readonly pbOrder: number;
  /** Highest order kept on per-CPU lists: min(3, maxOrder). */
  readonly pcpMaxOrder: number;
  /** Pfn of memmap index 0 (first RAM pfn rounded down to 2^maxOrder). */
  readonly base: number;
  /** Pages in the memmap (a multiple of 2^maxOrder). */
  readonly pages: number;
  readonly nodeCount: number;
  /** Node id of each node slot. */
  readonly nodeIds: readonly number[];
  readonly cpuCount: number;
  /** Home node slot of each CPU. */
  readonly cpuHome: Int32Array;
  readonly groupByMobility: boolean;
  readonly stealWholeBlocks: boolean;
  readonly defaultMt: number;
  readonly minFreeKbytes: number;
  readonly watermarkScaleFactor: number;

  readonly mem: Int32Array;
  readonly fa: Int32Array;
  readonly zone: Int32Array;
  readonly pcp: Int32Array;
  readonly pb: Uint8Array;

  /** The CMA area as page indices [cmaStart, cmaEnd), or -1, -1 without one. */
  readonly cmaStart: number;
  readonly cmaEnd: number;

  fault: FaultInjector | null = null;
  faultArmed = false;
  counters: BuddyCounters = newCounters();

  /**
   * Shared mode: other workers use the same arrays. A failing allocation then drains only its own
   * CPU's lists (another worker's lists are touched by that worker alone).
   */
  readonly shared: boolean;

  /**
   * `attach`: the arena hands out arrays that already hold a built allocator (a worker attaching to
   * shared memory), so validate and take the arrays, but write nothing.
   */
  constructor(map: MemoryMap, options: BuddyOptions = {}, attach = false) {
    this.shared = attach;
    if (map === null || typeof map !== "object" || !Array.isArray(map.ranges) || !Array.isArray(map.nodes) || typeof map.pageSize !== "number") {
      throw new MmkitError(ErrorCode.InvalidArgument, `a buddy allocator needs a MemoryMap, got ${describeValue(map)}`);
    }
    requireOptions(options, "buddy options");
    if (options.arena !== undefined) requireArrayFactory(options.arena);
    this.map = map;
    this.pageSize = map.pageSize;
    // `optional`, not `??`: an option set to null is refused, as for the options read with `=== undefined`.
    this.maxOrder = requireInteger(optional(options.maxOrder, MAX_PAGE_ORDER), "maxOrder", 0, MAX_CONFIGURABLE_ORDER);
    this.pbOrder = requireInteger(optional(options.pageblockOrder, Math.min(PAGEBLOCK_ORDER, this.maxOrder)), "pageblockOrder", 0, this.maxOrder);
    this.pcpMaxOrder = Math.min(PAGE_ALLOC_COSTLY_ORDER, this.maxOrder);
    this.groupByMobility = requireBoolean(options.groupByMobility, "groupByMobility", true);
    this.stealWholeBlocks = requireBoolean(options.stealWholeBlocks, "stealWholeBlocks", true);
    const dmt = requireInteger(optional<unknown>(options.defaultMigratetype, MigrateType.Unmovable), "defaultMigratetype", 0, MIGRATE_PCPTYPES - 1);
    this.defaultMt = this.groupByMobility ? dmt : MigrateType.Movable;
    this.watermarkScaleFactor = requireInteger(optional(options.watermarkScaleFactor, DEFAULT_WATERMARK_SCALE_FACTOR), "watermarkScaleFactor", 1, 3000);
    const block = 2 ** this.maxOrder;
    // `| 0` keeps them small integers (Smis) when they fit, so the hot paths do integer arithmetic.
    const base = Math.floor(map.startPfn / block) * block;
    this.base = base < 2 ** 30 ? base | 0 : base;
    const pages = Math.ceil((map.endPfn - base) / block) * block;
    this.pages = pages < 2 ** 30 ? pages | 0 : pages;
    if (this.pages > MAX_MEMMAP_PAGES) {
      throw new MmkitError(ErrorCode.OutOfRange, `the memory map spans ${this.pages} pages; the 64-byte memmap supports at most ${MAX_MEMMAP_PAGES}`);
    }
    const nodes = [...map.nodes].sort((a, b) => a.id - b.id);
    this.nodeCount = nodes.length;
    this.nodeIds = Object.freeze(nodes.map((n) => n.id));
    const cpus = requireInteger(optional(options.cpus, 1), "cpus", 1, 1024);
    this.cpuCount = cpus;
    this.cpuHome = new Int32Array(cpus);
    if (options.cpuNodes !== undefined) {
      if (!Array.isArray(options.cpuNodes) || options.cpuNodes.length !== cpus) {
        throw new MmkitError(ErrorCode.InvalidArgument, `cpuNodes must be an array of ${cpus} node ids, got ${describeValue(options.cpuNodes)}`);
      }
      for (let c = 0; c < cpus; c++) this.cpuHome[c] = this.requireNode(options.cpuNodes[c], `cpuNodes[${c}]`);
    } else {
      for (let c = 0; c < cpus; c++) this.cpuHome[c] = c % this.nodeCount;
    }
    const pcpBatch = options.pcpBatch === undefined ? undefined : requireInteger(options.pcpBatch, "pcpBatch", 1, 2 ** 20);
    const pcpHigh = options.pcpHigh === undefined ? undefined : requireInteger(options.pcpHigh, "pcpHigh", 1, 2 ** 30);
    const totalManaged = map.presentPages;
    this.minFreeKbytes =
      options.minFreeKbytes === undefined
        ? minFreeKbytes(Math.floor((totalManaged * this.pageSize) / 1024))
        : requireInteger(options.minFreeKbytes, "minFreeKbytes", 0, 2 ** 40);
    const faultOptions = options.faultInjection === undefined ? null : new FaultInjector(options.faultInjection);
    const cma = options.cma === undefined ? null : placeCma(map, options.cma, this.pbOrder);
    this.cmaStart = cma === null ? -1 : cma - this.base;
    this.cmaEnd = cma === null ? -1 : this.cmaStart + cmaPages(options.cma!, this.pbOrder);

    // Everything is validated; allocate the metadata.
    const arena = options.arena === undefined ? new MetadataArena() : options.arena;
    this.arena = arena;
    this.mem = arena.int32(this.pages * PAGE_INTS, "buddy memmap (struct page)");
    this.fa = arena.int32(this.nodeCount * (this.maxOrder + 1) * FA_INTS, "buddy free_area");
    this.zone = arena.int32(this.nodeCount * ZONE_INTS, "buddy zone");
    this.pcp = arena.int32(cpus * this.nodeCount * PCP_INTS, "buddy pcp");
    this.pb = arena.uint8(this.pages >> this.pbOrder, "buddy pageblock flags");
    if (attach) return;

    const mem = this.mem;
    for (let i = 0; i < this.pages; i++) mem[i << PAGE_SHIFT] = PG_RESERVED;
    for (let n = 0; n < this.nodeCount; n++) {
      for (let o = 0; o <= this.maxOrder; o++) {
        const b = (n * (this.maxOrder + 1) + o) * FA_INTS + FA_LISTS;
        for (let m = 0; m < MIGRATE_TYPES; m++) {
          this.fa[b + m * 3] = -1;
          this.fa[b + m * 3 + 1] = -1;
        }
      }
    }
    this.pb.fill(MigrateType.Movable);
    const pagesMin = Math.floor((this.minFreeKbytes * 1024) / this.pageSize);
    for (let n = 0; n < this.nodeCount; n++) {
      const info = nodes[n]!;
      const z = n * ZONE_INTS;
      const w = zoneWatermarks(pagesMin, info.presentPages, totalManaged, this.watermarkScaleFactor);
      this.zone[z + Z_MIN] = w.min;
      this.zone[z + Z_LOW] = w.low;
      this.zone[z + Z_HIGH] = w.high;
      this.zone[z + Z_MANAGED] = info.presentPages;
      this.zone[z + Z_SPAN_START] = info.startPfn - this.base;
      this.zone[z + Z_SPAN_END] = info.endPfn - this.base;
      let local = 0;
      for (let c = 0; c < cpus; c++) if (this.cpuHome[c] === n) local++;
      const batch = pcpBatch ?? zoneBatchsize(info.presentPages, this.pageSize);
      const high = pcpHigh ?? zoneHighsize(w.low, batch, local === 0 ? cpus : local);
      for (let c = 0; c < cpus; c++) {
        const p = (c * this.nodeCount + n) * PCP_INTS;
        this.pcp[p + PCP_HIGH] = high;
        this.pcp[p + PCP_BATCH] = batch;
        for (let k = PCP_LISTS; k < PCP_INTS; k++) this.pcp[p + k] = -1;
      }
      for (const r of info.ranges) {
        const range = map.ranges[r]!;
        for (let pfn = range.startPfn; pfn < range.endPfn; pfn++) mem[(pfn - this.base) << PAGE_SHIFT] = n << NODE_SHIFT;
      }
    }
    if (faultOptions !== null) {
      this.fault = faultOptions;
      this.faultArmed = true;
    }
  }

  /** Node slot of node id `id`; throws `ERR_OUT_OF_RANGE` for an unknown node. */
  requireNode(id: unknown, name: string): number {
    requireInteger(id, name, 0, 1023);
    const slot = this.nodeIds.indexOf(id as number);
    if (slot < 0) throw new MmkitError(ErrorCode.OutOfRange, `${name} ${describeValue(id)} is not a node of the memory map (nodes: ${this.nodeIds.join(", ")})`);
    return slot;
  }

  /** Resets the event counters. */
  resetCounters(): void {
    this.counters = newCounters();
  }
}

import { BuddyAllocator, MigrateType } from "@mmkit/buddy";
import { FragmentCache } from "@mmkit/frag-cache";
import { DescriptorRouter, MapleDescriptorTable, MapleTree, encodeMemdesc, MemdescType, MemmapTable, type DescriptorTable, type PhysDesc } from "@mmkit/memdesc-lookup";
import { ErrorCode, MiB, MmkitError, PhysicalMemory, describeValue, isPowerOfTwo, type ArrayFactory } from "@mmkit/physmem";
import { Potad } from "@mmkit/potad";
import { PteMappedCache } from "@mmkit/pte-cache";
import { DirectReclaim, ShrinkerRegistry } from "@mmkit/shrinker";
import { AnonMemory } from "./anon.js";
import { AnonBlocks } from "./anon-blocks.js";
import { MemdescSlabs } from "./memdesc-slabs.js";
import type { CustomPageAllocator, SystemDefinition } from "./definition.js";
import { SystemMover } from "./mover.js";
import { SystemPages, type PageAllocator, type RangeAllocator, type UnmovableSources } from "./page-face.js";
import { SwapFile } from "./swap.js";
import { TallyArena } from "./tally-arena.js";

/** The parts of a system whose metadata is counted apart. */
export const COMPONENTS = ["allocator", "descriptors", "direct map", "fragment cache", "pte cache", "shrinker"] as const;
export type Component = (typeof COMPONENTS)[number];

/** Options of {@link buildSystem}: the machine's size and what the metadata comes from. */
export interface BuildOptions {
  /** Bytes of RAM (default 256 MiB), one node from address 0. */
  bytes?: number;
  /** Real bytes behind RAM (needed for swap round-trips and fragment views; default false). */
  backing?: boolean;
  /**
   * Arrays of a component from this factory instead of its own `MetadataArena`, e.g. one
   * `ProbingArena` for the allocator and the descriptor table to count lines per operation.
   * The default is a {@link TallyArena} per component.
   */
  arenas?: Partial<Record<Component, ArrayFactory>>;
  /** CPUs of the machine (default 1): a buddy system with per-CPU lists gets a front per CPU (`pages.fronts`). */
  cpus?: number;
  /**
   * How a buddy system serves a contiguous range (`allocContiguous`, the face's `allocRange`):
   * `"block"` (default) one naturally aligned block if one is free; `"compaction"` the same with
   * the kernel's direct compaction when it fails (`allocPagesCompacting` with the system's mover);
   * either way only a power-of-two page count up to the max order. `"contig-range"`: any count, as
   * `alloc_contig_pages` serves it (`allocContigPages` with the system's mover: a range at the
   * alignment whose pageblocks are isolated and whose movable pages are moved out; freed with
   * `freeContigRange`). POTAD ignores it.
   */
  contiguous?: ContiguousPolicy;
  /**
   * Buddy only: a CMA area of this many bytes (whole pageblocks, at the top of RAM, the kernel's
   * default place): Movable allocations may use it, nothing else, and `"contig-range"` requests
   * look there first (`BuddyOptions.cma`). Default none.
   */
  cmaBytes?: number;
}

/** How a buddy system serves contiguous ranges (see {@link BuildOptions.contiguous}). */
export type ContiguousPolicy = "block" | "compaction" | "contig-range";
const CONTIGUOUS_POLICIES: readonly ContiguousPolicy[] = ["block", "compaction", "contig-range"];

/** Who was told about a memory failure: the owner's name, the descriptor's type and its pfn range. */
export interface FailureNotice {
  pfn: number;
  owner: string;
  type: string;
  firstPfn: number;
  lastPfn: number;
}

/** A running system: the machine, one page-allocator face, the descriptor table, the caches, the registry. */
export interface MemorySystem {
  readonly definition: SystemDefinition;
  readonly name: string;
  readonly machine: PhysicalMemory;
  readonly pageSize: number;
  /** Pages the allocator manages. */
  readonly managedPages: number;
  /** The one page-allocator face (records descriptors, quarantines poison). */
  readonly pages: SystemPages;
  /** `pages` for anon requests behind direct reclaim when the system has a registry, else a typed source. */
  readonly reclaiming: PageAllocator;
  readonly directReclaim: DirectReclaim | null;
  readonly table: DescriptorTable;
  /** The slab caches memdescs come from (`memdescsFromSlab`), or null when they are counted handles. */
  readonly memdescSlabs: MemdescSlabs | null;
  readonly router: DescriptorRouter;
  readonly buddy: BuddyAllocator | null;
  readonly potad: Potad | null;
  /** A page allocator of the user's own (`--system-file`), or null. */
  readonly custom: CustomPageAllocator | null;
  /** POTAD's RAM space id (-1 for buddy systems). */
  readonly ramSpace: number;
  readonly fragmentCache: FragmentCache | null;
  readonly pteCache: PteMappedCache | null;
  readonly registry: ShrinkerRegistry | null;
  /** The arena of each component (what `metadataBytes` reads). */
  readonly arenas: Record<Component, ArrayFactory>;
  /** Memory-failure notices delivered to owners, in order. */
  readonly failureNotices: FailureNotice[];
  /** Failures in pages no descriptor covered (free memory): taken out when next drawn. */
  freePagesPoisoned: number;
  /**
   * An allocation of `bytes` contiguous bytes at `alignment` (CMA-style), as a first pfn, or -1,
   * recorded as movable. The size is rounded up to whole pages and to a multiple of the alignment
   * (as POTAD does). POTAD: one range made of aligned blocks; buddy: one block, so only a
   * power-of-two number of pages up to its max order. It obeys the face's poison rule: a range
   * holding a poisoned page never goes out. Throws (changing nothing) for a size that is not a
   * positive integer or an alignment that is not a power of two up to the size's block.
   */
  allocContiguous(bytes: number, alignment: number): number;
  /**
   * Gives back what `allocContiguous(bytes, alignment)` returned (`alignment` defaults to a page:
   * pass it when `bytes` is not a multiple of it); a range holding a poisoned page is quarantined.
   * Throws (changing nothing) for anything else, as the face's `freeRange`.
   */
  freeContiguous(pfn: number, bytes: number, alignment?: number): void;
  /** A PTE-mapped page (from the cache when the system has one, else one page split out of the direct map), or -1. */
  allocPteMapped(): number;
  freePteMapped(pfn: number): void;
  /** Anon memory of `virtualPages` pages over `reclaiming`, registered with the registry and the mover, swapping to a file. */
  anonMemory(virtualPages: number, swapBytes: number): AnonMemory;
  /**
   * The system's page mover: moves the anon pages of its registered owners (its anon memories and
   * anon blocks) for compaction and contiguous ranges; everything else stays where it is.
   * A buddy system allocates anon pages Movable and every other type Unmovable, so mobility
   * grouping keeps them in pageblocks apart. POTAD has no compaction, so nothing calls it there.
   */
  readonly mover: SystemMover;
  /** `capacity` slots of anon blocks a workload holds (orders 0..3 and up), registered with the mover. */
  anonBlocks(capacity: number): AnonBlocks;
  /**
   * Gives back everything the system's own parts hold that no user holds: the fragment cache's
   * current block, the PTE cache's free regions (with the failed pages `allocPteMapped` kept back,
   * so their regions go to the face, which quarantines them), the buddy's per-CPU lists and POTAD's
   * fronts. After every user allocation is freed, every page is then free in the allocator or quarantined.
   */
  drain(): void;
  /** Runs every part's `check()`. */
  check(): void;
  /** Closes swap files and unregisters what was registered. */
  dispose(): void;
}

/**
 * Builds the system `def` describes: one function, so a composition is a line of data.
 *
 * - machine: `PhysicalMemory` of `bytes` (default 256 MiB) on one node, its direct map and failures;
 * - page allocator: `BuddyAllocator` (through CPU 0's per-CPU lists when `perCpuLists`, a front per
 *   CPU in `pages.fronts`), `Potad` with one RAM space and its page face, or a custom allocator's
 *   `create()` over the machine's pages (`--system-file`);
 * - descriptor table: `MemmapTable` 64 or 8 bytes per page, or `MapleDescriptorTable`;
 * - with `memdescsFromSlab`, a `MemdescSlabs` (its metadata counted under "descriptors") the face
 *   takes each folio's, page table's and network pool's memdesc from, in slab pages of the same RAM;
 * - a `DescriptorRouter` subscribed to the machine's memory failures, with an owner per memdesc type
 *   (anon, page_frag_cache, pte-mapped cache, slab), each told the type and range of a failed page;
 * - `FragmentCache` over a NetPool-tagged source, `PteMappedCache` over a PageTable-tagged source
 *   registered with the `ShrinkerRegistry`, and `DirectReclaim` in front of anon allocations.
 *
 * @example
 * ```ts
 * const system = buildSystem(systemNamed("memdesc")!, { bytes: 64 * MiB });
 * const pfn = system.pages.allocPages(0);
 * system.router.physToDesc(pfn * 4096)?.typeName; // "anon"
 * ```
 */
export function buildSystem(def: SystemDefinition, options: BuildOptions = {}): MemorySystem {
  const bytes = options.bytes ?? 256 * MiB;
  if (options.cmaBytes !== undefined && (typeof options.cmaBytes !== "number" || !Number.isSafeInteger(options.cmaBytes) || options.cmaBytes < 1 || options.cmaBytes > bytes)) {
    throw new MmkitError(ErrorCode.InvalidArgument, `cmaBytes must be a positive integer of bytes up to the RAM's ${bytes}, got ${describeValue(options.cmaBytes)}`);
  }
  if (options.contiguous !== undefined && !CONTIGUOUS_POLICIES.includes(options.contiguous)) {
    throw new MmkitError(ErrorCode.InvalidArgument, `contiguous must be one of ${CONTIGUOUS_POLICIES.join(", ")}, got ${describeValue(options.contiguous)}`);
  }
  const arenas = {} as Record<Component, ArrayFactory>;
  for (const c of COMPONENTS) arenas[c] = options.arenas?.[c] ?? new TallyArena();
  const machine = new PhysicalMemory({ ranges: [{ base: 0, size: bytes, node: 0 }], backing: options.backing === true ? "array" : "none", arena: arenas["direct map"] });
  const pageSize = machine.pageSize;
  const pagesInRam = bytes / pageSize;

  const table: DescriptorTable =
    def.descriptors === "maple"
      ? new MapleDescriptorTable({ arena: arenas.descriptors })
      : new MemmapTable({ pages: pagesInRam, bytesPerPage: def.descriptors === "memmap-64" ? 64 : 8, arena: arenas.descriptors });
  const mover = new SystemMover(table, machine);

  let buddy: BuddyAllocator | null = null;
  let potad: Potad | null = null;
  let ramSpace = -1;
  let allocator: PageAllocator;
  let ranges: RangeAllocator;
  let custom: CustomPageAllocator | null = null;
  const fronts: PageAllocator[] = [];
  let unmovable: UnmovableSources | undefined;
  if (typeof def.pageAllocator === "object") {
    // A page allocator of the user's own (--system-file) over the machine's pages.
    const own = def.pageAllocator.create({ pages: pagesInRam, pageSize, cpus: options.cpus ?? 1, arena: arenas.allocator });
    custom = own;
    allocator = own;
    // One block per power-of-two range, as for the buddy; an order it does not have is a range it cannot serve.
    ranges = {
      allocRange: (count) => {
        const order = Math.log2(count);
        if (!Number.isInteger(order)) return -1;
        try {
          return own.allocPages(order);
        } catch (e) {
          if (e instanceof Error && (e as { code?: unknown }).code === ErrorCode.OutOfRange) return -1;
          throw e;
        }
      },
      freeRange: (pfn, count) => own.freePages(pfn, Math.log2(count)),
    };
  } else if (def.pageAllocator === "buddy") {
    // Anon pages (nearly every allocation) are Movable, the default, so they keep the per-CPU fast path.
    const cma = options.cmaBytes === undefined ? {} : { cma: Math.ceil(options.cmaBytes / pageSize) };
    const b = new BuddyAllocator(machine.map, { arena: arenas.allocator, cpus: options.cpus ?? 1, defaultMigratetype: MigrateType.Movable, ...(def.maxOrder !== undefined ? { maxOrder: def.maxOrder } : {}), ...cma });
    const blocks: PageAllocator = def.perCpuLists ? b.cpu(0) : b;
    if (def.perCpuLists) for (let c = 0; c < b.cpus; c++) fronts.push(b.cpu(c));
    unmovable = { allocator: unmovableFrom(blocks === b ? b : b.cpu(0)), fronts: def.perCpuLists ? fronts.map((_, c) => unmovableFrom(b.cpu(c))) : [] };
    buddy = b;
    allocator = blocks;
    // One naturally aligned block per range (it meets any alignment up to its size), so only a power-of-two page count up to the max order.
    const compacting = options.contiguous === "compaction";
    ranges =
      options.contiguous === "contig-range"
        ? {
            // alloc_contig_pages: any count at the alignment, movable pages moved out of the way.
            allocRange: (pages, alignPages) => (pages > pagesInRam ? -1 : b.allocContigPages(pages, mover, { alignPages })),
            freeRange: (pfn, pages) => b.freeContigRange(pfn, pages),
          }
        : {
            allocRange: (pages) => {
              const order = Math.log2(pages);
              if (!Number.isInteger(order) || order > b.maxOrder) return -1;
              return compacting ? b.allocPagesCompacting(order, mover).pfn : blocks.allocPages(order);
            },
            freeRange: (pfn, pages) => blocks.freePages(pfn, Math.log2(pages)),
          };
  } else {
    // In a maple-tree system POTAD registers its own descriptors (sub-page allocations) in a maple tree too.
    potad = new Potad({ arena: arenas.allocator, ...(def.descriptors === "maple" ? { descriptorIndex: new MapleTree({ arena: arenas.descriptors }) } : {}) });
    ramSpace = potad.addSpace({ base: 0, size: bytes, granule: def.granule ?? pageSize, frontOrder: Math.log2(pageSize / (def.granule ?? pageSize)) });
    allocator = potad.pageFace(ramSpace, pageSize);
    const p = potad;
    const space = ramSpace;
    // One POTAD range made of adjacent aligned blocks, its size checked again when it is freed.
    ranges = {
      allocRange: (pages, alignPages) => {
        if (pages > pagesInRam) return -1;
        const address = p.alloc(space, pages * pageSize, { alignment: alignPages * pageSize });
        return address < 0 ? -1 : address / pageSize;
      },
      freeRange: (pfn, pages) => void p.free(pfn * pageSize, pages * pageSize),
    };
  }

  const pages = new SystemPages(allocator, table, machine.failures, ranges, fronts, unmovable);
  const memdescSlabs = def.memdescsFromSlab === true ? new MemdescSlabs(pages, machine, arenas.descriptors) : null;
  pages.memdescs = memdescSlabs;
  const registry = def.shrinker ? new ShrinkerRegistry({ nodes: 1, arena: arenas.shrinker }) : null;
  const anonSource = pages.source(MemdescType.Anon);
  const directReclaim = registry !== null ? new DirectReclaim(anonSource, registry) : null;
  const fragmentCache = def.fragmentCache ? new FragmentCache(pages.source(MemdescType.NetPool), { arena: arenas["fragment cache"], ...(machine.backing !== null ? { backing: machine } : {}) }) : null;
  const pteCache = def.pteCache
    ? new PteMappedCache({ source: pages.source(MemdescType.PageTable), directMap: machine.directMap, arena: arenas["pte cache"], ...(registry !== null ? { shrinkerHost: registry } : {}) })
    : null;

  // Memory failure: the machine's event -> the descriptor table -> the owner of that memory.
  const router = new DescriptorRouter(table, { pageSize });
  const failureNotices: FailureNotice[] = [];
  const tell = (d: PhysDesc): void => void failureNotices.push({ pfn: d.pfn, owner: d.owner!.name, type: d.typeName, firstPfn: d.firstPfn, lastPfn: d.lastPfn });
  router.setOwner(MemdescType.Anon, { name: "anon", memoryFailure: tell });
  router.setOwner(MemdescType.Slab, { name: "slab", memoryFailure: tell });
  router.setOwner(MemdescType.Movable, { name: "contiguous (cma)", memoryFailure: tell });
  router.setOwner(MemdescType.HwPoison, { name: "hwpoison quarantine" });
  router.setOwner(MemdescType.NetPool, {
    name: "page_frag_cache",
    memoryFailure: (d) => {
      tell(d);
      // Stop carving from a failed block: the last fragment's free then hands it to the face, which quarantines it.
      const current = fragmentCache?.currentBlock();
      if (current && current.pfn >= d.firstPfn && current.pfn <= d.lastPfn) fragmentCache!.drain();
    },
  });
  router.setOwner(MemdescType.PageTable, { name: "pte-mapped cache", memoryFailure: tell });
  const system: MemorySystem = {
    definition: def,
    name: def.name,
    machine,
    pageSize,
    managedPages: pagesInRam,
    pages,
    reclaiming: directReclaim ?? anonSource,
    directReclaim,
    table,
    memdescSlabs,
    router,
    buddy,
    potad,
    custom,
    ramSpace,
    fragmentCache,
    pteCache,
    registry,
    arenas,
    failureNotices,
    freePagesPoisoned: 0,
    allocContiguous,
    freeContiguous,
    allocPteMapped,
    freePteMapped,
    anonMemory,
    mover,
    anonBlocks,
    drain,
    check,
    dispose,
  };
  const unsubscribe = machine.failures.subscribe((event) => {
    if (router.memoryFailure(event.pfn) === undefined) system.freePagesPoisoned++;
  });

  const pteKept: number[] = [];
  function allocPteMapped(): number {
    if (pteCache === null) {
      const pfn = pages.allocPages(0, MemdescType.PageTable);
      if (pfn >= 0) machine.directMap.splitToPages(pfn, 1);
      return pfn;
    }
    let pfn = pteCache.alloc();
    // A cached page that failed is kept back by its owner, never handed out.
    while (pfn >= 0 && machine.failures.count > 0 && machine.failures.isPoisoned(pfn)) {
      pteKept.push(pfn);
      pfn = pteCache.alloc();
    }
    return pfn;
  }
  function freePteMapped(pfn: number): void {
    if (pteCache === null) pages.freePages(pfn, 0);
    else pteCache.free(pfn);
  }

  // Contiguous ranges go through the face like every other allocation, so they obey its poison rule.
  function allocContiguous(bytes: number, alignment: number): number {
    const [count, alignPages] = rangePages(bytes, alignment, pageSize);
    return pages.allocRange(count, alignPages, MemdescType.Movable);
  }
  function freeContiguous(pfn: number, bytes: number, alignment: number = pageSize): void {
    const [count] = rangePages(bytes, alignment, pageSize);
    pages.freeRange(pfn, count);
  }

  const swaps: SwapFile[] = [];
  const anons: AnonMemory[] = [];
  function anonMemory(virtualPages: number, swapBytes: number): AnonMemory {
    const swap = new SwapFile(potad ?? new Potad(), { bytes: swapBytes, pageSize, base: 2 ** 40 + swaps.length * 2 ** 36 });
    swaps.push(swap);
    const anon = new AnonMemory(virtualPages, system.reclaiming, swap, machine.backing !== null ? (pfn) => machine.bytes(pfn * pageSize, pageSize) : null, pageSize, pagesInRam);
    registry?.register(anon.shrinker);
    mover.addOwner(anon);
    anons.push(anon);
    return anon;
  }

  function anonBlocks(capacity: number): AnonBlocks {
    const blocks = new AnonBlocks(pages, pagesInRam, capacity);
    mover.addOwner(blocks);
    return blocks;
  }

  function drain(): void {
    for (const pfn of pteKept.splice(0)) pteCache!.free(pfn);
    fragmentCache?.drain();
    pteCache?.drain();
    // Empty memdesc slabs go back before the allocators' fronts are drained, so their pages merge too.
    memdescSlabs?.slab.shrink();
    buddy?.drainAll();
    potad?.drain();
  }

  function check(): void {
    custom?.check?.();
    buddy?.check();
    potad?.check();
    table.check();
    memdescSlabs?.slab.check();
    fragmentCache?.check();
    pteCache?.check();
    registry?.check();
  }
  function dispose(): void {
    unsubscribe();
    for (const a of anons) registry?.unregister(a.shrinker);
    for (const s of swaps) s.close();
  }
  return system;
}

/** `front` asked for Unmovable pages: where a buddy system's slab, page-table and network pages come from. */
function unmovableFrom(front: { allocPages(order: number, options: { migratetype: MigrateType }): number; freePages(pfn: number, order: number): void }): PageAllocator {
  const options = { migratetype: MigrateType.Unmovable };
  return { allocPages: (order) => front.allocPages(order, options), freePages: (pfn, order) => front.freePages(pfn, order) };
}

/**
 * Pages of a contiguous request of `bytes` at `alignment`, and its alignment in pages: the size is
 * rounded up to whole pages and to a multiple of the alignment (as POTAD does), so an allocation
 * and its free with the same `bytes` name the same range. Throws (`ERR_INVALID_ARGUMENT`,
 * `ERR_OUT_OF_RANGE`) for a size that is not a positive safe integer, an alignment that is not a
 * power of two, or one above the smallest power of two holding the size.
 */
function rangePages(bytes: number, alignment: number, pageSize: number): [pages: number, alignPages: number] {
  if (typeof bytes !== "number" || !Number.isSafeInteger(bytes) || bytes < 1) {
    throw new MmkitError(ErrorCode.InvalidArgument, `a contiguous size must be a positive integer of bytes, got ${describeValue(bytes)}`);
  }
  if (typeof alignment !== "number" || !isPowerOfTwo(alignment)) {
    throw new MmkitError(ErrorCode.InvalidArgument, `a contiguous alignment must be a power of two, got ${describeValue(alignment)}`);
  }
  const block = 2 ** Math.ceil(Math.log2(bytes));
  if (alignment > block) throw new MmkitError(ErrorCode.OutOfRange, `alignment ${alignment} exceeds the block size ${block} of a ${bytes}-byte contiguous request`);
  const unit = Math.max(alignment, pageSize);
  return [(Math.ceil(bytes / unit) * unit) / pageSize, unit / pageSize];
}

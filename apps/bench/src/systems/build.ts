import { BuddyAllocator } from "@mmkit/buddy";
import { FragmentCache } from "@mmkit/frag-cache";
import { DescriptorRouter, MapleDescriptorTable, MapleTree, encodeMemdesc, MemdescType, MemmapTable, type DescriptorTable, type PhysDesc } from "@mmkit/memdesc-lookup";
import { ErrorCode, MiB, PhysicalMemory, type ArrayFactory } from "@mmkit/physmem";
import { Potad } from "@mmkit/potad";
import { PteMappedCache } from "@mmkit/pte-cache";
import { DirectReclaim, ShrinkerRegistry } from "@mmkit/shrinker";
import { AnonMemory } from "./anon.js";
import { MAX_TRACE_ORDER } from "../trace/events.js";
import type { CustomPageAllocator, SystemDefinition } from "./definition.js";
import { SystemPages, type PageAllocator } from "./page-face.js";
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
}

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
   * An allocation of `bytes` contiguous bytes at `alignment` (CMA-style), as a first pfn, or -1.
   * POTAD: one range made of aligned blocks; buddy: one block, so only a naturally aligned size up to its max order.
   */
  allocContiguous(bytes: number, alignment: number): number;
  freeContiguous(pfn: number, bytes: number): void;
  /** A PTE-mapped page (from the cache when the system has one, else one page split out of the direct map), or -1. */
  allocPteMapped(): number;
  freePteMapped(pfn: number): void;
  /** Anon memory of `virtualPages` pages over `reclaiming`, registered with the registry, swapping to a file. */
  anonMemory(virtualPages: number, swapBytes: number): AnonMemory;
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
 *   `create()` over the machine's pages;
 * - descriptor table: `MemmapTable` 64 or 8 bytes per page, or `MapleDescriptorTable`;
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
  const arenas = {} as Record<Component, ArrayFactory>;
  for (const c of COMPONENTS) arenas[c] = options.arenas?.[c] ?? new TallyArena();
  const machine = new PhysicalMemory({ ranges: [{ base: 0, size: bytes, node: 0 }], backing: options.backing === true ? "array" : "none", arena: arenas["direct map"] });
  const pageSize = machine.pageSize;
  const pagesInRam = bytes / pageSize;

  let buddy: BuddyAllocator | null = null;
  let potad: Potad | null = null;
  let ramSpace = -1;
  let allocator: PageAllocator;
  let custom: CustomPageAllocator | null = null;
  const fronts: PageAllocator[] = [];
  if (typeof def.pageAllocator === "object") {
    // A page allocator of the user's own (--system-file) over the machine's pages.
    custom = def.pageAllocator.create({ pages: pagesInRam, pageSize, cpus: options.cpus ?? 1, arena: arenas.allocator });
    allocator = custom;
  } else if (def.pageAllocator === "buddy") {
    buddy = new BuddyAllocator(machine.map, { arena: arenas.allocator, cpus: options.cpus ?? 1, ...(def.maxOrder !== undefined ? { maxOrder: def.maxOrder } : {}) });
    allocator = def.perCpuLists ? buddy.cpu(0) : buddy;
    if (def.perCpuLists) for (let c = 0; c < buddy.cpus; c++) fronts.push(buddy.cpu(c));
  } else {
    // In a maple-tree system POTAD registers its own descriptors (sub-page allocations) in a maple tree too.
    potad = new Potad({ arena: arenas.allocator, ...(def.descriptors === "maple" ? { descriptorIndex: new MapleTree({ arena: arenas.descriptors }) } : {}) });
    ramSpace = potad.addSpace({ base: 0, size: bytes, granule: def.granule ?? pageSize, frontOrder: Math.log2(pageSize / (def.granule ?? pageSize)) });
    allocator = potad.pageFace(ramSpace, pageSize);
  }

  const table: DescriptorTable =
    def.descriptors === "maple"
      ? new MapleDescriptorTable({ arena: arenas.descriptors })
      : new MemmapTable({ pages: pagesInRam, bytesPerPage: def.descriptors === "memmap-64" ? 64 : 8, arena: arenas.descriptors });
  const pages = new SystemPages(allocator, table, machine.failures, fronts);
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

  function allocContiguous(size: number, alignment: number): number {
    if (potad !== null) {
      const address = potad.alloc(ramSpace, size, { alignment });
      if (address < 0) return -1;
      const pfn = address / pageSize;
      table.set(pfn, pfn + size / pageSize - 1, encodeMemdesc(MemdescType.Movable, 16));
      return pfn;
    }
    const order = Math.log2(size / pageSize);
    if (!Number.isInteger(order) || order > (buddy?.maxOrder ?? MAX_TRACE_ORDER)) return -1;
    try {
      return pages.allocPages(order, MemdescType.Movable);
    } catch (e) {
      // A custom allocator refuses an order it does not have: that request cannot be served.
      if (custom !== null && e instanceof Error && (e as { code?: unknown }).code === ErrorCode.OutOfRange) return -1;
      throw e;
    }
  }
  function freeContiguous(pfn: number, size: number): void {
    if (potad !== null) {
      table.clear(pfn);
      potad.free(pfn * pageSize);
    } else pages.freePages(pfn, Math.log2(size / pageSize));
  }

  const swaps: SwapFile[] = [];
  const anons: AnonMemory[] = [];
  function anonMemory(virtualPages: number, swapBytes: number): AnonMemory {
    const swap = new SwapFile(potad ?? new Potad(), { bytes: swapBytes, pageSize, base: 2 ** 40 + swaps.length * 2 ** 36 });
    swaps.push(swap);
    const anon = new AnonMemory(virtualPages, system.reclaiming, swap, machine.backing !== null ? (pfn) => machine.bytes(pfn * pageSize, pageSize) : null, pageSize);
    registry?.register(anon.shrinker);
    anons.push(anon);
    return anon;
  }

  function check(): void {
    custom?.check?.();
    buddy?.check();
    potad?.check();
    table.check();
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

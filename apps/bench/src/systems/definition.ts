/**
 * What a whole memory system is made of, as data: the machine, the page allocator, the descriptor
 * table and which caches sit on top. {@link buildSystem} turns a definition into a running system,
 * so a new composition is one more line in {@link SYSTEMS} (or one edited field).
 */

import type { ArrayFactory } from "@mmkit/physmem";

/** The page allocator under everything: the Linux-style buddy allocator, or POTAD's page face. */
export type PageAllocatorKind = "buddy" | "potad";

/**
 * A page allocator of the user's own (`--system-file`): the `PageSource` shape, plus what the
 * bench reads when it is there. Running out returns -1; an order it does not have throws
 * `MmkitError` `ERR_OUT_OF_RANGE` (a replay counts that as an allocation it cannot serve).
 */
export interface CustomPageAllocator {
  /** First pfn of 2^order free pages (aligned or not, the allocator's choice), or -1. */
  allocPages(order: number): number;
  freePages(pfn: number, order: number): void;
  /** Throws on the first broken invariant (run after replays and in tests). */
  check?(): void;
  /** Free blocks per order (buddyinfo-style), for the fragmentation figures and time series. */
  freeBlocksPerOrder?(): number[];
  /** Figures of its own, reported as measurements (name -> value). */
  stats?(): Record<string, number>;
}

/** What a custom allocator is made for: the machine's pages and an arena for its metadata (so its bytes are counted). */
export interface CustomAllocatorMachine {
  /** Pages of RAM, pfns 0..pages-1. */
  pages: number;
  pageSize: number;
  cpus: number;
  /** Typed arrays for its metadata: `arena.int32(n, "label")`; the bench reports their bytes. */
  arena: ArrayFactory;
}

/** A page allocator a system file brings: a name and a constructor over the machine. */
export interface PageAllocatorFactory {
  name: string;
  create(machine: CustomAllocatorMachine): CustomPageAllocator;
}

/**
 * Where the system records which descriptor owns each page: a 64-byte-per-page memmap (`struct
 * page`), an 8-byte-per-page memdesc array (a `MemmapTable` of width 8), or a maple tree with one
 * entry per allocation.
 */
export type DescriptorTableKind = "memmap-64" | "memdesc-8" | "maple";

/** A system, declaratively. Every field is one choice; {@link buildSystem} reads nothing else. */
export interface SystemDefinition {
  /** What `--system` selects and reports show, e.g. "classic". */
  name: string;
  /** One line for reports. */
  description: string;
  /** A built-in kind, or a page allocator of the user's own (from `--system-file`). */
  pageAllocator: PageAllocatorKind | PageAllocatorFactory;
  /** Buddy only: allocate through CPU 0's per-CPU lists (`buddy.cpu(0)`), as the kernel does for orders 0-3. */
  perCpuLists: boolean;
  /** Buddy only: largest order (the kernel's MAX_PAGE_ORDER, 10 = 4 MiB). */
  maxOrder?: number;
  /** POTAD only: the RAM space's granule in bytes (512 lets the same space serve sub-page sizes). */
  granule?: number;
  descriptors: DescriptorTableKind;
  /**
   * Memdescs as real objects from slab caches (seed 001: a folio's from `kmem_cache_alloc(folio_cache)`,
   * slab descriptors from the slab cache, kept in the slab's own page when as large as its objects),
   * in slab pages taken from the system's own RAM. Off (the default): each allocation's memdesc is a
   * counted handle that takes no memory.
   */
  memdescsFromSlab?: boolean;
  /** A page_frag_cache for network receive fragments over the page allocator. */
  fragmentCache: boolean;
  /** A PTE-mapped page cache refilled from 2 MiB blocks, registered as a shrinker when there is a registry. */
  pteCache: boolean;
  /** A shrinker registry, with allocations going through direct reclaim (and a swap-backed anon LRU). */
  shrinker: boolean;
}

const caches = { fragmentCache: true, pteCache: true, shrinker: true } as const;

/**
 * The systems the bench ships. `classic` and `memdesc` are the two designs the memdesc discussion
 * compares; the crossings change one component each, so a difference can be pinned on it.
 */
export const SYSTEMS: readonly SystemDefinition[] = [
  { name: "classic", description: "buddy + per-CPU lists + 64-byte memmap + caches + shrinker", pageAllocator: "buddy", perCpuLists: true, descriptors: "memmap-64", ...caches },
  { name: "memdesc", description: "POTAD + maple tree + memdescs from slab caches + caches + shrinker", pageAllocator: "potad", perCpuLists: false, granule: 512, descriptors: "maple", memdescsFromSlab: true, ...caches },
  { name: "buddy+maple", description: "classic with the maple tree instead of the memmap", pageAllocator: "buddy", perCpuLists: true, descriptors: "maple", ...caches },
  { name: "potad+memmap", description: "memdesc with the 64-byte memmap instead of the maple tree", pageAllocator: "potad", perCpuLists: false, granule: 512, descriptors: "memmap-64", ...caches },
  { name: "potad+memdesc8", description: "POTAD + an 8-byte memdesc array per page + caches + shrinker", pageAllocator: "potad", perCpuLists: false, granule: 512, descriptors: "memdesc-8", ...caches },
];

/** Systems a `--system-file` added (see `loadSystemFile`), after the shipped ones. */
const userSystems: SystemDefinition[] = [];

/**
 * Adds systems beside the shipped ones (what `--system-file` does): they then appear in every suite
 * that takes systems. A name already in use is an error.
 *
 * @example
 * ```ts
 * addSystems([{ ...systemNamed("classic")!, name: "classic, no caches", fragmentCache: false, pteCache: false, shrinker: false }]);
 * ```
 */
export function addSystems(defs: readonly SystemDefinition[]): void {
  for (const d of defs) {
    if (allSystems().some((s) => s.name === d.name)) throw new Error(`a system named ${JSON.stringify(d.name)} exists already`);
    userSystems.push(d);
  }
}

/**
 * The shipped systems, then those added by `--system-file`. O(systems).
 *
 * @example
 * ```ts
 * allSystems().map((s) => s.name); // ["classic", "memdesc", ..., "first-fit"]
 * ```
 */
export function allSystems(): SystemDefinition[] {
  return [...SYSTEMS, ...userSystems];
}

/**
 * The shipped system named `name`, or undefined.
 *
 * @example
 * ```ts
 * systemNamed("classic")?.pageAllocator; // "buddy"
 * ```
 */
export function systemNamed(name: string): SystemDefinition | undefined {
  return SYSTEMS.find((s) => s.name === name);
}

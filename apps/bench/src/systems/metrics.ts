import { fragmentationIndex, unusableFreeIndex } from "@mmkit/buddy";
import { FRAG_BLOCK_BYTES } from "@mmkit/frag-cache";
import { COMPONENTS, type Component, type MemorySystem } from "./build.js";

/** Metadata bytes of each component and in all, and per managed byte. */
export interface MetadataFigures {
  byComponent: Record<Component, number>;
  total: number;
  /** total / (managed pages x page size). */
  perManagedByte: number;
  /** total / managed pages. */
  perPage: number;
}

/**
 * Metadata bytes per component, read from each component's arena (so they are measured, not
 * estimated), and per managed byte and page. With memdescs from slab caches, "descriptors" also
 * holds the RAM of the slabs the memdescs and their slab descriptors live in.
 *
 * @example
 * ```ts
 * metadataFigures(buildSystem(systemNamed("classic")!)).perPage; // 128 + caches: struct page in the buddy and in the memmap
 * ```
 */
export function metadataFigures(system: MemorySystem): MetadataFigures {
  const byComponent = {} as Record<Component, number>;
  let total = 0;
  for (const c of COMPONENTS) {
    const bytes = (system.arenas[c] as { bytes?: number }).bytes ?? 0;
    byComponent[c] = bytes;
    total += bytes;
  }
  if (system.memdescSlabs !== null) {
    const inRam = system.memdescSlabs.figures().slabBytes;
    byComponent.descriptors += inRam;
    total += inRam;
  }
  return { byComponent, total, perManagedByte: total / (system.managedPages * system.pageSize), perPage: total / system.managedPages };
}

/**
 * Free blocks per page order, buddyinfo-style, for either allocator: the buddy allocator's
 * `buddyinfo()` summed over nodes; POTAD's free bytes per block size turned into blocks of 2^order
 * pages (free runs smaller than a page, from sub-page allocations, are left out). It drains the
 * buddy's per-CPU lists and POTAD's fronts first (a side effect), so both are read coalesced.
 *
 * @example
 * ```ts
 * freeBlocksPerOrder(system).join(" "); // "0 0 0 0 0 0 0 0 0 0 64" for a fresh 256 MiB buddy system
 * freeBlocksPerOrder(system, false);     // the same, without draining the fronts first
 * ```
 */
export function freeBlocksPerOrder(system: MemorySystem, drain = true): number[] {
  // Both allocators keep small freed blocks unmerged in a front (the buddy's per-CPU lists, POTAD's
  // per-order fronts); merge them first so the two are compared on their coalesced free blocks.
  // Without `drain` (sampling during a replay, which must not disturb the fronts) they are read as
  // /proc/buddyinfo reads them: pages on the fronts are not free blocks.
  if (system.custom !== null) return system.custom.freeBlocksPerOrder?.() ?? [];
  if (drain) {
    if (system.buddy !== null) system.buddy.drainAll();
    else system.potad!.drain(system.ramSpace);
  }
  if (system.buddy !== null) {
    const out: number[] = [];
    for (const node of system.buddy.buddyinfo()) node.freeBlocks.forEach((n, o) => (out[o] = (out[o] ?? 0) + n));
    return out;
  }
  const stats = system.potad!.stats(system.ramSpace);
  const shift = Math.log2(system.pageSize / stats.granule);
  const out: number[] = [];
  for (let o = shift; o < stats.freeBytesByOrder.length; o++) out.push(stats.freeBytesByOrder[o]! / (stats.granule * 2 ** o));
  return out;
}

/** Fragmentation at one order: the kernel's unusable-free index and extfrag index (both x1000), from {@link freeBlocksPerOrder}. */
export interface FragmentationFigures {
  order: number;
  freePages: number;
  /** Largest free block, in pages. */
  largestFreePages: number;
  unusableFree: number;
  extfrag: number;
}

/**
 * Fragmentation of the system's free memory at `order` (default 9, a 2 MiB block).
 *
 * @example
 * ```ts
 * fragmentation(system, 9).unusableFree; // 0 on a fresh machine
 * ```
 */
export function fragmentation(system: MemorySystem, order = 9, drain = true): FragmentationFigures {
  const blocks = freeBlocksPerOrder(system, drain);
  let freePages = 0;
  let largest = 0;
  blocks.forEach((n, o) => {
    freePages += n * 2 ** o;
    if (n > 0) largest = 2 ** o;
  });
  return { order, freePages, largestFreePages: largest, unusableFree: unusableFreeIndex(order, blocks), extfrag: fragmentationIndex(order, blocks) };
}

/** Bytes the caches hold: the fragment cache's blocks in use, and every page the PTE cache holds (cached and in use). */
export function cacheBytes(system: MemorySystem): { fragmentCache: number; pteCache: number; pteCacheFree: number } {
  const frag = system.fragmentCache?.stats();
  const pte = system.pteCache?.stats();
  return {
    fragmentCache: frag === undefined ? 0 : frag.blocksInUse * Math.max(FRAG_BLOCK_BYTES, system.pageSize),
    pteCache: pte === undefined ? 0 : (pte.cachedPages + pte.inUsePages) * system.pageSize,
    pteCacheFree: pte === undefined ? 0 : pte.cachedPages * system.pageSize,
  };
}

/**
 * How many of `attempts` allocations of `order` succeed right now; they are freed again afterwards.
 *
 * @example
 * ```ts
 * highOrderSuccess(system, 9, 16); // 16 on a fresh machine of 64 MiB or more
 * ```
 */
export function highOrderSuccess(system: MemorySystem, order: number, attempts: number): number {
  const got: number[] = [];
  for (let i = 0; i < attempts; i++) {
    const pfn = system.pages.allocPages(order);
    if (pfn < 0) break;
    got.push(pfn);
  }
  for (const pfn of got) system.pages.freePages(pfn, order);
  return got.length;
}

/** What {@link memdescFigures} returns: memdescs from slab caches, per page, beside the 64-byte `struct page`. */
export interface MemdescPageFigures {
  /** Bytes of RAM in memdesc slabs (memdescs and slab descriptors) per live page (the slab pages included). */
  bytesPerPage: number;
  /** Pages of those slabs. */
  slabPages: number;
  /** Memdescs handed out. */
  memdescs: number;
  /** Deepest slab-creation nesting seen (seed 001: it stops at 2). */
  maxDepth: number;
  /** Slabs created at depth 1 and at depth 2. */
  slabsAtDepth: [number, number];
}

/**
 * Descriptor memory of a system whose memdescs come from slab caches: the RAM of those slabs per
 * live page, and the recursion seen; null for a system with counted memdescs. O(slabs).
 *
 * @example
 * ```ts
 * memdescFigures(buildSystem(systemNamed("memdesc")!))?.maxDepth; // 0 before any allocation
 * ```
 */
export function memdescFigures(system: MemorySystem): MemdescPageFigures | null {
  if (system.memdescSlabs === null) return null;
  const f = system.memdescSlabs.figures();
  const live = system.pages.livePages;
  return { bytesPerPage: live === 0 ? 0 : f.slabBytes / live, slabPages: f.slabBytes / system.pageSize, memdescs: f.memdescs, maxDepth: f.maxDepth, slabsAtDepth: f.slabsAtDepth };
}

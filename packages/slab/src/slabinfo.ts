import type { SlabCacheCounters } from "./cache.js";

/**
 * One cache's row of {@link SlabAllocatorStats}.
 *
 * @example
 * ```ts
 * const dentry = slab.stats().caches.find((c) => c.name === "dentry");
 * ```
 */
export interface SlabCacheStats {
  /** The cache's name. */
  name: string;
  /** Objects handed out (a slab's own descriptor not counted). */
  activeObjects: number;
  /** Object slots in all the cache's slabs. */
  objects: number;
  /** Bytes of an object. */
  objectSize: number;
  /** Bytes per slot (object, red zone, free pointer, alignment). */
  stride: number;
  /** Objects in a slab of the preferred order. */
  objectsPerSlab: number;
  /** Pages in a slab of the preferred order. */
  pagesPerSlab: number;
  /** Slabs the cache holds. */
  slabs: number;
  /** Slabs on the cache's partial list. */
  partialSlabs: number;
  /** SLUB's fast and slow path counters. */
  counters: SlabCacheCounters;
}

/**
 * What {@link SlabAllocator.stats} returns.
 *
 * @example
 * ```ts
 * const { maxDepth, descriptorBytes, slabPages } = slab.stats();
 * ```
 */
export interface SlabAllocatorStats {
  /** Pages held in slabs, by every cache (the descriptor cache included). */
  slabPages: number;
  /** Bytes of those pages. */
  slabBytes: number;
  /** Bytes of slab descriptors (`struct slab`), one per slab, wherever they sit. */
  descriptorBytes: number;
  /** Pages of the descriptor cache's slabs. */
  descriptorPages: number;
  /** Deepest nesting of slab creation seen: 1 when no descriptor needed a new slab, 2 when one did. */
  maxDepth: number;
  /** Slabs created at depth 1 and at depth 2 (a descriptor slab created for another slab). */
  slabsAtDepth: [number, number];
  /** Bytes of the allocator's arrays outside the managed memory (when the arena counts them). */
  metadataBytes: number;
  /** One row per live cache, the descriptor cache first. */
  caches: SlabCacheStats[];
}

/**
 * Prints stats as `/proc/slabinfo` does (version 2.1; SLUB has no tunables, so they print as 0,
 * and every slab counts as active).
 *
 * @example
 * ```ts
 * console.log(formatSlabinfo(slab.stats()));
 * // slabinfo - version: 2.1
 * // # name  <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables ...
 * // slab    63 63 64 64 1 : tunables 0 0 0 : slabdata 1 1 0
 * ```
 */
export function formatSlabinfo(stats: SlabAllocatorStats): string {
  const lines = [
    "slabinfo - version: 2.1",
    "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>",
  ];
  for (const c of stats.caches) {
    const name = c.name.padEnd(17);
    lines.push(
      `${name} ${String(c.activeObjects).padStart(6)} ${String(c.objects).padStart(6)} ${String(c.objectSize).padStart(6)} ${String(c.objectsPerSlab).padStart(4)} ${String(c.pagesPerSlab).padStart(4)} : tunables    0    0    0 : slabdata ${String(c.slabs).padStart(6)} ${String(c.slabs).padStart(6)}      0`,
    );
  }
  return lines.join("\n");
}

import type { SlabCacheCounters } from "./cache.js";

/**
 * One cache's row of {@link SlabAllocatorStats}.
 *
 * @example
 * ```ts
 * slab.stats().caches.find((c) => c.name === "dentry");
 * // => { name: "dentry", activeObjects: 1, objects: 21, objectSize: 192, stride: 192, objectsPerSlab: 21,
 * //      pagesPerSlab: 1, slabs: 1, partialSlabs: 0, counters: { ... } }
 * ```
 */
export interface SlabCacheStats {
  /** The cache's name, as `createCache` was given it. */
  name: string;
  /** Objects handed out (a slab's own descriptor not counted). */
  activeObjects: number;
  /** Object slots in all the cache's slabs. */
  objects: number;
  /** Bytes of each object, as asked for. */
  objectSize: number;
  /** Bytes per slot (object, red zone, free pointer, alignment). */
  stride: number;
  /** Objects in one slab. */
  objectsPerSlab: number;
  /** Pages in one slab (2^order). */
  pagesPerSlab: number;
  /** Slabs the cache holds. */
  slabs: number;
  /** Of those, slabs on a partial list. */
  partialSlabs: number;
  /** Event counters since the cache was created. */
  counters: SlabCacheCounters;
}

/**
 * What {@link SlabAllocator.stats} returns.
 *
 * @example
 * ```ts
 * slab.createCache("dentry", 192, { align: 64 }).alloc();
 * slab.stats();
 * // => { slabPages: 2, slabBytes: 8192, descriptorBytes: 128, descriptorPages: 1, maxDepth: 2,
 * //      slabsAtDepth: [1, 1], metadataBytes: 2232, caches: [...] }
 * ```
 */
export interface SlabAllocatorStats {
  /** Pages held in slabs, by every cache (the descriptor cache included). */
  slabPages: number;
  /** Bytes held in slabs: `slabPages` times the page size. */
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
  /** One entry per cache, the descriptor cache first. */
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

export type { PageSource, SlabMemory, RangeSource, SlabShrinker } from "./interfaces.js";
export { SlabAllocator, SLAB_DESCRIPTOR_BYTES, SLAB_DESCRIPTOR_MAGIC, type SlabAllocatorOptions } from "./slab-allocator.js";
export { SlabCache, type SlabCacheOptions, type SlabCacheCounters } from "./cache.js";
export { Kmalloc, type KmallocOptions, type KmallocStats } from "./kmalloc.js";
export { sizeClasses } from "./size-classes.js";
export { parseDebug, objectLayout, slabOrder, POISON_FREE, POISON_END, RED_ACTIVE, RED_INACTIVE, type SlabDebug, type ObjectLayout } from "./layout.js";
export { formatSlabinfo, type SlabAllocatorStats, type SlabCacheStats } from "./slabinfo.js";
export { SlabErrorCode } from "./errors.js";
export { AddressMap } from "./address-map.js";

export { SYSTEMS, systemNamed, type SystemDefinition, type PageAllocatorKind, type DescriptorTableKind } from "./definition.js";
export { buildSystem, COMPONENTS, type Component, type BuildOptions, type MemorySystem, type FailureNotice } from "./build.js";
export { SystemPages, type PageAllocator, type RangeAllocator, type QuarantinedRange } from "./page-face.js";
export { SwapFile, SWAP_BASE } from "./swap.js";
export { AnonMemory } from "./anon.js";
export { TallyArena } from "./tally-arena.js";
export { metadataFigures, freeBlocksPerOrder, fragmentation, cacheBytes, highOrderSuccess, type MetadataFigures, type FragmentationFigures } from "./metrics.js";
export { DEFAULT_TRACE, setSystemSelection, systemSelection, selectedSystems, selectedTraces, type SystemSelection } from "./selection.js";

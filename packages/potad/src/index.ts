export { Potad, type PotadOptions, type SpaceSpec, type AllocOptions } from "./potad.js";
export { PageFace, type PageFaceBackend } from "./page-face.js";
export type { DescriptorIndex } from "./descriptor-index.js";
export { AlignedBlockIndex, type AlignedBlockIndexOptions } from "./aligned-block-index.js";
export { SortedRangeIndex, type SortedRangeIndexOptions } from "./sorted-range-index.js";
export type { SpaceStats } from "./stats.js";
export { NO_DESCRIPTOR } from "./layout.js";

export { Heap, type HeapOptions, type HeapStats } from "./heap.js";
export { SpacePages } from "./space-pages.js";

export { Heap, type HeapOptions, type HeapStats } from "./heap.js";
export { RangeFit, type RangeFitStats } from "./range-fit.js";
export { RangePages } from "./range-pages.js";

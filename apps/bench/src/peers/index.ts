// Other JS allocators and lookups, timed beside mmkit's parts and the floors.
export { thingMallocPairs, thingMallocChurn, type ThingMallocOptions } from "./thing-malloc.js";
export { numberAllocatorPairs, numberAllocatorChurn, type NumberAllocatorOptions } from "./number-allocator.js";
export { binarySearchLookup, sortedBtreeLookup, type RangeLookupOptions } from "./range-lookup.js";

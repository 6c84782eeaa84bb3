// The floors every allocator and lookup is compared with; put them in your own interleaved sets.
export { stackFloor, type StackFloorOptions } from "./stack.js";
export { churnFloor, churnSlots, type ChurnFloorOptions } from "./churn.js";
export { flatLookupFloor, lookupQueries, type FlatLookupFloorOptions } from "./flat-lookup.js";
export { flatUpdateFloor, type FlatUpdateFloorOptions } from "./flat-update.js";

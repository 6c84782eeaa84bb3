import { churnFloor, flatLookupFloor, stackFloor } from "../floors/index.js";
import { binarySearchLookup, numberAllocatorChurn, numberAllocatorPairs, sortedBtreeLookup, thingMallocChurn, thingMallocPairs } from "../peers/index.js";
import type { Suite } from "../harness/types.js";
import { randomRanges } from "../workloads/ranges.js";

/** Live blocks in the churn workload. */
export const CHURN_LIVE = 10_000;
/** Ranges in the lookup workload. */
export const LOOKUP_RANGES = 1 << 20;

/**
 * The floors, timed beside JS peers so every report carries them: what the same engine on the same
 * machine needs at the very least for an alloc+free pair, a churn step over 10k live blocks, and a
 * page->id lookup over 1M ranges, and how far general-purpose JS allocators and lookups are from
 * that. Other suites put the same floors in their own interleaved sets (`src/floors/`), so their
 * ratios come from their own rounds.
 */
const suite: Suite = {
  name: "floors",
  description: "The floors every allocator is compared with (Int32Array free-list stack, 10k-live churn, flat page->id lookup over 1M ranges), beside JS peers",
  default: true,
  run(ctx) {
    const stack = "Int32Array stack";
    ctx.time("alloc+free pairs", [stackFloor(), thingMallocPairs(), numberAllocatorPairs()], { floor: stack });
    ctx.record({ system: stack, workload: "alloc+free pairs", metric: "metadata/block", value: 4, unit: "bytes" });

    const churn = `churn, ${CHURN_LIVE / 1000}k live`;
    const seed = ctx.seed;
    ctx.time(churn, [churnFloor(CHURN_LIVE, { seed }), thingMallocChurn(CHURN_LIVE, { seed }), numberAllocatorChurn(CHURN_LIVE, { seed })], { floor: stack, note: "same slot sequence" });
    ctx.record({ system: stack, workload: churn, metric: "metadata", value: CHURN_LIVE * 2 * 4 + CHURN_LIVE * 4, unit: "bytes", note: "next[] + live slots" });

    ctx.progress("building 1M ranges", 0, 1);
    const layout = randomRanges({ count: LOOKUP_RANGES, maxOrder: 3, seed });
    const lookup = "page->id lookup, 1M ranges";
    ctx.time(lookup, [flatLookupFloor(layout, { seed }), binarySearchLookup(layout, { seed }), sortedBtreeLookup(layout, { seed })], { floor: "flat Int32Array", note: "same random pfns" });
    ctx.record({ system: "flat Int32Array", workload: lookup, metric: "pages", value: layout.pages, unit: "count", note: "ranges of 1-8 pages" });
    ctx.record({ system: "flat Int32Array", workload: lookup, metric: "metadata", value: layout.pages * 4, unit: "bytes", note: "4 bytes/page" });
    ctx.record({ system: "binary search", workload: lookup, metric: "metadata", value: (layout.count + 1) * 4, unit: "bytes", note: "4 bytes/range" });
  },
};

export default suite;

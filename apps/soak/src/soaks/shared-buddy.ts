import { SharedBuddy, type CpuPages } from "@mmkit/buddy";
import type { Soak } from "../soak.js";
import { same, SHARED_FRONTS_KINDS, SharedFrontsSoak, type SharedSoakSubject, TWO_NODE_PAGES, twoNodeMap } from "./support.js";

const CPUS = 3;

/** The page surface the zone-lock path and every CPU front share. */
type PagePath = Pick<CpuPages, "allocPages" | "freePages">;

/**
 * The shared buddy as {@link SharedFrontsSoak} drives it: three instances on the two-node machine,
 * each owning one CPU front; blocks are page frames of orders 0..6 (the seed's low bit picks the
 * zone lock, so both kinds are soaked across seeds). The threaded version of this run is `pnpm
 * --filter @mmkit/buddy soak:shared` (worker threads, so not replayable op by op).
 */
function sharedBuddySubject(seed: number): SharedSoakSubject<PagePath> {
  const creator = SharedBuddy.create(twoNodeMap(), { maxOrder: 6, pageblockOrder: 4, cpus: CPUS, pcpBatch: 7, pcpHigh: 31, minFreeKbytes: 64, lock: (seed & 1) === 0 ? "mutex" : "spin" });
  return {
    unit: "pfn",
    cpus: CPUS,
    units: TWO_NODE_PAGES,
    creator,
    attach: () => SharedBuddy.attach(structuredClone(creator.handle)),
    order: (word) => (word % 7 > 4 ? word % 7 : word % 4),
    alloc: (path, order) => path.allocPages(order),
    free: (path, pfn, order) => path.freePages(pfn, order),
    doubleFree: (path, pfn, order) => path.freePages(pfn, order),
    doubleFreeCodes: ["ERR_DOUBLE_FREE", "ERR_NOT_ALLOCATED", "ERR_WRONG_SIZE"],
    wrongSizeFree: (path, pfn, order) => path.freePages(pfn, order + 1),
    wrongSizeCodes: ["ERR_WRONG_SIZE", "ERR_NOT_ALIGNED", "ERR_OUT_OF_RANGE"],
    observable: () => `${creator.freePageCount()} ${creator.perCpuPageCount()} ${JSON.stringify(creator.counters())} ${JSON.stringify(creator.buddyinfo())}`,
    allocatedUnits: () => creator.allocatedPageCount(),
    drained: () => {
      same(creator.perCpuPageCount(), 0, "pages on per-CPU lists after every CPU drained");
      same(creator.freePageCount(), creator.managedPages(), "free pages after the final drain (every page back)");
      const c = creator.counters();
      same(c.allocs - c.frees, 0, "allocations less frees in the shared counters");
    },
  };
}

/** The shared buddy: three instances on one SharedArrayBuffer in one thread, cross-CPU frees, the zone-lock path, detach/death and re-attach, refused misuse. */
export const sharedBuddySoak: Soak = {
  name: "shared-buddy",
  package: "buddy",
  description: "SharedBuddy: 3 instances on one SharedArrayBuffer (as 3 workers), orders 0-6 through their CPU fronts and the zone lock, cross-CPU frees, detach/death and re-attach, double/wrong-order frees refused",
  defaultOps: 1_000_000,
  kinds: SHARED_FRONTS_KINDS,
  create: (seed) => new SharedFrontsSoak(sharedBuddySubject(seed)),
};

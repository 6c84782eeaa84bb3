import { SharedPotad, type SharedPotadFront } from "@mmkit/potad";
import type { Soak } from "../soak.js";
import { same, SHARED_FRONTS_KINDS, SharedFrontsSoak, type SharedSoakSubject } from "./support.js";

const CPUS = 3;
const GRANULE = 4096;
const GRANULES = 4096;

/** The block surface the zone-lock path and every CPU front share. */
type BlockPath = Pick<SharedPotadFront, "allocOrder" | "free">;

/**
 * The shared POTAD as {@link SharedFrontsSoak} drives it: three instances on one space of 4096
 * granules, each owning one CPU's fronts; blocks are granules of orders 0..6, freed with or without
 * their size (the seed's low bit picks the zone lock, so both kinds are soaked across seeds). The
 * threaded version of this run is `pnpm --filter @mmkit/potad soak:shared` (worker threads, so not
 * replayable op by op).
 */
function sharedPotadSubject(seed: number): SharedSoakSubject<BlockPath> {
  const creator = SharedPotad.create({ spaces: [{ base: 0, size: GRANULES * GRANULE, granule: GRANULE }], cpus: CPUS, frontHigh: 12, frontBatch: 4, lock: (seed & 1) === 0 ? "mutex" : "spin" });
  return {
    unit: "granule",
    cpus: CPUS,
    units: GRANULES,
    creator,
    attach: () => SharedPotad.attach(structuredClone(creator.handle)),
    order: (word) => (word % 9 > 6 ? (word % 9) - 3 : word % 4),
    alloc: (path, order) => {
      const address = path.allocOrder(0, order);
      return address < 0 ? -1 : address / GRANULE;
    },
    free: (path, g, order, word) => path.free(g * GRANULE, (word & 4) === 0 ? undefined : GRANULE * 2 ** order),
    doubleFree: (path, g) => path.free(g * GRANULE),
    doubleFreeCodes: ["ERR_DOUBLE_FREE", "ERR_NOT_ALLOCATED"],
    wrongSizeFree: (path, g, order) => path.free(g * GRANULE, GRANULE * 2 ** (order + 1)),
    wrongSizeCodes: ["ERR_WRONG_SIZE"],
    observable: () => `${JSON.stringify(creator.stats(0))} ${JSON.stringify(creator.counters())}`,
    allocatedUnits: () => creator.stats(0).allocatedBytes / GRANULE,
    drained: () => {
      const stats = creator.stats(0);
      same(stats.cachedBlocks, 0, "blocks on the fronts after every CPU drained");
      same(stats.freeBytes, GRANULES * GRANULE, "free bytes after the final drain (every byte back)");
      same(stats.freeBlocks, 1, "free blocks after the final drain (all merged into one)");
      const c = creator.counters();
      same(c.allocs - c.frees, 0, "allocations less frees in the shared counters");
    },
  };
}

/** The shared POTAD: three instances on one SharedArrayBuffer in one thread, cross-CPU frees, the zone-lock path, detach/death and re-attach, refused misuse. */
export const sharedPotadSoak: Soak = {
  name: "shared-potad",
  package: "potad",
  description: "SharedPotad: 3 instances on one SharedArrayBuffer (as 3 workers), orders 0-6 through their CPU fronts and the zone lock, cross-CPU frees, detach/death and re-attach, double/wrong-size frees refused",
  defaultOps: 500_000,
  kinds: SHARED_FRONTS_KINDS,
  create: (seed) => new SharedFrontsSoak(sharedPotadSubject(seed)),
};

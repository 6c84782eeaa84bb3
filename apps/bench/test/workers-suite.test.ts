import { beforeAll, describe, expect, test } from "vitest";
import { createContext } from "../src/harness/runner.js";
import type { Measurement } from "../src/harness/types.js";
import { measureWorkers } from "../src/suites/workers.js";
import { DEFAULT_SEED } from "../src/workloads/random.js";

// A small run of the workers suite (3 worker threads, 10 rounds of 2000 operations each): every
// figure is recorded for every configuration and worker count, and what the design fixes holds
// whatever the scheduling: the zone-lock-only buddy and POTAD take the lock twice per operation, the
// per-CPU lists and POTAD's fronts take it rarely and hold what their high marks allow. (No timing is
// asserted; the suite ends with check() on every shared allocator, so a broken state fails it.)

let measurements: Measurement[] = [];
const STACKS = "Int32Array stacks (per worker)";
const PCP_SMALL = "buddy per-CPU (batch 4, high 16)";
const PCP_LARGE = "buddy per-CPU (batch 31, high 186)";
const ZONE = "buddy zone lock only";
const ZONE_SPIN = "buddy zone lock only (spinlock)";
const PRIVATE = "private BuddyAllocator per worker (batch 31, high 186; no crossing frees)";
const POTAD_SMALL = "POTAD fronts (batch 4, high 16)";
const POTAD_LARGE = "POTAD fronts (batch 31, high 186)";
const POTAD_ZONE = "POTAD zone lock only";
const at = (system: string, metric: string, n: number): number => {
  const found = measurements.filter((m) => m.system === system && m.metric === metric && m.at === n);
  expect(found, `${system} / ${metric} / ${n}`).toHaveLength(1);
  return found[0]!.value;
};

beforeAll(async () => {
  const into = { measurements: [] as Measurement[], log: [] as string[] };
  await measureWorkers(createContext("workers", { quick: true, seed: DEFAULT_SEED }, into), { rounds: 10, ops: 2000 });
  measurements = into.measurements;
}, 120_000);

describe("workers suite (small run)", () => {
  test("ns/op over all workers for every configuration and count, with the ratio to the per-worker stacks", () => {
    for (const system of [STACKS, PCP_SMALL, PCP_LARGE, ZONE, ZONE_SPIN, PRIVATE, POTAD_SMALL, POTAD_LARGE, POTAD_ZONE]) {
      for (const n of [1, 2, 3]) {
        expect(at(system, "ns/op (all workers)", n)).toBeGreaterThan(0);
        const m = measurements.find((x) => x.system === system && x.metric === "ns/op (all workers)" && x.at === n)!;
        expect(m.ratioTo).toBe(STACKS);
      }
    }
  });

  test("the zone-lock-only buddy and POTAD lock for every alloc and every free; per-CPU lists and POTAD's fronts lock for refills and drains only", () => {
    for (const n of [1, 2, 3]) {
      // 2 per operation; frees handed through a ring may land in a neighbouring round: a worker's
      // ring holds at most 256, so at most 256 per 2000 operations move, 128 per 1k.
      for (const zoneLock of [ZONE, ZONE_SPIN, POTAD_ZONE]) {
        const zone = at(zoneLock, "lock acquisitions/1k ops", n);
        expect(zone).toBeGreaterThanOrEqual(2000 - 128);
        expect(zone).toBeLessThanOrEqual(2000 + 128);
      }
      // A refill or drain moves a batch: at most a few per 1k operations, far below the zone lock's 2000.
      for (const [large, small] of [[PCP_LARGE, PCP_SMALL], [POTAD_LARGE, POTAD_SMALL]] as const) {
        expect(at(large, "lock acquisitions/1k ops", n)).toBeLessThan(20);
        expect(at(small, "lock acquisitions/1k ops", n)).toBeLessThan(400);
      }
      expect(at(ZONE, "pages on per-CPU lists", n)).toBe(0);
      expect(at(POTAD_ZONE, "pages on per-CPU lists", n)).toBe(0);
      // POTAD's fronts: a free reaching high merges a batch, so each holds fewer than high after one.
      expect(at(POTAD_SMALL, "pages on per-CPU lists", n)).toBeLessThanOrEqual(3 * 15);
      expect(at(POTAD_LARGE, "pages on per-CPU lists", n)).toBeLessThanOrEqual(3 * 185);
      // Each of the 3 CPUs holds fewer than its high mark after a free (a free reaching high drains a batch).
      expect(at(PCP_SMALL, "pages on per-CPU lists", n)).toBeLessThanOrEqual(3 * 15);
      expect(at(PCP_LARGE, "pages on per-CPU lists", n)).toBeLessThanOrEqual(3 * 185);
      const contended = at(ZONE, "contended acquisitions/1k ops", n);
      expect(contended).toBeGreaterThanOrEqual(0);
      expect(contended).toBeLessThanOrEqual(at(ZONE, "lock acquisitions/1k ops", n));
    }
  });
});

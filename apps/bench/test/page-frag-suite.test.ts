import { beforeAll, describe, expect, test } from "vitest";
import { createContext } from "../src/harness/runner.js";
import type { Measurement } from "../src/harness/types.js";
import { buildReport, validateReport } from "../src/report/json.js";
import { runMetadata } from "../src/report/metadata.js";
import { imixSizes } from "../src/suites/fragments.js";
import { PAGE_FRAG_FLOOR, PAGE_FRAG_SEQUENCE, PAGE_FRAG_SYSTEMS, measurePageFrag } from "../src/suites/page-frag.js";
import { DEFAULT_SEED } from "../src/workloads/random.js";
import { PAGE_FRAG_RING, pageFragMixes } from "../src/workloads/page-frag.js";

// A small run of the page-frag suite (two worker threads, 2 warm-up passes and 3 timed rounds of
// 8192 fragments per contender). What must hold whatever the scheduling: every fragment the
// producer pushed was freed by the consumer, and every block it took went back. The one-thread
// runs are deterministic: their block counts equal those of a reference model of the bias trick
// (the suite itself ends by checking every table and buddy allocator after the workers exited).
const ROUNDS = 3;
const FRAGMENTS = 8192;
const WARM_UP = 2 * FRAGMENTS;
let measurements: Measurement[] = [];
const mixes = pageFragMixes((length) => imixSizes(DEFAULT_SEED, length));

const value = (system: string, mix: string, metric: string): number => {
  const found = measurements.filter((m) => m.system === system && m.workload === `${mix}, ${PAGE_FRAG_RING}-entry ring` && m.metric === metric);
  expect(found, `${system} / ${mix} / ${metric}`).toHaveLength(1);
  return found[0]!.value;
};

/**
 * The reference model: a 32 KiB block carved upwards in 16-byte granules, a live count per block;
 * a request that does not fit recycles the block when nothing in it is live, else takes a new one;
 * a retired block goes back with its last fragment. Counts only inside [from, from + n).
 */
function modelCounts(sizes: Int32Array, aligns: Int32Array, depth: number, from: number, n: number): { taken: number; recycled: number; returned: number } {
  const live: number[] = [];
  const queue: number[] = [];
  let current = -1;
  let offset = 0;
  const counts = { taken: 0, recycled: 0, returned: 0 };
  for (let i = 0; i < from + n; i++) {
    const counting = i >= from;
    const k = i & (PAGE_FRAG_SEQUENCE - 1);
    const size = Math.ceil(sizes[k]! / 16) * 16;
    let start = aligns[k]! > 16 ? Math.ceil(offset / aligns[k]!) * aligns[k]! : offset;
    if (current < 0 || start + size > 32768) {
      if (current >= 0 && live[current] === 0) {
        if (counting) counts.recycled++;
      } else {
        current = live.length;
        live.push(0);
        if (counting) counts.taken++;
      }
      start = 0;
    }
    live[current]!++;
    offset = start + size;
    queue.push(current);
    while (queue.length > depth) {
      const block = queue.shift()!;
      if (--live[block]! === 0 && block !== current && counting) counts.returned++;
    }
  }
  return counts;
}

beforeAll(async () => {
  const into = { measurements: [] as Measurement[], log: [] as string[] };
  await measurePageFrag(createContext("page-frag", { quick: true, seed: DEFAULT_SEED }, into), { rounds: ROUNDS, fragments: FRAGMENTS });
  measurements = into.measurements;
}, 120_000);

describe("page-frag suite (small run)", () => {
  test("every contender of every mix has ns/fragment and fragments/s with the ratio to the ring alone", () => {
    for (const mix of mixes) {
      for (const system of [PAGE_FRAG_FLOOR, ...Object.values(PAGE_FRAG_SYSTEMS)]) {
        for (const metric of ["ns/fragment", "fragments/s"]) {
          const m = measurements.find((x) => x.system === system && x.workload.startsWith(mix.name) && x.metric === metric)!;
          expect(m, `${system} / ${mix.name} / ${metric}`).toBeDefined();
          expect(m.value).toBeGreaterThan(0);
          expect(m.ratioTo).toBe(PAGE_FRAG_FLOOR);
        }
      }
      // The two-worker contenders count their sleeps on the ring; the one-thread ones have no ring.
      for (const system of [PAGE_FRAG_FLOOR, PAGE_FRAG_SYSTEMS.workers]) expect(value(system, mix.name, "producer sleeps (ring full)")).toBeGreaterThanOrEqual(0);
      expect(measurements.filter((x) => x.system === PAGE_FRAG_SYSTEMS.queued && x.metric === "producer sleeps (ring full)")).toHaveLength(0);
      expect(value(PAGE_FRAG_FLOOR, mix.name, "ns/fragment")).toBe(measurements.find((x) => x.system === PAGE_FRAG_FLOOR && x.metric === "ns/fragment")!.value);
    }
  });

  test("page_frag_test in two workers: every fragment produced was consumed, every block taken went back", () => {
    for (const mix of mixes) {
      expect(value(PAGE_FRAG_SYSTEMS.workers, mix.name, "fragments produced")).toBe(ROUNDS * FRAGMENTS);
      expect(value(PAGE_FRAG_SYSTEMS.workers, mix.name, "fragments consumed")).toBe(ROUNDS * FRAGMENTS);
      // Each round ends with every fragment freed and the producer holding one current block.
      expect(value(PAGE_FRAG_SYSTEMS.workers, mix.name, "blocks returned")).toBe(value(PAGE_FRAG_SYSTEMS.workers, mix.name, "blocks taken"));
    }
  });

  test("the one-thread runs take, recycle and return exactly the blocks the reference model does", () => {
    for (const mix of mixes) {
      const { sizes, aligns } = mix.make(PAGE_FRAG_SEQUENCE);
      for (const [system, depth] of [
        [PAGE_FRAG_SYSTEMS.queued, PAGE_FRAG_RING],
        [PAGE_FRAG_SYSTEMS.sharedQueued, PAGE_FRAG_RING],
        [PAGE_FRAG_SYSTEMS.atOnce, 0],
      ] as const) {
        const want = modelCounts(sizes, aligns, depth, WARM_UP, ROUNDS * FRAGMENTS);
        expect(value(system, mix.name, "fragments produced")).toBe(ROUNDS * FRAGMENTS);
        expect(value(system, mix.name, "fragments consumed")).toBe(ROUNDS * FRAGMENTS);
        expect({ taken: value(system, mix.name, "blocks taken"), recycled: value(system, mix.name, "blocks recycled in place"), returned: value(system, mix.name, "blocks returned") }, `${system} / ${mix.name}`).toEqual(want);
      }
    }
    // The kernel test's 2048-byte run by hand: 16 fragments a block; with 512 in flight no block is
    // ever empty when it is used up, freed at once every one is.
    const blocks = (ROUNDS * FRAGMENTS) / 16;
    expect(value(PAGE_FRAG_SYSTEMS.queued, mixes[1]!.name, "blocks taken")).toBe(blocks);
    expect(value(PAGE_FRAG_SYSTEMS.atOnce, mixes[1]!.name, "blocks recycled in place")).toBe(blocks);
    expect(value(PAGE_FRAG_SYSTEMS.atOnce, mixes[1]!.name, "blocks taken")).toBe(0);
  });

  test("the measurements make a JSON report the schema accepts", () => {
    const report = buildReport(runMetadata([], true, DEFAULT_SEED), [{ name: "page-frag", description: "the page-frag suite", seconds: 1, measurements, log: [] }]);
    expect(validateReport(JSON.parse(JSON.stringify(report)))).toEqual([]);
    expect(report.measurements.every((m) => m.suite === "page-frag")).toBe(true);
  });
});

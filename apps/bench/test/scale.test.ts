import { GiB, MiB } from "@mmkit/physmem";
import { describe, expect, test } from "vitest";
import { churnSlots } from "../src/floors/index.js";
import type { Measurement } from "../src/harness/types.js";
import { scaleClause } from "../src/suites/answers.js";
import { SCALE_WORKLOADS, curveTable, liveLabel, scalePlan, type Curves } from "../src/suites/scale.js";
import { randomIndices } from "../src/workloads/random.js";
import { PAGE_ALLOCATORS, buildTable, pageAllocatorChurn, pageAllocatorLines, scaleMachineBytes, tableChurn, tableLines, tableLookup, tablePfns } from "../src/workloads/scale.js";

const SEQUENCE = 1 << 16;

describe("the scale points", () => {
  test("the machine grows with the live set: four times the live bytes, a power of two, 16 MiB..16 GiB", () => {
    expect([1_000, 10_000, 100_000, 1_000_000, 10_000_000].map(scaleMachineBytes)).toEqual([16 * MiB, 256 * MiB, 2 * GiB, 16 * GiB, 16 * GiB]);
    expect(scaleMachineBytes(10)).toBe(16 * MiB);
  });

  test("the default run measures the curves' ends, scale-full every size, quick two small ones", () => {
    expect(scalePlan(false, false)).toMatchObject({ sizes: [1_000, 1_000_000], linesUpTo: 1_000 });
    expect(scalePlan(false, true)).toMatchObject({ sizes: [1_000, 10_000, 100_000, 1_000_000], linesUpTo: 1_000_000 });
    expect(scalePlan(true, false).sizes).toEqual([1_000, 10_000]);
    expect([1_000, 10_000, 1_000_000, 500].map(liveLabel)).toEqual(["1k", "10k", "1M", "500"]);
  });

  test("each page allocator's churn runs steady: no misuse (a double free throws), never out of pages (-1 would be summed)", () => {
    const live = 1000;
    const slots = churnSlots(3, live, SEQUENCE);
    for (const name of PAGE_ALLOCATORS) {
      const run = pageAllocatorChurn(name, scaleMachineBytes(live), live, slots).setup();
      run(5000);
      run(777);
      // The sum a run returns is of the pfns it allocated: all valid, none -1.
      expect(run(1) >= 0).toBe(true);
    }
  });

  test("a table's churn and lookups keep the live set recorded and nothing else (check() after)", () => {
    const live = 500;
    const bytes = scaleMachineBytes(live);
    const slots = churnSlots(5, live, SEQUENCE);
    const pfns = tablePfns(bytes, 5);
    expect(new Set(pfns).size).toBe(bytes / 4096);
    for (const name of ["maple", "memmap-64", "memdesc-8"] as const) {
      const built = buildTable(name, bytes, live, slots, pfns);
      const churn = tableChurn(built).setup();
      churn(3000);
      const lookups = tableLookup(built, randomIndices(5, "scale/lookups", SEQUENCE, live)).setup();
      lookups(1000);
      built.table.check();
      const held = new Set(built.state.held);
      expect(held.size).toBe(live);
      for (const pfn of held) expect(built.table.get(pfn)).toBeGreaterThanOrEqual(0);
      for (const pfn of built.state.ring.subarray(0, 2000)) expect(built.table.get(pfn)).toBe(-1);
    }
  });

  test("lines per op at 1k live, exact for a seed (ProbingArena)", () => {
    const live = 1000;
    const bytes = scaleMachineBytes(live);
    const slots = churnSlots(7, live, SEQUENCE);
    const lines = Object.fromEntries(PAGE_ALLOCATORS.map((n) => [n, pageAllocatorLines(n, bytes, live, slots, 200, 200)]));
    expect(lines).toEqual({
      "buddy per-CPU": { alloc: 3, free: 3, op: 3 },
      "buddy free lists": { alloc: 3, free: 6, op: 4.5 },
      potad: { alloc: 2, free: 2, op: 2 },
      "potad page face": { alloc: 2, free: 2, op: 2 },
    });
    const pfns = tablePfns(bytes, 7);
    const queries = randomIndices(7, "scale/lookups", SEQUENCE, live);
    expect(tableLines("memmap-64", bytes, live, slots, pfns, queries, 200)).toEqual({ lookup: 1, churn: { alloc: 2, free: 1, op: 1.5 } });
    expect(tableLines("memdesc-8", bytes, live, slots, pfns, queries, 200)).toEqual({ lookup: 1, churn: { alloc: 1, free: 1.29, op: 1.145 } });
    // The maple tree walks a node per level: more than one line per lookup (its write path is being rebuilt, so no exact figure here).
    expect(tableLines("maple", bytes, live, slots, pfns, queries, 200).lookup).toBeGreaterThan(2);
  });
});

describe("the answers' scale clause", () => {
  const m = (system: string, at: number, value: number): Measurement => ({ suite: "scale", system, workload: SCALE_WORKLOADS.systems, metric: "ns/op", value, unit: "ns", at });
  const ns = (v: number): string => `${v} ns`;

  test("both figures at the ends, their ratio, and the crossover when the lead changes", () => {
    const earlier = [m("memdesc", 1000, 600), m("classic", 1000, 100), m("memdesc", 1_000_000, 900), m("classic", 1_000_000, 1000)];
    expect(scaleClause(earlier, SCALE_WORKLOADS.systems, "ns/op", "memdesc", "classic", ns)).toBe(
      "memdesc against classic: 600 ns vs 100 ns at 1k live (6.00x), 900 ns vs 1000 ns at 1M live (0.90x); memdesc overtakes (becomes the lower) between 1k and 1M live",
    );
  });

  test("no crossover: says which stays lower; no scale suite ran: undefined", () => {
    const earlier = [m("memdesc", 1000, 600), m("classic", 1000, 100), m("memdesc", 1_000_000, 900), m("classic", 1_000_000, 300)];
    expect(scaleClause(earlier, SCALE_WORKLOADS.systems, "ns/op", "memdesc", "classic", ns)).toMatch(/; classic stays the lower over the whole range, no crossover$/);
    expect(scaleClause([], SCALE_WORKLOADS.systems, "ns/op", "memdesc", "classic", ns)).toBeUndefined();
  });
});

test("the compact curve table: ns/op, ratio and lines per size, '-' where a figure was not taken, a space between full cells", () => {
  const curves: Curves = new Map([
    [
      "page allocators: order-0 churn",
      new Map([
        ["Int32Array stack", new Map([[1000, { ns: 6.5, ratio: 1 }], [1_000_000, { ns: 102 }]])],
        ["buddy per-CPU", new Map([[1000, { ns: 57.7, ratio: 8.8, lines: 3 }], [1_000_000, { ns: 865, ratio: 8.4 }]])],
        ["maple", new Map([[1000, { ns: 7600, ratio: 1280, lines: 16.4 }]])],
      ]),
    ],
  ]);
  expect(curveTable(curves, [1000, 10_000, 100_000, 1_000_000])).toEqual([
    "ns/op (x the floor of the same rounds) and lines/op, by live pages: 1k, 10k, 100k, 1M",
    "page allocators: order-0 churn",
    "  Int32Array stack  6.5 ns             -                  -                  102 ns",
    "  buddy per-CPU     57.7 ns 8.8x 3.0l  -                  -                  865 ns 8.4x",
    "  maple             7.60 µs 1280x 16.4l -                  -                  -",
  ]);
});

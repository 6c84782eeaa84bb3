import { describe, expect, test } from "vitest";
import { flatLookupFloor } from "../src/floors/index.js";
import { binarySearchLookup, numberAllocatorChurn, numberAllocatorPairs, sortedBtreeLookup, thingMallocChurn, thingMallocPairs } from "../src/peers/index.js";
import { randomRanges } from "../src/workloads/ranges.js";

describe("lookup peers", () => {
  test("binary search and sorted-btree find the same range ids as the flat table, query for query", () => {
    const layout = randomRanges({ count: 5000, maxOrder: 4, seed: 11 });
    const runs = [flatLookupFloor(layout, { seed: 3 }), binarySearchLookup(layout, { seed: 3 }), sortedBtreeLookup(layout, { seed: 3 })].map((c) => c.setup());
    for (const ops of [1, 7, 1000, 70_000]) {
      const sums = runs.map((run) => run(ops));
      expect(sums[1]).toBe(sums[0]);
      expect(sums[2]).toBe(sums[0]);
    }
  });
});

describe("allocator peers", () => {
  test("pairs hand the same block back every time", () => {
    const thing = thingMallocPairs().setup();
    const first = thing(1);
    expect(thing(10)).toBe((first * 10) | 0);
    expect(numberAllocatorPairs().setup()(10)).toBe(0);
  });

  test("churn is deterministic for a seed, and keeps running (no exhaustion) over many rounds", () => {
    for (const make of [(s: number) => thingMallocChurn(500, { seed: s }), (s: number) => numberAllocatorChurn(500, { seed: s })]) {
      const a = make(4).setup();
      const b = make(4).setup();
      for (let r = 0; r < 5; r++) expect(a(2000)).toBe(b(2000));
    }
  });

  test("bad sizes throw before anything is built", () => {
    expect(() => thingMallocPairs({ bytes: 0 })).toThrow(/bytes must be in/);
    expect(() => numberAllocatorChurn(10, { capacity: 5 })).toThrow(/capacity must be in \[11, /);
  });
});

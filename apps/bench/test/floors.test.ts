import { describe, expect, test } from "vitest";
import { churnFloor, churnSlots, flatLookupFloor, flatUpdateFloor, lookupQueries, stackFloor } from "../src/floors/index.js";
import { flatTable, randomRanges } from "../src/workloads/ranges.js";
import { randomIndices } from "../src/workloads/random.js";

describe("floors", () => {
  test("stack floor: every pair pops and pushes the head block (block 0)", () => {
    const run = stackFloor({ capacity: 4 }).setup();
    expect(run(10)).toBe(0);
    expect(run(10)).toBe(0);
    expect(stackFloor().name).toBe("Int32Array stack");
  });

  test("churn floor: allocates blocks live, live+1, ... first, then reuses what the slots freed", () => {
    // live 2, capacity 4: slots 0 and 1 hold blocks 0 and 1; free list 2 -> 3.
    const slots = churnSlots(1, 2, 8);
    const run = churnFloor(2, { seed: 1, capacity: 4, sequence: 8 }).setup();
    // Model: the same free list and slot table in plain arrays.
    const free = [2, 3];
    const held = [0, 1];
    let expected = 0;
    for (let i = 0; i < 8; i++) {
      const block = free.shift()!;
      const old = held[slots[i]!]!;
      held[slots[i]!] = block;
      free.unshift(old);
      expected += block;
    }
    expect(run(8)).toBe(expected);
  });

  test("churn floor is deterministic for a seed and keeps its live count", () => {
    const a = churnFloor(100, { seed: 5 }).setup();
    const b = churnFloor(100, { seed: 5 }).setup();
    for (let r = 0; r < 5; r++) expect(a(1000)).toBe(b(1000));
    expect(Array.from(churnSlots(5, 100, 16))).toEqual(Array.from(randomIndices(5, "churn", 16, 100)));
  });

  test("flat lookup floor sums the range ids of its queried pfns", () => {
    const layout = randomRanges({ count: 64, seed: 3 });
    const table = flatTable(layout);
    const queries = lookupQueries(9, layout, 16);
    const run = flatLookupFloor(layout, { seed: 9, queries: 16 }).setup();
    const expected = Array.from(queries).reduce((s, pfn) => s + table[pfn]!, 0);
    expect(run(16)).toBe(expected);
    expect(run(32)).toBe(2 * expected);
  });

  test("flat update floor: pairs of changes, ops counts single changes", () => {
    const pfns = Int32Array.from([5, 9, 2]);
    const run = flatUpdateFloor(16, pfns).setup();
    expect(run(4)).toBe(5 + 9);
    expect(run(2)).toBe(2);
    expect(run(2)).toBe(5);
  });

  test("bad sizes throw before anything is built", () => {
    expect(() => stackFloor({ capacity: 0 })).toThrow(/capacity must be in/);
    expect(() => churnFloor(0)).toThrow(/live must be in/);
    expect(() => churnFloor(10, { capacity: 10 })).toThrow(/capacity must be in \[11, /);
    expect(() => flatUpdateFloor(0, new Int32Array(1))).toThrow(/pages must be in/);
    expect(() => churnFloor(10, { sequence: 1000 })).toThrow(/sequence must be a power of two, got 1000/);
    expect(() => flatLookupFloor(randomRanges({ count: 4 }), { queries: 3 })).toThrow(/queries must be a power of two, got 3/);
  });
});

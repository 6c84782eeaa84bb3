import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { Measurement } from "../src/harness/types.js";
import { crossovers, curveOf } from "../src/report/crossover.js";

describe("crossovers", () => {
  test("finds where the lower curve changes, between the two measured points", () => {
    expect(crossovers([{ at: 1e3, a: 5, b: 8 }, { at: 1e4, a: 7, b: 8 }, { at: 1e5, a: 20, b: 9 }])).toEqual([{ from: 10_000, to: 100_000, lower: "b" }]);
    expect(crossovers([{ at: 1e6, a: 1, b: 2 }, { at: 1e3, a: 3, b: 2 }])).toEqual([{ from: 1000, to: 1_000_000, lower: "a" }]);
    expect(crossovers([{ at: 1, a: 1, b: 2 }, { at: 2, a: 1, b: 2 }])).toEqual([]);
  });

  test("a tie neither starts nor ends a lead", () => {
    expect(crossovers([{ at: 1, a: 1, b: 2 }, { at: 2, a: 2, b: 2 }, { at: 3, a: 3, b: 2 }])).toEqual([{ from: 1, to: 3, lower: "b" }]);
    expect(crossovers([{ at: 1, a: 2, b: 2 }])).toEqual([]);
  });

  test("against a brute-force count: as many crossovers as sign changes of a - b, ties skipped", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 })), { maxLength: 12 }), (pairs) => {
        const points = pairs.map(([a, b], i) => ({ at: i + 1, a, b }));
        const signs = points.map((p) => Math.sign(p.a - p.b)).filter((s) => s !== 0);
        const changes = signs.filter((s, i) => i > 0 && s !== signs[i - 1]).length;
        const found = crossovers(points);
        expect(found).toHaveLength(changes);
        for (const c of found) expect(c.from).toBeLessThan(c.to);
      }),
    );
  });
});

test("curveOf pairs two systems' values at the positions both have, in order", () => {
  const m = (system: string, at: number | undefined, value: number, metric = "ns/op"): Measurement => ({ suite: "scale", system, workload: "w", metric, value, unit: "ns", ...(at !== undefined ? { at } : {}) });
  const ms = [m("x", 1_000_000, 9), m("x", 1000, 3), m("y", 1000, 4), m("y", 1_000_000, 5), m("y", 10, 1), m("x", undefined, 7), m("x", 1000, 100, "lines/op")];
  expect(curveOf(ms, "scale", "w", "ns/op", "x", "y")).toEqual([
    { at: 1000, a: 3, b: 4 },
    { at: 1_000_000, a: 9, b: 5 },
  ]);
  expect(curveOf(ms, "other", "w", "ns/op", "x", "y")).toEqual([]);
});

import { MmkitError } from "@mmkit/physmem";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { DEFAULT_SEED, SeededRandom, randomIndices, requirePowerOfTwoLength } from "../src/workloads/random.js";
import { flatTable, randomRanges } from "../src/workloads/ranges.js";

describe("SeededRandom", () => {
  test("matches xoshiro128** reference outputs from state {1, 2, 3, 4}", () => {
    const rng = SeededRandom.fromState([1, 2, 3, 4]);
    // rotl(2 * 5, 7) * 9 = 11520; after one step s1 = 0, so the second output is 0.
    expect([rng.nextUint32(), rng.nextUint32()]).toEqual([11520, 0]);
  });

  test("is deterministic: the same seed and stream give the same numbers, pinned", () => {
    const a = new SeededRandom(42);
    expect([a.nextUint32(), a.nextUint32(), a.nextUint32(), a.nextUint32()]).toEqual([2333038237, 956201593, 2513975886, 1085208967]);
    const b = new SeededRandom(42, "floors/churn");
    expect([b.nextUint32(), b.nextUint32()]).toEqual([1218850468, 1027526020]);
    expect(Array.from(randomIndices(1, "churn", 8, 10))).toEqual([0, 2, 1, 7, 3, 3, 9, 8]);
  });

  test("streams and seeds are independent sequences", () => {
    const take = (rng: SeededRandom) => Array.from({ length: 8 }, () => rng.nextUint32());
    expect(take(new SeededRandom(DEFAULT_SEED, "a"))).toEqual(take(new SeededRandom(DEFAULT_SEED, "a")));
    expect(take(new SeededRandom(DEFAULT_SEED, "a"))).not.toEqual(take(new SeededRandom(DEFAULT_SEED, "b")));
    expect(take(new SeededRandom(1))).not.toEqual(take(new SeededRandom(2)));
  });

  test("below(n) stays in [0, n), between is inclusive, float in [0, 1)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 1, max: 2 ** 32 }), (seed, n) => {
        const rng = new SeededRandom(seed);
        for (let i = 0; i < 20; i++) {
          const v = rng.below(n);
          expect(Number.isInteger(v) && v >= 0 && v < n).toBe(true);
          const f = rng.float();
          expect(f >= 0 && f < 1).toBe(true);
          const w = rng.between(5, 7);
          expect(w >= 5 && w <= 7).toBe(true);
        }
      }),
      { numRuns: 100 },
    );
  });

  test("below(10) is close to uniform over 100k draws", () => {
    const rng = new SeededRandom(3);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) counts[rng.below(10)]!++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });

  test("shuffle permutes", () => {
    const a = new SeededRandom(9).shuffle(Int32Array.from({ length: 100 }, (_, i) => i));
    expect(Array.from(a).sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Array.from(a)).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  test("bad arguments throw typed errors naming the value, and draw nothing", () => {
    for (const seed of [-1, 1.5, Number.NaN, 2 ** 32]) {
      expect(() => new SeededRandom(seed)).toThrow(MmkitError);
    }
    const rng = new SeededRandom(5);
    const twin = new SeededRandom(5);
    expect(() => rng.below(0)).toThrow(/n must be in \[1, 4294967296\], got 0/);
    expect(() => rng.below(2.5)).toThrow(/got 2.5/);
    expect(Array.from(randomIndices(1, "x", 3, 10))).toHaveLength(3); // any length; masks need powers of two
    expect(() => requirePowerOfTwoLength(3, "sequence")).toThrow(/sequence must be a power of two, got 3/);
    expect(requirePowerOfTwoLength(4, "sequence")).toBe(4);
    expect(() => SeededRandom.fromState([0, 0, 0, 0])).toThrow(/all zero/);
    expect(rng.nextUint32()).toBe(twin.nextUint32());
  });
});

describe("randomRanges", () => {
  test("lays power-of-two ranges end to end, deterministically", () => {
    const layout = randomRanges({ count: 8, maxOrder: 3, seed: 7 });
    expect(Array.from(layout.starts)).toEqual([0, 2, 4, 8, 16, 20, 22, 23, 24]);
    expect(layout.pages).toBe(24);
    expect(Array.from(flatTable(layout))).toEqual([0, 0, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 6, 7]);
  });

  test("every size is a power of two up to 2^maxOrder", () => {
    const layout = randomRanges({ count: 1000, maxOrder: 5, seed: 1 });
    for (let i = 0; i < 1000; i++) {
      const size = layout.starts[i + 1]! - layout.starts[i]!;
      expect(size >= 1 && size <= 32 && (size & (size - 1)) === 0).toBe(true);
    }
  });

  test("rejects bad sizes", () => {
    expect(() => randomRanges({ count: 0 })).toThrow(/count must be in/);
    expect(() => randomRanges({ maxOrder: 11 })).toThrow(/maxOrder must be in/);
  });
});

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ErrorCode } from "@mmkit/physmem";
import { LOAD_MANY_LOCKSTEP, MAX_INDEX, MapleTree } from "@mmkit/memdesc-lookup";
import { expectMmkitError } from "@mmkit/test-support";

/** What loadMany must write: load's answer, NaN for empty. */
function expected(tree: { load(i: number): number | undefined }, indices: ArrayLike<number>, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(tree.load(indices[i]!) ?? NaN);
  return out;
}

describe("loadMany", () => {
  test("answers as load does, NaN where empty, in groups of 4 and a tail", () => {
    expect(LOAD_MANY_LOCKSTEP).toBe(4);
    const tree = new MapleTree();
    tree.store(10, 19, 7);
    tree.store(40, 40, 1.5);
    tree.store(MAX_INDEX, MAX_INDEX, -3);
    const indices = [15, 25, 0, 40, 41, MAX_INDEX, 19, 10, 20, 39, 40];
    const out = new Float64Array(11).fill(99);
    expect(tree.loadMany(indices, out)).toBe(out);
    expect(Array.from(out)).toEqual([7, NaN, NaN, 1.5, NaN, -3, 7, 7, NaN, NaN, 1.5]);
  });

  test("count limits what is read and written", () => {
    const tree = new MapleTree();
    tree.store(0, 9, 5);
    const out = new Float64Array(4).fill(-1);
    tree.loadMany(Int32Array.of(1, 2, 30, 4), out, 2);
    expect(Array.from(out)).toEqual([5, 5, -1, -1]);
    tree.loadMany([], new Float64Array(0));
  });

  test("matches load on a 4-level tree of 200k ranges (bulk loaded) and after writes", () => {
    const tree = new MapleTree();
    const n = 200_000;
    const firsts: number[] = [];
    const lasts: number[] = [];
    const values: number[] = [];
    for (let i = 0; i < n; i++) {
      firsts.push(i * 10);
      lasts.push(i * 10 + (i % 7));
      values.push(i * 16);
    }
    tree.bulkLoad(firsts, lasts, values);
    expect(tree.height).toBe(4);
    const indices = new Float64Array(10_003);
    for (let i = 0; i < indices.length; i++) indices[i] = (i * 7919) % (n * 10 + 50);
    const out = new Float64Array(indices.length);
    tree.loadMany(indices, out);
    expect(Array.from(out)).toEqual(expected(tree, indices, indices.length));
    for (let i = 0; i < 5000; i++) tree.erase(i * 37 * 10);
    tree.store(5, 1_000_005, 3);
    tree.loadMany(indices, out);
    expect(Array.from(out)).toEqual(expected(tree, indices, indices.length));
  });

  test("a snapshot's loadMany sees the snapshot; a released one refuses", () => {
    const tree = new MapleTree();
    tree.store(0, 99, 1);
    const snap = tree.snapshot();
    tree.store(50, 59, 2);
    const out = new Float64Array(2);
    expect(Array.from(snap.loadMany([55, 5], out))).toEqual([1, 1]);
    expect(Array.from(tree.loadMany([55, 5], out))).toEqual([2, 1]);
    snap.release();
    expectMmkitError(() => snap.loadMany([1], out), ErrorCode.InvalidState, "snapshot was released");
  });

  test("model: random trees and batches agree with load", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: -9, max: 9 })), { maxLength: 300 }),
        fc.array(fc.integer({ min: 0, max: 5100 }), { maxLength: 40 }),
        (stores, indices) => {
          const tree = new MapleTree();
          for (const [first, len, value] of stores) tree.store(first, first + len, value);
          const out = new Float64Array(indices.length);
          tree.loadMany(indices, out);
          expect(Array.from(out)).toEqual(expected(tree, indices, indices.length));
        },
      ),
      { numRuns: 200 },
    );
  });

  describe("bad input is a typed error naming it, and out is untouched", () => {
    const tree = new MapleTree();
    tree.store(0, 9, 5);
    const cases: Array<[string, () => unknown, string, string]> = [
      ["a fractional index", () => tree.loadMany([1, 2, 3.5], out), ErrorCode.InvalidArgument, "indices[2] must be an integer index, got 3.5"],
      ["a negative index", () => tree.loadMany([-1], out), ErrorCode.OutOfRange, "indices[0] must be in [0, 9007199254740991], got -1"],
      ["an index above 2^53 - 1", () => tree.loadMany([0, 2 ** 53], out), ErrorCode.OutOfRange, `indices[1] must be in [0, ${MAX_INDEX}], got ${2 ** 53}`],
      ["a string index", () => tree.loadMany(["4"] as unknown as number[], out), ErrorCode.InvalidArgument, 'indices[0] must be an integer index, got "4"'],
      ["out not a Float64Array", () => tree.loadMany([1], [0] as unknown as Float64Array), ErrorCode.InvalidArgument, "out must be a Float64Array"],
      ["indices not an array", () => tree.loadMany(7 as unknown as number[], out), ErrorCode.InvalidArgument, "indices must be an array of indices, got 7"],
      ["count above out's length", () => tree.loadMany([1, 2, 3, 4, 5], out), ErrorCode.OutOfRange, "count 5 exceeds indices (5) or out (4)"],
      ["a negative count", () => tree.loadMany([1], out, -1), ErrorCode.InvalidArgument, "count must be a non-negative integer, got -1"],
    ];
    const out = new Float64Array(4).fill(42);
    for (const [name, fn, code, text] of cases) {
      test(name, () => {
        expectMmkitError(fn, code, text);
        expect(Array.from(out)).toEqual([42, 42, 42, 42]);
        tree.check();
      });
    }
  });
});

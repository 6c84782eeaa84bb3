import fc from "fast-check";
import { expect, test } from "vitest";
import { MAX_INDEX, MapleTree } from "@mmkit/memdesc-lookup";
import { RangeModel } from "./model.ts";

type Op =
  | { kind: "store" | "insert"; first: number; len: number; value: number }
  | { kind: "erase" | "load" | "eraseRange"; at: number; len: number }
  | { kind: "find" | "findPrev"; at: number; len: number }
  | { kind: "emptyArea" | "emptyAreaRev" | "allocRange"; at: number; len: number; size: number };

/** Indices near 0, near a power of two, or near the top, so every region of the index space is hit. */
const regions = [0, 2 ** 31 - 200, MAX_INDEX - 600];

const op = (space: number): fc.Arbitrary<Op> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant("store" as const), first: fc.nat(space), len: fc.integer({ min: 1, max: 40 }), value: fc.integer({ min: -5, max: 5 }) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("insert" as const), first: fc.nat(space), len: fc.integer({ min: 1, max: 12 }), value: fc.integer({ min: 0, max: 9 }) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constantFrom("erase" as const, "load" as const, "eraseRange" as const), at: fc.nat(space), len: fc.integer({ min: 1, max: 30 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom("find" as const, "findPrev" as const), at: fc.nat(space), len: fc.integer({ min: 0, max: 60 }) }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constantFrom("emptyArea" as const, "emptyAreaRev" as const, "allocRange" as const),
        at: fc.nat(space),
        len: fc.integer({ min: 1, max: 120 }),
        size: fc.integer({ min: 1, max: 16 }),
      }),
    },
  );

function replay(ops: Op[], base: number): void {
  const tree = new MapleTree();
  const model = new RangeModel();
  const top = (n: number) => Math.min(n, MAX_INDEX);
  for (const o of ops) {
    switch (o.kind) {
      case "store": {
        const f = base + o.first;
        tree.store(f, top(f + o.len - 1), o.value);
        model.store(f, top(f + o.len - 1), o.value);
        break;
      }
      case "insert": {
        const f = base + o.first;
        expect(tree.insert(f, top(f + o.len - 1), o.value)).toBe(model.insert(f, top(f + o.len - 1), o.value));
        break;
      }
      case "erase":
        expect(tree.erase(base + o.at)).toBe(model.erase(base + o.at));
        break;
      case "eraseRange":
        tree.eraseRange(base + o.at, top(base + o.at + o.len - 1));
        model.eraseRange(base + o.at, top(base + o.at + o.len - 1));
        break;
      case "load":
        expect(tree.load(base + o.at)).toBe(model.load(base + o.at));
        expect(tree.loadRange(base + o.at)).toEqual(model.loadRange(base + o.at));
        break;
      case "find":
        expect(tree.find(base + o.at, top(base + o.at + o.len))).toEqual(model.find(base + o.at, top(base + o.at + o.len)));
        break;
      case "findPrev": {
        const min = Math.max(0, base + o.at - o.len);
        expect(tree.findPrev(base + o.at, min)).toEqual(model.findPrev(base + o.at, min));
        break;
      }
      case "emptyArea":
      case "emptyAreaRev":
      case "allocRange": {
        const lo = base + o.at;
        const hi = top(lo + o.len - 1 + o.size);
        if (o.kind === "emptyArea") expect(tree.emptyArea(lo, hi, o.size)).toBe(model.emptyArea(lo, hi, o.size));
        else if (o.kind === "emptyAreaRev") expect(tree.emptyAreaRev(lo, hi, o.size)).toBe(model.emptyAreaRev(lo, hi, o.size));
        else {
          const at = model.emptyArea(lo, hi, o.size);
          if (at >= 0) model.store(at, at + o.size - 1, 42);
          expect(tree.allocRange(lo, hi, o.size, 42)).toBe(at);
        }
        break;
      }
    }
    tree.check();
    expect(tree.size).toBe(model.ranges.length);
  }
  expect([...tree.entries()]).toEqual(model.ranges);
}

test("random operations agree with a sorted-array model, check() after every step", () => {
  fc.assert(
    fc.property(fc.array(op(400), { maxLength: 150 }), fc.constantFrom(...regions), (ops, base) => replay(ops, base)),
    { numRuns: 80 },
  );
});

test("a wide space grows deep trees and still agrees with the model", () => {
  fc.assert(
    fc.property(fc.array(op(6000), { minLength: 200, maxLength: 600 }), (ops) => replay(ops, 0)),
    { numRuns: 8 },
  );
});

test("gap searches over deep trees agree with the model, across node boundaries", () => {
  fc.assert(
    fc.property(
      // Mostly small gaps with a few large ones, so the one gap that fits is often alone in its node.
      fc.array(fc.tuple(fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 0, max: 4 }) }, { weight: 1, arbitrary: fc.integer({ min: 10, max: 120 }) }), fc.integer({ min: 1, max: 12 })), { minLength: 300, maxLength: 1500 }),
      fc.array(fc.tuple(fc.nat(30_000), fc.integer({ min: 1, max: 8000 }), fc.integer({ min: 1, max: 80 }), fc.boolean()), { minLength: 20, maxLength: 60 }),
      (layout, queries) => {
        const firsts: number[] = [];
        const lasts: number[] = [];
        let at = 0;
        for (const [gap, len] of layout) {
          at += gap;
          firsts.push(at);
          lasts.push(at + len - 1);
          at += len;
        }
        const tree = new MapleTree();
        tree.bulkLoad(firsts, lasts, firsts.map((_, i) => i));
        const model = new RangeModel();
        model.ranges = firsts.map((f, i) => ({ first: f, last: lasts[i]!, value: i }));
        for (const [lo, len, size, alloc] of queries) {
          const hi = lo + len - 1 + size;
          expect(tree.emptyArea(lo, hi, size)).toBe(model.emptyArea(lo, hi, size));
          expect(tree.emptyAreaRev(lo, hi, size)).toBe(model.emptyAreaRev(lo, hi, size));
          if (alloc) {
            const s = model.emptyAreaRev(lo, hi, size);
            if (s >= 0) model.store(s, s + size - 1, -1);
            expect(tree.allocRangeRev(lo, hi, size, -1)).toBe(s);
          }
        }
        tree.check();
      },
    ),
    { numRuns: 40 },
  );
});

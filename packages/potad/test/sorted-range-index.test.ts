import { MetadataArena, MmkitError } from "@mmkit/physmem";
import { SortedRangeIndex } from "@mmkit/potad";
import fc from "fast-check";
import { expect, test } from "vitest";

test("store, load, erase", () => {
  const arena = new MetadataArena();
  const index = new SortedRangeIndex({ arena });
  expect(arena.bytes).toBe(0);
  index.store(1024, 2047, 9);
  index.store(0, 511, 7);
  index.store(2 ** 50, 2 ** 50 + 4095, 3);
  expect(arena.byLabel()).toEqual({ "potad descriptor index": 16 * 24 });
  expect(index.entries()).toEqual([[0, 511, 7], [1024, 2047, 9], [2 ** 50, 2 ** 50 + 4095, 3]]);
  expect([index.load(0), index.load(511), index.load(512), index.load(1500), index.load(2 ** 50 + 4095), index.load(2 ** 50 + 4096)]).toEqual([7, 7, undefined, 9, 3, undefined]);
  expect(index.erase(1500)).toBe(9);
  expect(index.erase(1500)).toBeUndefined();
  expect(index.size).toBe(2);
  index.check();
});

test("overlaps and bad bounds throw and change nothing", () => {
  const index = new SortedRangeIndex();
  index.store(100, 199, 1);
  const cases: Array<[() => void, string, RegExp]> = [
    [() => index.store(150, 300, 2), "ERR_OCCUPIED", /range \[150, 300\] overlaps the stored range \[100, 199\]/],
    [() => index.store(0, 100, 2), "ERR_OCCUPIED", /range \[0, 100\] overlaps/],
    [() => index.store(50, 40, 2), "ERR_OUT_OF_RANGE", /last must be in \[50, .*got 40/],
    [() => index.store(-1, 40, 2), "ERR_OUT_OF_RANGE", /first .*got -1/],
    [() => index.store(300, 400, Number.NaN), "ERR_INVALID_ARGUMENT", /value must be a finite number, got NaN/],
  ];
  for (const [fn, code, message] of cases) {
    expect(fn).toThrow(MmkitError);
    try {
      fn();
    } catch (error) {
      expect((error as MmkitError).code).toBe(code);
      expect((error as MmkitError).message).toMatch(message);
    }
    expect(index.entries()).toEqual([[100, 199, 1]]);
  }
});

test("agrees with a Map model under random stores and erases", () => {
  fc.assert(
    fc.property(fc.array(fc.record({ at: fc.nat(63), length: fc.integer({ min: 1, max: 4 }), erase: fc.boolean() }), { maxLength: 100 }), (ops) => {
      const index = new SortedRangeIndex();
      const owner = new Int32Array(80).fill(-1);
      ops.forEach((op, i) => {
        if (op.erase) {
          const value = owner[op.at]!;
          expect(index.erase(op.at)).toBe(value < 0 ? undefined : value);
          if (value >= 0) for (let k = 0; k < 80; k++) if (owner[k] === value) owner[k] = -1;
        } else {
          const free = owner.subarray(op.at, op.at + op.length).every((v) => v < 0);
          if (free) {
            index.store(op.at, op.at + op.length - 1, i);
            owner.fill(i, op.at, op.at + op.length);
          } else {
            expect(() => index.store(op.at, op.at + op.length - 1, i)).toThrow(/overlaps/);
          }
        }
        index.check();
        for (let k = 0; k < 80; k++) expect(index.load(k)).toBe(owner[k]! < 0 ? undefined : owner[k]);
      });
    }),
    { numRuns: 100 },
  );
});

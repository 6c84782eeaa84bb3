import { describe, expect, test } from "vitest";
import { ErrorCode, MmkitError } from "@mmkit/physmem";
import { MAX_INDEX, MapleTree, type MapleEntry } from "@mmkit/memdesc-lookup";

function expectError(fn: () => unknown, code: string, names: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(MmkitError);
  expect((caught as MmkitError).code).toBe(code);
  expect((caught as MmkitError).message).toContain(names);
}

const state = (t: MapleTree): { entries: MapleEntry[]; size: number; nodes: unknown; bytes: number } => ({
  entries: [...t.entries()],
  size: t.size,
  nodes: t.nodeCount,
  bytes: t.metadataBytes,
});

describe("misuse is a typed error naming the value, and changes nothing", () => {
  const tree = new MapleTree();
  for (let i = 0; i < 200; i++) tree.store(i * 3, i * 3 + 1, i);
  const before = state(tree);

  const cases: Array<[string, () => unknown, string, string]> = [
    ["first > last", () => tree.store(10, 9, 1), ErrorCode.InvalidArgument, "first 10 must not exceed last 9"],
    ["negative first", () => tree.store(-1, 9, 1), ErrorCode.OutOfRange, "-1"],
    ["fractional last", () => tree.store(1, 2.5, 1), ErrorCode.InvalidArgument, "2.5"],
    ["NaN index", () => tree.insert(NaN, 2, 1), ErrorCode.InvalidArgument, "NaN"],
    ["index above 2^53 - 1", () => tree.store(0, 2 ** 53, 1), ErrorCode.OutOfRange, String(2 ** 53)],
    ["string index", () => tree.store("3" as unknown as number, 4, 1), ErrorCode.InvalidArgument, '"3"'],
    ["NaN value", () => tree.store(0, 1, NaN), ErrorCode.InvalidArgument, "NaN"],
    ["infinite value", () => tree.insert(900, 901, Infinity), ErrorCode.InvalidArgument, "Infinity"],
    ["non-number value", () => tree.store(0, 1, "x" as unknown as number), ErrorCode.InvalidArgument, '"x"'],
    ["erase at -0.5", () => tree.erase(-0.5), ErrorCode.InvalidArgument, "-0.5"],
    ["load at 1.5", () => tree.load(1.5), ErrorCode.InvalidArgument, "1.5"],
    ["load above the top", () => tree.load(MAX_INDEX + 1), ErrorCode.OutOfRange, String(MAX_INDEX + 1)],
    ["loadRange of a negative", () => tree.loadRange(-3), ErrorCode.OutOfRange, "-3"],
    ["find with a bad max", () => tree.find(0, 0.5), ErrorCode.InvalidArgument, "0.5"],
    ["findPrev with a bad min", () => tree.findPrev(5, -2), ErrorCode.OutOfRange, "-2"],
    ["size 0", () => tree.emptyArea(0, 100, 0), ErrorCode.OutOfRange, "size must be at least 1, got 0"],
    ["fractional size", () => tree.emptyAreaRev(0, 100, 1.5), ErrorCode.InvalidArgument, "1.5"],
    ["window smaller than size", () => tree.allocRange(10, 19, 11, 1), ErrorCode.OutOfRange, "size 11 does not fit the window [10, 19]"],
    ["min > max", () => tree.allocRangeRev(20, 10, 1, 1), ErrorCode.InvalidArgument, "min 20 must not exceed max 10"],
    ["alloc with a NaN value", () => tree.allocRange(0, 10_000, 1, NaN), ErrorCode.InvalidArgument, "NaN"],
    ["eraseRange backwards", () => tree.eraseRange(5, 4), ErrorCode.InvalidArgument, "first 5 must not exceed last 4"],
    ["bulkLoad into a full tree", () => tree.bulkLoad([0], [0], [0]), ErrorCode.InvalidState, "200 ranges"],
    ["cursor from a fraction", () => tree.cursor(0.25), ErrorCode.InvalidArgument, "0.25"],
  ];
  for (const [name, fn, code, text] of cases) {
    test(name, () => {
      expectError(fn, code, text);
      expect(state(tree)).toEqual(before);
      tree.check();
    });
  }
});

describe("bulkLoad validates all its input before building", () => {
  const bad: Array<[string, number[], number[], number[], string, string]> = [
    ["unsorted", [10, 0], [12, 5], [1, 2], ErrorCode.Overlap, "range 1 [0, 5]"],
    ["overlapping", [0, 5], [5, 9], [1, 2], ErrorCode.Overlap, "range 1 [5, 9]"],
    ["first > last", [0, 9], [1, 8], [1, 2], ErrorCode.InvalidArgument, "firsts[1] 9 exceeds lasts[1] 8"],
    ["a bad value", [0, 9], [1, 10], [1, Infinity], ErrorCode.InvalidArgument, "Infinity"],
    ["columns of different lengths", [0, 9], [1], [1, 2], ErrorCode.InvalidArgument, "one length"],
  ];
  for (const [name, f, l, v, code, text] of bad) {
    test(name, () => {
      const t = new MapleTree();
      const before = state(t);
      expectError(() => t.bulkLoad(f, l, v), code, text);
      expect(state(t)).toEqual(before);
      t.check();
    });
  }

  test("with a live snapshot", () => {
    const t = new MapleTree();
    const s = t.snapshot();
    expectError(() => t.bulkLoad([0], [0], [0]), ErrorCode.InvalidState, "snapshot");
    s.release();
    t.bulkLoad([0], [0], [0]);
    expect(t.load(0)).toBe(0);
  });

  test("bad options", () => {
    expectError(() => new MapleTree(null as unknown as object), ErrorCode.InvalidArgument, "null");
  });
});

import { describe, expect, test } from "vitest";
import { MetadataArena, ProbingArena } from "@mmkit/physmem";
import { MAX_INDEX, MapleTree, type MapleEntry } from "@mmkit/memdesc-lookup";
import { setWriteFastPaths } from "../src/maple-tree.ts";

const all = (t: MapleTree): MapleEntry[] => [...t.entries()];

describe("sequential and reverse-sequential inserts", () => {
  test("1000 ranges inserted in order: every load, every boundary, exact shape", () => {
    const t = new MapleTree();
    for (let i = 0; i < 1000; i++) {
      expect(t.insert(i * 10, i * 10 + 4, i)).toBe(true);
      t.check();
    }
    expect(t.size).toBe(1000);
    for (let i = 0; i < 1000; i++) {
      expect(t.load(i * 10)).toBe(i);
      expect(t.load(i * 10 + 4)).toBe(i);
      expect(t.load(i * 10 + 5)).toBeUndefined();
      expect(t.loadRange(i * 10 + 2)).toEqual({ first: i * 10, last: i * 10 + 4, value: i });
    }
    expect(t.load(MAX_INDEX)).toBeUndefined();
    // 2000 entries (ranges and the gaps between them) plus the tail gap: pushing into the left
    // sibling before a split keeps ascending inserts in full leaves, ceil(2001 / 16) = 126 at best.
    expect(t.height).toBe(2);
    expect(t.nodeCount).toEqual({ leaves: 125, inner: 9 });
  });

  test("reverse order gives the same map", () => {
    const t = new MapleTree();
    for (let i = 999; i >= 0; i--) {
      t.store(i * 10, i * 10 + 4, i);
      if (i % 50 === 0) t.check();
    }
    t.check();
    const f = new MapleTree();
    for (let i = 0; i < 1000; i++) f.store(i * 10, i * 10 + 4, i);
    expect(all(t)).toEqual(all(f));
  });

  test("touching ranges with one value stay separate", () => {
    const t = new MapleTree();
    for (let i = 0; i < 100; i++) t.store(i, i, 7);
    t.check();
    expect(t.size).toBe(100);
    expect(t.loadRange(50)).toEqual({ first: 50, last: 50, value: 7 });
  });

  test("single-index entries at every index 0..4095", () => {
    const t = new MapleTree();
    for (let i = 0; i < 4096; i++) t.store(i, i, i * 2);
    t.check();
    for (let i = 0; i < 4096; i++) expect(t.load(i)).toBe(i * 2);
    expect(t.find(4096)).toBeUndefined();
    expect(t.height).toBe(3);
  });
});

describe("bounds", () => {
  test("ranges at every power of two up to 2^52, and the top index", () => {
    const t = new MapleTree();
    for (let k = 0; k < 53; k++) t.store(2 ** k, 2 ** k, k);
    t.store(MAX_INDEX, MAX_INDEX, 99);
    t.check();
    for (let k = 0; k < 53; k++) {
      expect(t.load(2 ** k)).toBe(k);
      if (k > 1) {
        expect(t.load(2 ** k - 1)).toBeUndefined();
        expect(t.load(2 ** k + 1)).toBeUndefined();
      }
    }
    expect(t.load(MAX_INDEX)).toBe(99);
    expect(t.load(MAX_INDEX - 1)).toBeUndefined();
    expect(t.load(0)).toBeUndefined();
    expect(t.size).toBe(54);
  });

  test("ranges [2^k, 2^(k+1) - 1] tile the space; the whole space as one range", () => {
    const t = new MapleTree();
    for (let k = 0; k < 53; k++) t.store(2 ** k, 2 ** (k + 1) - 1, k);
    t.check();
    expect(t.load(0)).toBeUndefined();
    for (let k = 0; k < 53; k++) expect(t.loadRange(2 ** k + Math.floor(2 ** k / 3))).toEqual({ first: 2 ** k, last: 2 ** (k + 1) - 1, value: k });
    t.store(0, MAX_INDEX, -1);
    t.check();
    expect(all(t)).toEqual([{ first: 0, last: MAX_INDEX, value: -1 }]);
    expect(t.height).toBe(0);
    expect(t.erase(123)).toBe(-1);
    expect(t.size).toBe(0);
    t.check();
  });
});

describe("overwrites", () => {
  const filled = (): MapleTree => {
    const t = new MapleTree();
    for (let i = 0; i < 400; i++) t.store(i * 10, i * 10 + 9, i);
    return t;
  };

  test("splitting a range keeps both ends", () => {
    const t = filled();
    t.store(1003, 1005, -5);
    t.check();
    expect(all(t).slice(99, 104)).toEqual([
      { first: 990, last: 999, value: 99 },
      { first: 1000, last: 1002, value: 100 },
      { first: 1003, last: 1005, value: -5 },
      { first: 1006, last: 1009, value: 100 },
      { first: 1010, last: 1019, value: 101 },
    ]);
    expect(t.size).toBe(402);
  });

  test("a store covering several nodes' worth of ranges", () => {
    const t = filled();
    const before = t.nodeCount.leaves;
    t.store(5, 3994, 1);
    t.check();
    expect(all(t)).toEqual([
      { first: 0, last: 4, value: 0 },
      { first: 5, last: 3994, value: 1 },
      { first: 3995, last: 3999, value: 399 },
    ]);
    expect(t.nodeCount.leaves).toBeLessThan(before);
    expect(t.height).toBe(0);
  });

  test("a store that covers a node's end and the start of the next, at every boundary", () => {
    // Every cut point in turn, so every leaf boundary (and inner boundary) is crossed at least once.
    for (let cut = 1; cut < 400; cut++) {
      const u = filled();
      u.store(cut * 10 - 3, cut * 10 + 12, -1);
      u.check();
      expect(u.loadRange(cut * 10)).toEqual({ first: cut * 10 - 3, last: cut * 10 + 12, value: -1 });
      expect(u.loadRange(cut * 10 - 4)).toEqual({ first: cut * 10 - 10, last: cut * 10 - 4, value: cut - 1 });
      if (cut < 399) expect(u.loadRange(cut * 10 + 13)).toEqual({ first: cut * 10 + 13, last: cut * 10 + 19, value: cut + 1 });
      expect(u.size).toBe(400);
    }
  });

  test("erasing every other range, then the rest, shrinks back to one leaf", () => {
    const t = filled();
    for (let i = 0; i < 400; i += 2) expect(t.erase(i * 10 + 5)).toBe(i);
    t.check();
    expect(t.size).toBe(200);
    for (let i = 1; i < 400; i += 2) expect(t.erase(i * 10)).toBe(i);
    t.check();
    expect(t.size).toBe(0);
    expect(t.height).toBe(0);
    expect(t.nodeCount).toEqual({ leaves: 1, inner: 0 });
    expect(t.erase(5)).toBeUndefined();
  });

  test("eraseRange cuts what sticks out", () => {
    const t = filled();
    expect(t.eraseRange(15, 34)).toBe(3);
    t.check();
    expect(all(t).slice(0, 3)).toEqual([
      { first: 0, last: 9, value: 0 },
      { first: 10, last: 14, value: 1 },
      { first: 35, last: 39, value: 3 },
    ]);
  });
});

describe("find and reverse find", () => {
  const t = new MapleTree();
  t.store(100, 199, 1);
  t.store(300, 300, 2);
  t.store(301, 400, 3);

  test("find with limits", () => {
    expect(t.find(0)).toEqual({ first: 100, last: 199, value: 1 });
    expect(t.find(0, 99)).toBeUndefined();
    expect(t.find(0, 100)).toEqual({ first: 100, last: 199, value: 1 });
    expect(t.find(150, 150)).toEqual({ first: 100, last: 199, value: 1 });
    expect(t.find(200, 299)).toBeUndefined();
    expect(t.find(200)).toEqual({ first: 300, last: 300, value: 2 });
    expect(t.find(301)).toEqual({ first: 301, last: 400, value: 3 });
    expect(t.find(401)).toBeUndefined();
    expect(t.find(50, 10)).toBeUndefined();
  });

  test("findPrev with limits", () => {
    expect(t.findPrev(MAX_INDEX)).toEqual({ first: 301, last: 400, value: 3 });
    expect(t.findPrev(1000, 401)).toBeUndefined();
    expect(t.findPrev(1000, 400)).toEqual({ first: 301, last: 400, value: 3 });
    expect(t.findPrev(299)).toEqual({ first: 100, last: 199, value: 1 });
    expect(t.findPrev(99)).toBeUndefined();
    expect(t.findPrev(5, 10)).toBeUndefined();
  });

  test("a cursor paused across writes neither skips nor repeats", () => {
    const u = new MapleTree();
    for (let i = 0; i < 100; i++) u.store(i * 4, i * 4 + 1, i);
    const c = u.cursor(0, 399);
    const seen: number[] = [];
    for (let k = 0; k < 50; k++) seen.push(c.next()!.value);
    // Pause: the tree changes under the cursor.
    u.erase(50 * 4); // not seen yet, removed
    u.store(0, 3, -1); // behind the cursor
    u.store(398, 399, 1000); // ahead
    for (const e of c) seen.push(e.value);
    expect(seen).toEqual([...Array.from({ length: 50 }, (_, i) => i), ...Array.from({ length: 49 }, (_, i) => i + 51), 1000]);
    expect(c.next()).toBeUndefined();
    expect(c.index).toBe(400);
  });
});

describe("gap search", () => {
  test("windows, sizes and directions", () => {
    const t = new MapleTree();
    t.store(0, 9, 1);
    t.store(20, 29, 2);
    t.store(35, 99, 3);
    expect(t.emptyArea(0, 1000, 1)).toBe(10);
    expect(t.emptyArea(0, 1000, 10)).toBe(10);
    expect(t.emptyArea(0, 1000, 11)).toBe(100);
    expect(t.emptyArea(12, 1000, 5)).toBe(12);
    expect(t.emptyArea(12, 1000, 9)).toBe(100);
    expect(t.emptyArea(12, 33, 8)).toBe(12);
    expect(t.emptyArea(12, 33, 9)).toBe(-1);
    expect(t.emptyArea(21, 33, 4)).toBe(30);
    expect(t.emptyArea(15, 19, 5)).toBe(15);
    expect(t.emptyAreaRev(0, 1000, 10)).toBe(991);
    expect(t.emptyAreaRev(0, 99, 5)).toBe(30);
    expect(t.emptyAreaRev(0, 99, 6)).toBe(14);
    expect(t.emptyAreaRev(0, 33, 4)).toBe(30);
    expect(t.emptyAreaRev(0, MAX_INDEX, 2 ** 52)).toBe(MAX_INDEX - 2 ** 52 + 1);
    expect(t.emptyArea(0, MAX_INDEX, MAX_INDEX - 99)).toBe(100);
    expect(t.emptyArea(0, MAX_INDEX, MAX_INDEX - 98)).toBe(-1);
  });

  test("filling a space with gap-searched allocations until it is full", () => {
    const t = new MapleTree();
    const sizes = [1, 3, 8, 2, 16, 5];
    let n = 0;
    for (;;) {
      const size = sizes[n % sizes.length]!;
      const at = t.allocRange(1000, 9999, size, n);
      if (at < 0) break;
      n++;
      if (n % 100 === 0) t.check();
    }
    t.check();
    // The sizes repeat with sum 35 over 6 allocations: 257 rounds fill 8995 of the 9000 indices,
    // then 1, 3 fit (9000 - 8995 = 5 -> 4 used) and 8 does not.
    expect(n).toBe(257 * 6 + 2);
    expect(t.emptyArea(1000, 9999, 1)).toBe(9999);
    expect(t.allocRange(1000, 9999, 1, -1)).toBe(9999);
    expect(t.allocRange(1000, 9999, 1, -1)).toBe(-1);
    expect(t.emptyArea(0, MAX_INDEX, 1000)).toBe(0);
    expect(t.emptyAreaRev(0, 9999, 1000)).toBe(0);
    expect(t.allocRangeRev(0, 9999, 1000, 5)).toBe(0);
    expect(t.allocRangeRev(0, 9999, 1, 5)).toBe(-1);
  });

  test("top-down allocation mirrors bottom-up", () => {
    const t = new MapleTree();
    const starts: number[] = [];
    for (let i = 0; i < 64; i++) starts.push(t.allocRangeRev(0, 1023, 16, i));
    expect(starts).toEqual(Array.from({ length: 64 }, (_, i) => 1008 - i * 16));
    expect(t.allocRangeRev(0, 1023, 1, 0)).toBe(-1);
    t.check();
  });
});

describe("bulk load", () => {
  test("equals one-by-one stores, with full nodes", () => {
    const firsts: number[] = [];
    const lasts: number[] = [];
    const values: number[] = [];
    for (let i = 0; i < 5000; i++) {
      firsts.push(i * 8 + (i % 3));
      lasts.push(i * 8 + (i % 3) + (i % 5));
      values.push(i * 16);
    }
    const bulk = new MapleTree();
    bulk.bulkLoad(firsts, lasts, values);
    bulk.check();
    const slow = new MapleTree();
    for (let i = 0; i < firsts.length; i++) slow.store(firsts[i]!, lasts[i]!, values[i]!);
    expect(all(bulk)).toEqual(all(slow));
    expect(bulk.size).toBe(5000);
    // Entries: 5000 ranges + the gaps between them + the tail gap.
    const entries = 5000 + [...bulk.entries()].reduce((gaps, e, i, a) => gaps + (i > 0 && a[i - 1]!.last + 1 < e.first ? 1 : 0), 0) + 1 + 0;
    expect(bulk.nodeCount.leaves).toBe(Math.ceil(entries / 16));
    expect(bulk.nodeCount.leaves).toBeLessThanOrEqual(slow.nodeCount.leaves);
    // Still a normal tree afterwards.
    bulk.store(3, 30_000, -1);
    slow.store(3, 30_000, -1);
    bulk.check();
    expect(all(bulk)).toEqual(all(slow));
  });

  test("MapleTree.from", () => {
    const t = MapleTree.from([
      { first: 0, last: 7, value: 1 },
      { first: 8, last: 8, value: 2 },
    ]);
    expect(all(t)).toEqual([
      { first: 0, last: 7, value: 1 },
      { first: 8, last: 8, value: 2 },
    ]);
    t.check();
  });
});

describe("metadata", () => {
  test("counted through the arena by label, and given back by dispose", () => {
    const arena = new MetadataArena();
    const t = new MapleTree({ arena });
    // 4 leaves and 1 inner node of capacity to start with.
    expect(arena.byLabel()).toEqual({
      "maple leaves": 4 * 256, // 16 pivots and 16 values per leaf, in four groups of 4 + 4
      "maple leaf counts": 4,
      "maple leaf epochs": 16,
      "maple leaf stale marks": 4, // lazy gap summaries: a byte per node
      "maple node pivots and children": 256, // children are Float64 beside their pivots
      "maple node gaps": 3 * 128,
      "maple node counts": 1,
      "maple node epochs": 4,
      "maple node stale marks": 1,
    });
    expect(t.metadataBytes).toBe(arena.bytes);
    for (let i = 0; i < 1000; i++) t.store(i * 2, i * 2, i);
    expect(t.metadataBytes).toBe(arena.bytes);
    t.dispose();
    expect(arena.bytes).toBe(0);
    expect(t.load(0)).toBeUndefined();
    expect(() => t.store(0, 0, 1)).toThrow(/disposed/);
  });

  test("cache lines per load: three lines per level read in parallel, a fourth for the last group", () => {
    const arena = new ProbingArena();
    const t = new MapleTree({ arena });
    const n = 16 * 16 * 8;
    t.bulkLoad(
      Array.from({ length: n }, (_, i) => i * 2),
      Array.from({ length: n }, (_, i) => i * 2),
      Array.from({ length: n }, (_, i) => i),
    );
    expect(t.height).toBe(2);
    // Each node is four lines, one per group of four slots (4 pivots, then their 4 values or
    // children). Per level: the pivots of slots 3, 7 and 11 (groups 0-2, three lines), then three
    // pivots and the child or value in the chosen group: no new line unless it is group 3.
    // Seven reads per level: 3 + 3 compares and one child or value.
    const lines = (index: number) => {
      const r = arena.measure(() => t.load(index));
      expect(r.reads).toBe(3 * 7);
      return [r.value, r.lines, r.linesByLabel];
    };
    // 4000 = entry 4000 of 4096: root slot 15 (group 3), inner slot 10, leaf slot 0.
    expect(lines(4000)).toEqual([2000, 10, { "maple node pivots and children": 7, "maple leaves": 3 }]);
    // Index 0: slot 0 everywhere, three lines per level.
    expect(lines(0)).toEqual([0, 9, { "maple node pivots and children": 6, "maple leaves": 3 }]);
    // The top index: slot 15 of every node, four lines per level.
    expect(lines(MAX_INDEX)).toEqual([undefined, 12, { "maple node pivots and children": 8, "maple leaves": 4 }]);
  });
});

test("fits the DescriptorIndex shape POTAD declares (a byte-address range map)", () => {
  interface DescriptorIndex {
    store(first: number, last: number, value: number): void;
    erase(index: number): unknown;
    load(index: number): number | undefined;
  }
  const index: DescriptorIndex = new MapleTree();
  index.store(2 ** 40, 2 ** 40 + 2 ** 21 - 1, 48);
  expect(index.load(2 ** 40 + 12345)).toBe(48);
  expect(index.erase(2 ** 40 + 7)).toBe(48);
  expect(index.load(2 ** 40)).toBeUndefined();
});

test("an underflowing leaf merges only into a node with room left; else it and its sibling share evenly", () => {
  for (const fastPaths of [true, false]) {
    // 16 adjacent one-index ranges and the empty tail: two leaves of 9 and 8 entries.
    const t = new MapleTree();
    setWriteFastPaths(t, fastPaths);
    const idx = Array.from({ length: 16 }, (_, i) => i);
    t.bulkLoad(idx, idx, idx);
    expect(t.nodeCount).toEqual({ leaves: 2, inner: 1 });
    // Erasing 1..4 leaves the first leaf with 6 entries (0, the empty 1..4, 5, 6, 7, 8): legal.
    for (let i = 1; i <= 4; i++) t.erase(i);
    t.check();
    expect(t.nodeCount).toEqual({ leaves: 2, inner: 1 });
    // Erasing 5 leaves 5: 5 + 8 = 13 would make a nearly full leaf, so the two share 6 and 7.
    t.erase(5);
    t.check();
    expect(t.nodeCount).toEqual({ leaves: 2, inner: 1 });
    expect([...t.entries()].map((e) => e.first)).toEqual([0, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    // Two more erases: 5 + 6 = 11 entries merge into one leaf; the inner root with one child goes.
    t.erase(6);
    t.erase(7);
    t.check();
    expect(t.nodeCount).toEqual({ leaves: 1, inner: 0 });
    expect(t.height).toBe(0);
  }
});

import fc from "fast-check";
import { expect, test } from "vitest";
import { MetadataArena } from "@mmkit/physmem";
import { MapleTree, type MapleEntry, type MapleSnapshot } from "@mmkit/memdesc-lookup";
import { setWriteFastPaths } from "../src/maple-tree.ts";
import { seededInts } from "@mmkit/test-support";

// The in-leaf fast paths of store and erase must leave exactly the tree the general write path
// leaves: same entries, same count, same shape (height and node counts), every invariant intact,
// with or without live snapshots (copy-on-write).

type Op = { kind: "store"; first: number; len: number; value: number } | { kind: "erase"; at: number } | { kind: "snapshot" } | { kind: "release" };

const all = (v: { entries(): Iterable<MapleEntry> }): MapleEntry[] => [...v.entries()];

function shape(t: MapleTree) {
  return { entries: all(t), size: t.size, height: t.height, nodes: t.nodeCount, gap: t.emptyArea(0, 1 << 20, 7), gapRev: t.emptyAreaRev(0, 1 << 20, 5) };
}

/** Replays `ops` on a tree with the fast paths and one without, comparing after every step. */
function replay(ops: Op[], space: number, seedRanges: number): void {
  const fast = new MapleTree();
  const slow = new MapleTree();
  setWriteFastPaths(slow, false);
  for (let i = 0; i < seedRanges; i++) {
    const f = (i * 7919) % space;
    fast.store(f, f, i);
    slow.store(f, f, i);
  }
  const snaps: [MapleSnapshot, MapleSnapshot, MapleEntry[]][] = [];
  for (const o of ops) {
    if (o.kind === "store") {
      const last = Math.min(o.first + o.len - 1, space + 64);
      fast.store(o.first, last, o.value);
      slow.store(o.first, last, o.value);
    } else if (o.kind === "erase") {
      expect(fast.erase(o.at)).toBe(slow.erase(o.at));
    } else if (o.kind === "snapshot") {
      if (snaps.length < 3) snaps.push([fast.snapshot(), slow.snapshot(), all(fast)]);
    } else {
      const s = snaps.shift();
      if (s) {
        expect(all(s[0])).toEqual(s[2]);
        expect(all(s[1])).toEqual(s[2]);
        s[0].release();
        s[1].release();
      }
    }
    fast.check();
    slow.check();
    expect(shape(fast)).toEqual(shape(slow));
  }
  for (const [a, b, frozen] of snaps) {
    expect(all(a)).toEqual(frozen);
    expect(all(b)).toEqual(frozen);
    a.release();
    b.release();
  }
  fast.check();
  expect(shape(fast)).toEqual(shape(slow));
  expect(fast.nodeCount).toEqual(slow.nodeCount);
}

const op = (space: number): fc.Arbitrary<Op> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.record({ kind: fc.constant("store" as const), first: fc.nat(space), len: fc.integer({ min: 1, max: 4 }), value: fc.integer({ min: 0, max: 3 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("store" as const), first: fc.nat(space), len: fc.integer({ min: 1, max: 60 }), value: fc.integer({ min: 0, max: 3 }) }) },
    { weight: 8, arbitrary: fc.record({ kind: fc.constant("erase" as const), at: fc.nat(space) }) },
    { weight: 1, arbitrary: fc.constantFrom({ kind: "snapshot" as const }, { kind: "release" as const }) },
  );

test("store and erase fast paths leave the tree the general path leaves (random workloads, snapshots)", () => {
  fc.assert(
    fc.property(fc.array(op(600), { maxLength: 250 }), fc.integer({ min: 0, max: 300 }), (ops, seeded) => replay(ops, 600, seeded)),
    { numRuns: 60, seed: 0x3a91e },
  );
});

test("single-page ranges at random pfns: 2000 erase + store pairs agree step by step", () => {
  const space = 1 << 14;
  const fast = new MapleTree();
  const slow = new MapleTree();
  setWriteFastPaths(slow, false);
  const rnd = seededInts(11);
  const live: number[] = [];
  while (live.length < 400) {
    const p = rnd(space);
    if (fast.load(p) !== undefined) continue;
    fast.store(p, p, p * 16);
    slow.store(p, p, p * 16);
    live.push(p);
  }
  for (let k = 0; k < 2000; k++) {
    const j = rnd(live.length);
    expect(fast.erase(live[j]!)).toBe(live[j]! * 16);
    expect(slow.erase(live[j]!)).toBe(live[j]! * 16);
    let p = rnd(space);
    while (fast.load(p) !== undefined) p = rnd(space);
    fast.store(p, p, p * 16);
    slow.store(p, p, p * 16);
    live[j] = p;
    if (k % 50 === 0) {
      fast.check();
      expect(shape(fast)).toEqual(shape(slow));
    }
  }
  fast.check();
  slow.check();
  expect(fast.size).toBe(400);
  expect(shape(fast)).toEqual(shape(slow));
  expect(fast.height).toBe(slow.height);
});

/** A tree of one-index ranges at `first, first + 2, ...` (`count` of them) with `first * 10` values, bulk-loaded into full leaves. */
function comb(first: number, count: number, arena?: MetadataArena): MapleTree {
  const tree = new MapleTree(arena ? { arena } : {});
  const at = Array.from({ length: count }, (_, i) => first + 2 * i);
  tree.bulkLoad(at, at, at.map((x) => x * 10));
  return tree;
}

test("an erase at a leaf's first entry joins the empty run ending the leaf before, in place", () => {
  // Entries at 0, 2, ..., 78 and the gaps between them are 80 slots: 5 full leaves, leaf 1 from
  // index 16 (an entry) after leaf 0's last slot, the gap [15, 15].
  const arena = new MetadataArena();
  const fast = comb(0, 40, arena);
  const slow = comb(0, 40);
  setWriteFastPaths(slow, false);
  expect(fast.nodeCount).toEqual({ leaves: 5, inner: 1 });
  const bytes = arena.bytes;
  expect(arena.sealWhile(() => fast.erase(16))).toBe(160);
  expect(slow.erase(16)).toBe(160);
  expect(arena.bytes).toBe(bytes);
  fast.check();
  expect(shape(fast)).toEqual(shape(slow));
  expect(fast.nodeCount).toEqual({ leaves: 5, inner: 1 });
  expect(fast.emptyArea(0, 100, 3)).toBe(15); // [15, 17] is one run across the old leaf boundary
  expect(fast.loadRange(14)).toEqual({ first: 14, last: 14, value: 140 });
  expect(fast.loadRange(18)).toEqual({ first: 18, last: 18, value: 180 });
  expect(fast.store(16, 16, 7)).toBeUndefined();
  slow.store(16, 16, 7);
  fast.check();
  expect(shape(fast)).toEqual(shape(slow));
});

test("an erase at a leaf's last entry hands its empty tail to the next leaf's empty run, in place", () => {
  // Entries at 1, 3, ..., 79: leaf 0 ends with the entry 15, leaf 1 starts with the gap [16, 16].
  const arena = new MetadataArena();
  const fast = comb(1, 40, arena);
  const slow = comb(1, 40);
  setWriteFastPaths(slow, false);
  const bytes = arena.bytes;
  expect(arena.sealWhile(() => fast.erase(15))).toBe(150);
  expect(slow.erase(15)).toBe(150);
  expect(arena.bytes).toBe(bytes);
  fast.check();
  expect(shape(fast)).toEqual(shape(slow));
  expect(fast.emptyArea(0, 100, 3)).toBe(14);
  expect(fast.emptyAreaRev(0, 100, 3)).toBe(98); // the top of the window, in the run after 79
  fast.store(14, 16, 5); // the joined run, filled again
  slow.store(14, 16, 5);
  fast.check();
  expect(shape(fast)).toEqual(shape(slow));
});

test("a live snapshot sends a cross-leaf erase to the copying general path, and the snapshot keeps its view", () => {
  const fast = comb(0, 40);
  const before = all(fast);
  const snap = fast.snapshot();
  expect(fast.erase(16)).toBe(160);
  fast.check();
  expect(all(snap)).toEqual(before);
  expect(fast.load(16)).toBeUndefined();
  snap.release();
  fast.check();
});

test("erase then store of the same range (the undo of the erase's summary patches) agrees with the general path", () => {
  const space = 1 << 13;
  const fast = new MapleTree();
  const slow = new MapleTree();
  setWriteFastPaths(slow, false);
  let seed = 5;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return Math.floor(seed / 65536) % n; // the high bits: the low ones of this generator cycle fast
  };
  const live: number[] = [];
  while (live.length < 300) {
    const p = rnd(space);
    const len = 1 + rnd(3);
    if ([...fast.entries(p, p + len - 1)].length > 0) continue;
    fast.store(p, p + len - 1, p);
    slow.store(p, p + len - 1, p);
    live.push(p);
  }
  const snaps: MapleSnapshot[] = [];
  for (let k = 0; k < 1500; k++) {
    const p = live[rnd(live.length)]!;
    const e = fast.loadRange(p)!;
    expect(fast.erase(p)).toBe(p);
    slow.erase(p);
    const between = rnd(8);
    if (between === 0) snaps.push(fast.snapshot(), slow.snapshot()); // the store must not restore into nodes a snapshot sees
    if (between === 1) {
      // another write in between: the store must patch, not restore
      const q = rnd(space);
      if (fast.load(q) === undefined && slow.load(q) === undefined) {
        fast.store(q, q, 1);
        slow.store(q, q, 1);
        fast.erase(q);
        slow.erase(q);
      }
    }
    fast.store(e.first, e.last, p);
    slow.store(e.first, e.last, p);
    if (snaps.length > 4) {
      snaps.shift()!.release();
      snaps.shift()!.release();
    }
    fast.check();
    if (k % 25 === 0) expect(shape(fast)).toEqual(shape(slow));
  }
  for (const s of snaps) s.release();
  fast.check();
  expect(shape(fast)).toEqual(shape(slow));
});

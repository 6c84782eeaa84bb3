import fc from "fast-check";
import { expect, test } from "vitest";
import { MapleTree, type MapleEntry, type MapleSnapshot } from "@mmkit/memdesc-lookup";
import { setWriteFastPaths } from "../src/maple-tree.ts";

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
  let seed = 11;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
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

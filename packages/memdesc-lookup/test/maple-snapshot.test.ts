import fc from "fast-check";
import { expect, test } from "vitest";
import { MetadataArena } from "@mmkit/physmem";
import { MapleTree, type MapleEntry } from "@mmkit/memdesc-lookup";
import { seededInts } from "@mmkit/test-support";

const all = (v: { entries(): Iterable<MapleEntry> }): MapleEntry[] => [...v.entries()];

test("a reader's view never changes while thousands of writes happen", () => {
  const tree = new MapleTree();
  for (let i = 0; i < 3000; i++) tree.store(i * 5, i * 5 + 2, i);
  const snap = tree.snapshot();
  const frozen = all(snap);
  const probes = [0, 7, 500, 1502, 7777, 14_999];
  const frozenLoads = probes.map((p) => snap.load(p));
  const rnd = seededInts(5);
  for (let w = 0; w < 5000; w++) {
    const at = rnd(16_000);
    if (rnd(3) === 0) tree.erase(at);
    else tree.store(at, at + rnd(40), -w);
    if (w % 500 === 0) {
      tree.check();
      expect(probes.map((p) => snap.load(p))).toEqual(frozenLoads);
      expect(snap.emptyArea(0, 20_000, 3)).toBe(14_998);
    }
  }
  tree.check();
  expect(all(snap)).toEqual(frozen);
  expect(snap.size).toBe(3000);
  expect(all(tree)).not.toEqual(frozen);
  // Pinned nodes are given back once the snapshot is released.
  const pinned = tree.nodeCount;
  snap.release();
  tree.check();
  expect(tree.nodeCount.leaves).toBeLessThan(pinned.leaves);
  expect(() => snap.load(0)).toThrow(/released/);
  expect(() => snap.release()).toThrow(/released/);
});

test("writes with no live snapshot copy nothing; with one, they copy the path once", () => {
  const arena = new MetadataArena();
  const tree = new MapleTree({ arena });
  for (let i = 0; i < 1000; i++) tree.store(i * 2, i * 2, i);
  const before = tree.nodeCount;
  tree.store(10, 10, -1);
  expect(tree.nodeCount).toEqual(before);
  const snap = tree.snapshot();
  tree.store(12, 12, -1);
  // One copy per level: the leaf and every inner node above it.
  expect(tree.nodeCount).toEqual({ leaves: before.leaves + 1, inner: before.inner + tree.height });
  tree.store(14, 14, -1); // same path, nodes already private to the writer
  expect(tree.nodeCount).toEqual({ leaves: before.leaves + 1, inner: before.inner + tree.height });
  snap.release();
  expect(tree.nodeCount).toEqual(before);
  tree.check();
});

test("many snapshots, released in any order, each keeps its own view", () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.record({ at: fc.nat(3000), len: fc.integer({ min: 1, max: 30 }), value: fc.integer() }), fc.constant("snap" as const), fc.nat(20)), { maxLength: 200 }),
      (ops) => {
        const tree = new MapleTree();
        const live: Array<{ snap: ReturnType<MapleTree["snapshot"]>; view: MapleEntry[] }> = [];
        for (const o of ops) {
          if (o === "snap") live.push({ snap: tree.snapshot(), view: all(tree) });
          else if (typeof o === "number") {
            if (live.length > 0) {
              const [x] = live.splice(o % live.length, 1);
              expect(all(x!.snap)).toEqual(x!.view);
              x!.snap.release();
            }
          } else tree.store(o.at, o.at + o.len - 1, o.value);
          tree.check();
        }
        for (const x of live) {
          expect(all(x.snap)).toEqual(x.view);
          x.snap.release();
        }
        tree.check();
        expect(tree.liveSnapshots).toBe(0);
      },
    ),
    { numRuns: 40 },
  );
});

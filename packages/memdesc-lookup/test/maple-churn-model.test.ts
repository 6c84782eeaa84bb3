import fc from "fast-check";
import { expect, test } from "vitest";
import { ErrorCode, MetadataArena, MmkitError } from "@mmkit/physmem";
import { MapleTree, type MapleEntry, type MapleSnapshot } from "@mmkit/memdesc-lookup";
import { seededInts } from "@mmkit/test-support";
import { setWriteFastPaths } from "../src/maple-tree.ts";
import { RangeModel } from "./model.ts";

// Erase+store churn where the store lands elsewhere (a page freed here, another taken there), the
// shape of a page allocator's descriptor table. It drives the write paths that keep leaves in
// shape in place: a store into a full leaf shares with a sibling or splits (a new leaf, one more
// parent slot), an erase that underflows a leaf merges it into a sibling or borrows from it, an
// erase next to a leaf under another parent; and the gap summaries those writes leave stale until
// a gap search refreshes them. Checked against a sorted-array model with check() after every
// step, with and without live snapshots (while one is live, writes copy nodes and patch gap
// summaries eagerly).

const all = (v: { entries(): Iterable<MapleEntry> }): MapleEntry[] => [...v.entries()];

interface Step {
  /** Which live range to erase (an index into the model's ranges, modulo their count). */
  erase: number;
  /** Where the store goes: the first free index at or after this one. */
  take: number;
  /** Pages stored from there (may cut into the next range: a store overwrites). */
  len: number;
  /** 0: nothing; 1 / 2: a forward / reverse gap search of `size` in a window, compared with the model. */
  probe: number;
  size: number;
  /** 0: nothing; 1: take a snapshot (at most two live); 2: release the oldest. */
  snap: number;
}

const SPACE = 1 << 12;

const step = (snapshots: boolean): fc.Arbitrary<Step> =>
  fc.record({
    erase: fc.nat(1 << 20),
    take: fc.nat(SPACE - 1),
    len: fc.oneof({ weight: 6, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 5 }) }),
    probe: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(1, 2) }),
    size: fc.integer({ min: 1, max: 6 }),
    snap: snapshots ? fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(1, 2) }) : fc.constant(0),
  });

function churn(seed: number, live: number, steps: Step[]): void {
  const rnd = seededInts(seed);
  const tree = new MapleTree();
  const model = new RangeModel();
  while (model.ranges.length < live) {
    const p = rnd(SPACE);
    if (model.load(p) !== undefined) continue;
    tree.store(p, p, p);
    model.store(p, p, p);
  }
  tree.check();
  const snaps: Array<[MapleSnapshot, MapleEntry[]]> = [];
  for (const s of steps) {
    if (model.ranges.length > 0) {
      const r = model.ranges[s.erase % model.ranges.length]!;
      expect(tree.erase(r.first)).toBe(model.erase(r.first));
      tree.check();
    }
    // Here, not after the store: \`size\` applies a deferred store, and the next erase should find it pending.
    expect(tree.size).toBe(model.ranges.length);
    let p = s.take;
    while (p < SPACE && model.load(p) !== undefined) p++;
    if (p < SPACE) {
      tree.store(p, p + s.len - 1, p + 0.5);
      model.store(p, p + s.len - 1, p + 0.5);
      tree.check();
    }
    if (s.probe !== 0) {
      const lo = s.take >> 1;
      const hi = lo + 300;
      if (s.probe === 1) expect(tree.emptyArea(lo, hi, s.size)).toBe(model.emptyArea(lo, hi, s.size));
      else expect(tree.emptyAreaRev(lo, hi, s.size)).toBe(model.emptyAreaRev(lo, hi, s.size));
      tree.check();
    }
    if (s.snap === 1 && snaps.length < 2) snaps.push([tree.snapshot(), model.ranges.slice()]);
    else if (s.snap === 2 && snaps.length > 0) {
      const [snap, frozen] = snaps.shift()!;
      expect(all(snap)).toEqual(frozen);
      // The snapshot's gap summaries were refreshed when it was taken; writes since did not touch them.
      const then = new RangeModel();
      then.ranges = frozen;
      expect(snap.emptyArea(s.take, SPACE + 8, s.size)).toBe(then.emptyArea(s.take, SPACE + 8, s.size));
      expect(snap.emptyAreaRev(0, s.take + 8, s.size)).toBe(then.emptyAreaRev(0, s.take + 8, s.size));
      snap.release();
      tree.check();
    }
  }
  for (const [snap, frozen] of snaps) {
    expect(all(snap)).toEqual(frozen);
    snap.release();
  }
  tree.check();
  expect(all(tree)).toEqual(model.ranges);
  expect(tree.emptyArea(0, SPACE + 10, 3)).toBe(model.emptyArea(0, SPACE + 10, 3));
  expect(tree.emptyAreaRev(0, SPACE + 10, 2)).toBe(model.emptyAreaRev(0, SPACE + 10, 2));
}

test("erase+store-elsewhere churn agrees with the model, check() after every step (no snapshot)", () => {
  fc.assert(
    fc.property(fc.nat(1000), fc.integer({ min: 40, max: 700 }), fc.array(step(false), { minLength: 50, maxLength: 300 }), (seed, live, steps) => churn(seed, live, steps)),
    { numRuns: 30, seed: 0x51ab },
  );
});

test("erase+store-elsewhere churn agrees with the model with snapshots taken and released", () => {
  fc.assert(
    fc.property(fc.nat(1000), fc.integer({ min: 40, max: 700 }), fc.array(step(true), { minLength: 50, maxLength: 300 }), (seed, live, steps) => churn(seed, live, steps)),
    { numRuns: 30, seed: 0x51ac },
  );
});

/** `count` one-index ranges at 0, 4, 8, ... (gaps of three between them), bulk-loaded into leaves as full as they go. */
function spaced(count: number, arena?: MetadataArena): MapleTree {
  const tree = new MapleTree(arena ? { arena } : {});
  const at = Array.from({ length: count }, (_, i) => 4 * i);
  tree.bulkLoad(at, at, at);
  return tree;
}

const shape = (t: MapleTree) => ({ entries: all(t), height: t.height, nodes: t.nodeCount, gap: t.emptyArea(0, 1000, 3), gapRev: t.emptyAreaRev(0, 1000, 2) });

test("a store into a full leaf whose siblings are full splits it in place: one leaf more, the parent one slot more", () => {
  // 32 ranges and the 31 gaps between them plus the tail gap: 64 entries, 4 full leaves.
  const fast = spaced(32);
  const slow = spaced(32);
  setWriteFastPaths(slow, false);
  expect(fast.nodeCount).toEqual({ leaves: 4, inner: 1 });
  // Index 18 is in the gap [17, 19] of leaf 1: the store adds two entries to its 16.
  fast.store(18, 18, 7);
  slow.store(18, 18, 7);
  fast.check();
  expect(fast.nodeCount).toEqual({ leaves: 5, inner: 1 });
  expect(fast.loadRange(17)).toEqual(undefined);
  expect(fast.loadRange(18)).toEqual({ first: 18, last: 18, value: 7 });
  expect(shape(fast)).toEqual(shape(slow));
  // The gap summaries the split left stale are refreshed by the search: [17, 17] and [19, 19]
  // are single indices now, and the first run of three is [1, 3].
  expect(fast.emptyArea(13, 40, 2)).toBe(13);
  expect(fast.emptyArea(17, 20, 1)).toBe(17);
  expect(fast.emptyArea(18, 19, 1)).toBe(19);
  fast.check();
});

test("an erase that takes a leaf below six entries borrows from its sibling or merges into it, in place, as the general path does", () => {
  // 64 ranges, 63 gaps and the tail gap: 8 full leaves under the root. Erasing the ranges from
  // the left grows one empty run: the leaves it eats underflow, borrow from their right
  // neighbour while it can spare entries, and merge once the two fit in 12.
  const fast = spaced(64);
  const slow = spaced(64);
  setWriteFastPaths(slow, false);
  expect(fast.nodeCount).toEqual({ leaves: 8, inner: 1 });
  const model = new RangeModel();
  for (const e of all(fast)) model.store(e.first, e.last, e.value);
  const leaves: number[] = [];
  for (let i = 0; i < 40; i++) {
    expect(fast.erase(4 * i)).toBe(4 * i);
    slow.erase(4 * i);
    model.erase(4 * i);
    fast.check();
    expect(shape(fast)).toEqual(shape(slow));
    expect(all(fast)).toEqual(model.ranges);
    leaves.push(fast.nodeCount.leaves);
  }
  // Every 8 erases (16 entries) one leaf fewer.
  expect(leaves.join(" ")).toBe("8 8 8 8 8 8 8 8 8 8 7 7 7 7 7 7 7 7 6 6 6 6 6 6 6 6 5 5 5 5 5 5 5 5 4 4 4 4 4 4");
  // [0, 159] is one run; the next runs are three long up to the range at 252.
  expect(fast.emptyArea(0, 252, 160)).toBe(0);
  expect(fast.emptyArea(0, 252, 161)).toBe(-1);
  expect(fast.emptyAreaRev(0, 252, 4)).toBe(156);
});

test("an erase next to a leaf under another parent stays in place when that neighbour is occupied", () => {
  // 600 ranges in 75 full leaves under several parents; erase the first range of each leaf
  // (its left neighbour is the previous leaf's last entry, a range in another leaf) and compare.
  const arena = new MetadataArena();
  const fast = spaced(600, arena);
  const slow = spaced(600);
  setWriteFastPaths(slow, false);
  expect(fast.height).toBe(2);
  for (const e of all(fast).filter((_, i) => i % 7 === 3)) {
    fast.erase(e.first);
    slow.erase(e.first);
  }
  fast.check();
  expect(shape(fast)).toEqual(shape(slow));
  expect(fast.size).toBe(slow.size);
});

test("check() refuses a clean node above a dirty one (the lazy summaries' invariant)", () => {
  const tree = spaced(600);
  tree.store(1, 1, 5); // deferred; the lookup applies it: marks the leaf holding 1 and every node above it dirty
  expect(tree.load(1)).toBe(5);
  tree.check();
  const nodes = (tree as unknown as { nodes: { idirty: Uint8Array; inode: Float64Array } }).nodes;
  const root = (tree as unknown as { root: number }).root;
  // The root's first child is the inner node above that leaf (the tree is two levels high).
  const child = nodes.inode[root * 32 + 4]!;
  expect(nodes.idirty[child]).toBe(1);
  nodes.idirty[child] = 0;
  let refused: unknown;
  try {
    tree.check();
  } catch (e) {
    refused = e;
  }
  expect(refused).toBeInstanceOf(MmkitError);
  expect((refused as MmkitError).code).toBe(ErrorCode.Invariant);
  expect((refused as Error).message).toMatch(/has dirty children but is clean itself/);
  nodes.idirty[child] = 1;
  tree.check();
  expect(tree.emptyArea(0, 10, 2)).toBe(2);
});

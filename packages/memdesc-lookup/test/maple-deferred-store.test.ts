import fc from "fast-check";
import { expect, test } from "vitest";
import { ErrorCode, MetadataArena, MmkitError } from "@mmkit/physmem";
import { MapleTree, type MapleEntry, type MapleSnapshot } from "@mmkit/memdesc-lookup";
import { setWriteFastPaths } from "../src/maple-tree.ts";
import { RangeModel } from "./model.ts";

// With no live snapshot, `store` only records its range and value; the next erase descends for
// both at once, puts the store in and erases on the other path. Every other call applies the
// store first. Random erase/store sequences (any ranges: stores that cut or cover others, erases
// of empty indices, of the range just stored) against the model, with check() after every step
// (check() leaves a deferred store pending, so the next erase takes the paired descent), reads
// of every kind between them, and snapshots taken and released.

const all = (v: { entries(): Iterable<MapleEntry> }): MapleEntry[] => [...v.entries()];
const SPACE = 1 << 11;

interface Op {
  kind: "store" | "erase" | "read" | "snap";
  at: number;
  len: number;
  read: number;
}

const op = (snapshots: boolean): fc.Arbitrary<Op> =>
  fc.record({
    kind: fc.oneof(
      { weight: 6, arbitrary: fc.constant("store" as const) },
      { weight: 6, arbitrary: fc.constant("erase" as const) },
      { weight: 2, arbitrary: fc.constant("read" as const) },
      { weight: snapshots ? 1 : 0, arbitrary: fc.constant("snap" as const) },
    ),
    at: fc.nat(SPACE - 1),
    len: fc.oneof({ weight: 5, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 40 }) }),
    read: fc.nat(8),
  });

function run(seedLive: number, ops: Op[]): void {
  const tree = new MapleTree();
  const model = new RangeModel();
  for (let i = 0; i < seedLive; i++) {
    const p = (i * 7919) % SPACE;
    tree.store(p, p, i);
    model.store(p, p, i);
  }
  tree.check();
  let lastStored = 0;
  const snaps: Array<[MapleSnapshot, MapleEntry[]]> = [];
  for (const o of ops) {
    if (o.kind === "store") {
      const last = Math.min(SPACE + 64, o.at + o.len - 1);
      tree.store(o.at, last, o.at + 0.25);
      model.store(o.at, last, o.at + 0.25);
      lastStored = o.at;
    } else if (o.kind === "erase") {
      // Half the time the range just stored (it may still be deferred), else any index.
      const index = o.read % 2 === 0 ? lastStored : o.at;
      expect(tree.erase(index)).toBe(model.erase(index));
    } else if (o.kind === "read") {
      const i = o.at;
      switch (o.read) {
        case 0:
          expect(tree.load(i)).toBe(model.load(i));
          break;
        case 1: {
          const idx = [i, lastStored, (i * 3) % SPACE, SPACE + 100];
          const out = tree.loadMany(idx, new Float64Array(4));
          expect([...out]).toEqual(idx.map((x) => model.load(x) ?? NaN));
          break;
        }
        case 2:
          expect(tree.loadRange(lastStored)).toEqual(model.loadRange(lastStored));
          break;
        case 3:
          expect(tree.find(i, i + 50)).toEqual(model.find(i, i + 50));
          break;
        case 4:
          expect(tree.findPrev(i, Math.max(0, i - 50))).toEqual(model.findPrev(i, Math.max(0, i - 50)));
          break;
        case 5:
          expect(tree.size).toBe(model.ranges.length);
          break;
        case 6:
          expect(tree.emptyArea(i >> 1, i + 200, 3)).toBe(model.emptyArea(i >> 1, i + 200, 3));
          break;
        case 7:
          expect(tree.insert(i, i, 9)).toBe(model.insert(i, i, 9));
          break;
        default:
          expect(all(tree).slice(0, 20)).toEqual(model.ranges.slice(0, 20));
      }
    } else if (snaps.length < 2 && o.read % 2 === 0) {
      snaps.push([tree.snapshot(), model.ranges.slice()]);
    } else if (snaps.length > 0) {
      const [snap, frozen] = snaps.shift()!;
      expect(all(snap)).toEqual(frozen);
      snap.release();
    }
    tree.check();
  }
  for (const [snap, frozen] of snaps) {
    expect(all(snap)).toEqual(frozen);
    snap.release();
  }
  expect(all(tree)).toEqual(model.ranges);
  expect(tree.size).toBe(model.ranges.length);
  expect(tree.emptyArea(0, SPACE + 100, 2)).toBe(model.emptyArea(0, SPACE + 100, 2));
  tree.check();
}

test("deferred stores: random erase/store/read sequences agree with the model, check() after every step (no snapshot)", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 600 }), fc.array(op(false), { minLength: 20, maxLength: 300 }), (live, ops) => run(live, ops)),
    { numRuns: 40, seed: 0x5702 },
  );
});

test("deferred stores: the same with snapshots taken and released (no store is deferred while one is live)", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 600 }), fc.array(op(true), { minLength: 20, maxLength: 300 }), (live, ops) => run(live, ops)),
    { numRuns: 30, seed: 0x5703 },
  );
});

test("a store and an erase elsewhere leave the same tree as with the fast paths off (the paired descent)", () => {
  const fast = new MapleTree();
  const slow = new MapleTree();
  setWriteFastPaths(slow, false);
  for (let i = 0; i < 800; i++) {
    fast.store(5 * i, 5 * i + 1, i);
    slow.store(5 * i, 5 * i + 1, i);
  }
  for (let i = 0; i < 400; i++) {
    const take = (i * 1237) % 4000;
    const free = ((i * 3571) % 800) * 5;
    for (const t of [fast, slow]) {
      t.store(take, take, -i);
      t.erase(free);
    }
    fast.check();
  }
  expect(all(fast)).toEqual(all(slow));
  expect(fast.height).toBe(slow.height);
  expect(fast.nodeCount).toEqual(slow.nodeCount);
});

test("a refused call leaves a deferred store pending and the tree as it was; the store takes nothing from the arena until applied", () => {
  const arena = new MetadataArena();
  const tree = new MapleTree({ arena });
  for (let i = 0; i < 300; i++) tree.store(4 * i, 4 * i, i);
  const bytes = arena.bytes;
  tree.store(1, 2, 77);
  expect(arena.bytes).toBe(bytes);
  const refuse = (f: () => unknown, code: string): void => {
    let caught: unknown;
    try {
      f();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(MmkitError);
    expect((caught as MmkitError).code).toBe(code);
  };
  refuse(() => tree.erase(-1), ErrorCode.OutOfRange);
  refuse(() => tree.load(0.5), ErrorCode.InvalidArgument);
  refuse(() => tree.loadMany([1, -3], new Float64Array(2)), ErrorCode.OutOfRange);
  refuse(() => tree.loadRange(1, 5 as never), ErrorCode.InvalidArgument);
  refuse(() => tree.find(1.5), ErrorCode.InvalidArgument);
  tree.check();
  // Still pending: the erase of index 2 finds it (one paired descent) and removes the whole [1, 2].
  expect(tree.erase(2)).toBe(77);
  expect(tree.load(1)).toBe(undefined);
  expect(tree.size).toBe(300);
  tree.check();
});

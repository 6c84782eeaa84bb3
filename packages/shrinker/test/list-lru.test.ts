import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { ErrorCode, MetadataArena, ProbingArena } from "@mmkit/physmem";
import { ListLru, LruWalk, ShrinkerRegistry, type LruWalkResult, type ShrinkControl } from "@mmkit/shrinker";
import { expectMmkitError } from "./helpers.js";

function lists<T>(lru: ListLru<T>): T[][] {
  return Array.from({ length: lru.nodes }, (_, nid) => lru.items(nid));
}

describe("ListLru basics", () => {
  test("add, del, rotate, count, nodeOf, items", () => {
    const lru = new ListLru<number>({ nodes: 2 });
    expect(lru.add(10, 0)).toBe(true);
    expect(lru.add(11, 0)).toBe(true);
    expect(lru.add(20, 1)).toBe(true);
    expect(lru.add(12, 0)).toBe(true);
    expect(lru.add(11, 1)).toBe(false); // on a list already: nothing changes
    expect(lists(lru)).toEqual([[10, 11, 12], [20]]);
    expect([lru.count(0), lru.count(1), lru.size]).toEqual([3, 1, 4]);
    expect([lru.nodeOf(11), lru.nodeOf(20), lru.nodeOf(99)]).toEqual([0, 1, -1]);
    expect(lru.rotate(10)).toBe(true);
    expect(lru.rotate(99)).toBe(false);
    expect(lists(lru)).toEqual([[11, 12, 10], [20]]);
    expect(lru.del(12)).toBe(true);
    expect(lru.del(12)).toBe(false);
    expect(lists(lru)).toEqual([[11, 10], [20]]);
    expect(lru.has(12)).toBe(false);
    lru.add(12, 1);
    expect(lists(lru)).toEqual([[11, 10], [20, 12]]);
    lru.check();
  });

  test("objects are items by identity", () => {
    const lru = new ListLru<{ id: number }>();
    const a = { id: 1 };
    expect(lru.add(a, 0)).toBe(true);
    expect(lru.add({ id: 1 }, 0)).toBe(true);
    expect(lru.add(a, 0)).toBe(false);
    expect(lru.size).toBe(2);
    lru.check();
  });

  test("heavy churn in map mode: dead map entries are swept and the list stays consistent", () => {
    const lru = new ListLru<number>();
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 3000; i++) lru.add(round * 10_000 + i, 0);
      lru.check();
      expect(lru.walk(0, (x) => (x % 2 === 0 ? LruWalk.Removed : LruWalk.Skip))).toBe(1500);
      lru.check();
      for (let i = 1; i < 3000; i += 2) expect(lru.del(round * 10_000 + i)).toBe(true);
      lru.check();
      expect(lru.size).toBe(0);
    }
    expect(lru.add(1, 0)).toBe(true);
    expect(lru.has(2)).toBe(false);
    lru.check();
  });

  test("metadata comes from the arena and grows by doubling", () => {
    const arena = new MetadataArena();
    const lru = new ListLru<number>({ nodes: 1, capacity: 2, arena });
    // counts: 1 int32; slots: 1 head + 2 items, 16 bytes each
    expect(arena.bytes).toBe(4 + 3 * 16);
    expect(arena.byLabel()).toEqual({ "list-lru count": 4, "list-lru links": 48 });
    lru.add(1, 0);
    lru.add(2, 0);
    expect(arena.bytes).toBe(4 + 3 * 16);
    lru.add(3, 0);
    expect(arena.bytes).toBe(4 + 6 * 16);
    expect(lru.items(0)).toEqual([1, 2, 3]);
    // del and add reuse slots: no growth
    for (let i = 0; i < 100; i++) {
      lru.del(1);
      lru.add(1, 0);
    }
    expect(arena.bytes).toBe(4 + 6 * 16);
    expect(arena.peakBytes).toBe(4 + 3 * 16 + 6 * 16);
    lru.check();
  });

  test("misuse throws and changes nothing", () => {
    const lru = new ListLru<number>({ nodes: 2 });
    lru.add(1, 0);
    lru.add(2, 1);
    const before = JSON.stringify(lists(lru));
    expectMmkitError(() => new ListLru({ nodes: 0 }), ErrorCode.OutOfRange, "nodes", "0");
    expectMmkitError(() => new ListLru({ capacity: -1 }), ErrorCode.OutOfRange, "capacity", "-1");
    expectMmkitError(() => lru.add(3, 2), ErrorCode.OutOfRange, "nid", "2");
    expectMmkitError(() => lru.add(3, Number.NaN), ErrorCode.InvalidArgument, "nid", "NaN");
    expectMmkitError(() => lru.count(5), ErrorCode.OutOfRange, "nid", "5");
    expectMmkitError(() => lru.items(-1), ErrorCode.OutOfRange, "nid", "-1");
    expectMmkitError(() => lru.walk(2, () => LruWalk.Removed), ErrorCode.OutOfRange, "nid", "2");
    expectMmkitError(() => lru.walk(0, () => LruWalk.Removed, -1), ErrorCode.OutOfRange, "nrToWalk", "-1");
    expectMmkitError(() => lru.walk(0, () => LruWalk.Removed, 1.5), ErrorCode.InvalidArgument, "nrToWalk", "1.5");
    expectMmkitError(() => lru.walk(0, "x" as never), ErrorCode.InvalidArgument, "callback", '"x"');
    // a callback answering nonsense: the item stays where it was
    expectMmkitError(() => lru.walk(0, () => 7 as LruWalkResult), ErrorCode.InvalidArgument, "7", "node 0");
    expect(JSON.stringify(lists(lru))).toBe(before);
    lru.check();
  });
});

describe("cache lines", () => {
  test("each operation touches the records it links, four 16-byte records to a line", () => {
    const arena = new ProbingArena();
    const lru = new ListLru<number>({ universe: 1000, arena });
    const lines = (f: () => unknown) => {
      const r = arena.measure(() => void f());
      return [r.lines, r.linesByLabel];
    };
    // item i has slot i + 1, on line (i + 1) >> 2; the head (slot 0) is on line 0, with items 0..2.
    // first add: item 500 (line 125) and the head (line 0), which is also the old tail; the count
    expect(lines(() => lru.add(500, 0))).toEqual([3, { "list-lru links": 2, "list-lru count": 1 }]);
    // item 10 (line 2), the old tail 500 (line 125), the head (line 0); the count
    expect(lines(() => lru.add(10, 0))).toEqual([4, { "list-lru links": 3, "list-lru count": 1 }]);
    lru.add(900, 0); // [500, 10, 900]
    // rotate 10: itself (line 2), its neighbours 500 and 900 (lines 125, 225; 900 is also the old
    // tail), the head (line 0); no count
    expect(lines(() => lru.rotate(10))).toEqual([4, { "list-lru links": 4 }]);
    // del 900 (line 225) between 500 (line 125) and 10 (line 2); the count
    expect(lines(() => lru.del(900))).toEqual([4, { "list-lru links": 3, "list-lru count": 1 }]);
    // a walk removing the oldest (500): the head's next (line 0), 500's record (line 125), its
    // next neighbour 10 (line 2) whose stamp the walk reads and whose prev it rewrites; the count
    expect(lines(() => lru.walk(0, () => LruWalk.Removed, 1))).toEqual([4, { "list-lru links": 3, "list-lru count": 1 }]);
    lru.check();
  });
});

describe("indexed mode", () => {
  test("items are 0 .. universe - 1 with fixed slots: no map, no growth", () => {
    const arena = new MetadataArena();
    const lru = new ListLru<number>({ nodes: 2, universe: 100, arena });
    // 2 counts + (2 heads + 100 items) * 16 bytes, allocated once
    expect(arena.bytes).toBe(8 + 102 * 16);
    expect(lru.universe).toBe(100);
    expect(lru.add(99, 1)).toBe(true);
    expect(lru.add(0, 1)).toBe(true);
    expect(lru.add(0, 0)).toBe(false);
    expect(lru.add(50, 0)).toBe(true);
    expect(lists(lru)).toEqual([[50], [99, 0]]);
    expect(lru.rotate(99)).toBe(true);
    expect(lists(lru)).toEqual([[50], [0, 99]]);
    expect(lru.walk(1, (x) => (x === 0 ? LruWalk.Removed : LruWalk.Skip))).toBe(1);
    expect([lru.size, lru.has(0), lru.nodeOf(99), lru.nodeOf(50)]).toEqual([2, false, 1, 0]);
    // what cannot be an item is on no list
    expect([lru.del(100), lru.del(-1), lru.del(1.5), lru.has(Number.NaN), lru.rotate(1e9), lru.nodeOf(7)]).toEqual([false, false, false, false, false, -1]);
    expect(arena.bytes).toBe(8 + 102 * 16);
    lru.check();
  });

  test("misuse throws and changes nothing", () => {
    const lru = new ListLru<number>({ universe: 10 });
    lru.add(3, 0);
    expectMmkitError(() => new ListLru({ universe: 0 }), ErrorCode.OutOfRange, "universe", "0");
    expectMmkitError(() => lru.add(10, 0), ErrorCode.OutOfRange, "item", "10");
    expectMmkitError(() => lru.add(-1, 0), ErrorCode.OutOfRange, "item", "-1");
    expectMmkitError(() => lru.add(2.5, 0), ErrorCode.InvalidArgument, "item", "2.5");
    expectMmkitError(() => lru.add("3" as never, 0), ErrorCode.InvalidArgument, "item", '"3"');
    expect(lru.items(0)).toEqual([3]);
    lru.check();
  });
});

describe("walk", () => {
  function filled(n: number): ListLru<number> {
    const lru = new ListLru<number>();
    for (let i = 0; i < n; i++) lru.add(i, 0);
    return lru;
  }

  test("removed / rotate / skip / stop, oldest first, every visit counted", () => {
    const lru = filled(8);
    const seen: number[] = [];
    const answers: Record<number, LruWalkResult> = { 0: LruWalk.Removed, 1: LruWalk.Rotate, 2: LruWalk.Skip, 3: LruWalk.Removed, 4: LruWalk.Stop };
    expect(lru.walk(0, (item) => (seen.push(item), answers[item]!))).toBe(2);
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(lru.lastWalkVisited).toBe(5);
    expect(lru.items(0)).toEqual([2, 4, 5, 6, 7, 1]);
    // nrToWalk bounds the visits whatever the answers
    seen.length = 0;
    expect(lru.walk(0, (item) => (seen.push(item), LruWalk.Skip), 3)).toBe(0);
    expect(seen).toEqual([2, 4, 5]);
    expect(lru.walk(0, () => LruWalk.Removed, 0)).toBe(0);
    expect(lru.lastWalkVisited).toBe(0);
    lru.check();
  });

  test("a walk never revisits what it rotated", () => {
    const lru = filled(4);
    const seen: number[] = [];
    expect(lru.walk(0, (item) => (seen.push(item), LruWalk.Rotate), 100)).toBe(0);
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(lru.items(0)).toEqual([0, 1, 2, 3]);
    lru.check();
  });

  test("the callback may delete the next item, itself, or add items: the walk goes on correctly", () => {
    const lru = filled(6);
    const seen: number[] = [];
    const removed = lru.walk(0, (item, nid, l) => {
      seen.push(item);
      if (item === 0) l.del(1); // the next one: skipped
      if (item === 2) {
        l.del(2); // itself, then answers Removed: counted once
        return LruWalk.Removed;
      }
      if (item === 3) l.add(100, nid); // added during the walk: not visited
      if (item === 4) l.rotate(5); // moved to the tail during the walk: not visited
      return LruWalk.Skip;
    });
    expect(seen).toEqual([0, 2, 3, 4]);
    expect(removed).toBe(1);
    expect(lru.items(0)).toEqual([0, 3, 4, 100, 5]);
    lru.check();
  });

  test("nested walks, on the same node and on another", () => {
    const lru = new ListLru<number>({ nodes: 2 });
    for (let i = 0; i < 5; i++) lru.add(i, 0);
    for (let i = 10; i < 13; i++) lru.add(i, 1);
    const inner: number[] = [];
    const outer: number[] = [];
    lru.walk(0, (item, _nid, l) => {
      outer.push(item);
      if (item === 1) {
        l.walk(0, (x) => (inner.push(x), x === 3 ? LruWalk.Removed : LruWalk.Skip));
        l.walk(1, () => LruWalk.Removed, 2);
      }
      return LruWalk.Skip;
    });
    expect(inner).toEqual([0, 1, 2, 3, 4]);
    expect(outer).toEqual([0, 1, 2, 4]);
    expect(lists(lru)).toEqual([[0, 1, 2, 4], [12]]);
    lru.check();
  });

  test("a callback that throws ends the walk and leaves the list consistent", () => {
    const lru = filled(5);
    expect(() =>
      lru.walk(0, (item) => {
        if (item === 2) throw new Error("callback failed");
        return LruWalk.Removed;
      }),
    ).toThrow("callback failed");
    expect(lru.items(0)).toEqual([2, 3, 4]);
    lru.check();
    expect(lru.walk(0, () => LruWalk.Removed)).toBe(3);
    expect(lru.size).toBe(0);
    lru.check();
  });

  test("shrinkWalk scans sc.nid for sc.nrToScan and reports nrScanned", () => {
    const lru = new ListLru<number>({ nodes: 2 });
    for (let i = 0; i < 10; i++) lru.add(i, i % 2);
    const sc: ShrinkControl = { nid: 1, nrToScan: 3, priority: 0, nrScanned: 3 };
    expect(lru.shrinkWalk(sc, (item) => (item === 3 ? LruWalk.Rotate : LruWalk.Removed))).toBe(2);
    expect(sc.nrScanned).toBe(3);
    expect(lru.items(1)).toEqual([7, 9, 3]);
    sc.nrToScan = 128;
    expect(lru.shrinkWalk(sc, () => LruWalk.Removed)).toBe(3);
    expect(sc.nrScanned).toBe(3);
    expect(lru.count(0)).toBe(5);
  });
});

// ---------------------------------------------------------------- model-based test

type Action = { kind: "none" } | { kind: "del" | "rotate"; item: number } | { kind: "add"; item: number; nid: number };
type Op =
  | { t: "add"; item: number; nid: number }
  | { t: "del"; item: number }
  | { t: "rotate"; item: number }
  | { t: "walk"; nid: number; n: number; answers: LruWalkResult[]; actions: Action[] };

const NODES = 3;
const item = fc.integer({ min: 0, max: 24 });
const nid = fc.integer({ min: 0, max: NODES - 1 });
const action: fc.Arbitrary<Action> = fc.oneof(
  fc.constant({ kind: "none" as const }),
  fc.record({ kind: fc.constantFrom("del" as const, "rotate" as const), item }),
  fc.record({ kind: fc.constant("add" as const), item, nid }),
);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant("add" as const), item, nid }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("del" as const), item }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("rotate" as const), item }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant("walk" as const),
      nid,
      n: fc.integer({ min: 0, max: 12 }),
      answers: fc.array(fc.constantFrom<LruWalkResult>(LruWalk.Removed, LruWalk.Rotate, LruWalk.Skip, LruWalk.Stop), { minLength: 1, maxLength: 6 }),
      actions: fc.array(action, { minLength: 1, maxLength: 4 }),
    }),
  },
);

/** The reference: one plain array per node, oldest first. */
class Model {
  lists: number[][] = Array.from({ length: NODES }, () => []);
  where(x: number): number {
    return this.lists.findIndex((l) => l.includes(x));
  }
  add(x: number, n: number): boolean {
    if (this.where(x) >= 0) return false;
    this.lists[n]!.push(x);
    return true;
  }
  del(x: number): boolean {
    const n = this.where(x);
    if (n < 0) return false;
    this.lists[n]!.splice(this.lists[n]!.indexOf(x), 1);
    return true;
  }
  rotate(x: number): boolean {
    const n = this.where(x);
    if (n < 0) return false;
    this.del(x);
    this.lists[n]!.push(x);
    return true;
  }
}

test.each(["map", "indexed"] as const)("ListLru (%s mode) behaves as per-node arrays under random operations and re-entrant walks", (mode) => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const lru = new ListLru<number>(mode === "map" ? { nodes: NODES, capacity: 1 } : { nodes: NODES, universe: 25 });
      const model = new Model();
      for (const o of ops) {
        if (o.t === "add") expect(lru.add(o.item, o.nid)).toBe(model.add(o.item, o.nid));
        else if (o.t === "del") expect(lru.del(o.item)).toBe(model.del(o.item));
        else if (o.t === "rotate") expect(lru.rotate(o.item)).toBe(model.rotate(o.item));
        else {
          // The model walk: the items present when the walk began, in order, skipping any the
          // callbacks deleted or moved before their turn.
          const pending = new Set(model.lists[o.nid]);
          const expectedSeen: number[] = [];
          let expectedRemoved = 0;
          for (const x of model.lists[o.nid]!.slice()) {
            if (expectedSeen.length >= o.n) break;
            if (!pending.has(x)) continue;
            pending.delete(x);
            const step = expectedSeen.length;
            expectedSeen.push(x);
            const a = o.actions[step % o.actions.length]!;
            if (a.kind === "del") {
              model.del(a.item);
              pending.delete(a.item);
            } else if (a.kind === "rotate") {
              model.rotate(a.item);
              pending.delete(a.item);
            } else if (a.kind === "add") model.add(a.item, a.nid);
            const answer = o.answers[step % o.answers.length]!;
            if (answer === LruWalk.Removed) {
              model.del(x);
              expectedRemoved++;
            } else if (answer === LruWalk.Rotate) model.rotate(x);
            else if (answer === LruWalk.Stop) break;
          }
          const seen: number[] = [];
          const removed = lru.walk(
            o.nid,
            (x, n, l) => {
              expect(n).toBe(o.nid);
              const step = seen.length;
              seen.push(x);
              const a = o.actions[step % o.actions.length]!;
              if (a.kind === "del") l.del(a.item);
              else if (a.kind === "rotate") l.rotate(a.item);
              else if (a.kind === "add") l.add(a.item, a.nid);
              l.check();
              return o.answers[step % o.answers.length]!;
            },
            o.n,
          );
          expect(seen).toEqual(expectedSeen);
          expect(removed).toBe(expectedRemoved);
          expect(lru.lastWalkVisited).toBe(expectedSeen.length);
        }
        lru.check();
        expect(lists(lru)).toEqual(model.lists);
        expect(lru.size).toBe(model.lists.reduce((s, l) => s + l.length, 0));
        for (let n = 0; n < NODES; n++) expect(lru.count(n)).toBe(model.lists[n]!.length);
      }
    }),
    { numRuns: 300 },
  );
});

test("del, rotate, walk and a shrink pass allocate no metadata; add only when map mode grows", () => {
  const arena = new MetadataArena();
  const lru = new ListLru<number>({ capacity: 4, arena });
  for (let i = 0; i < 4; i++) lru.add(i, 0);
  const registry = new ShrinkerRegistry({ arena });
  registry.register({ name: "lru", numaAware: true, count: (sc) => lru.count(sc.nid), scan: (sc) => lru.shrinkWalk(sc, () => LruWalk.Removed) });
  arena.sealWhile(() => {
    lru.rotate(0);
    lru.del(1);
    lru.add(1, 0); // reuses the freed slot
    lru.walk(0, () => LruWalk.Rotate);
    expect(registry.shrink({ nid: 0, priority: 0 })).toBe(4);
  });
  for (let i = 0; i < 4; i++) lru.add(i, 0);
  expectMmkitError(() => arena.sealWhile(() => lru.add(99, 0)), ErrorCode.ArenaSealed, "list-lru links");
  expect(lru.has(99)).toBe(false);
  lru.check();
});

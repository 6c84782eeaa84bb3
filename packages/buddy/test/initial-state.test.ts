import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { BuddyAllocator, MigrateType, type BuddyInitialState, type BuddyOptions } from "@mmkit/buddy";
import { HOSTILE_VALUES } from "@mmkit/test-support";
import { lists, pageMap } from "./helpers.ts";

const { Unmovable: U, Movable: M, Reclaimable: R } = MigrateType;

// node 0 [0,40) + [48,100), node 1 [100,160): a hole, unaligned ends, two nodes.
const RANGES: [number, number, number][] = [
  [0, 40, 0],
  [48, 100, 0],
  [100, 160, 1],
];
const OPTIONS: BuddyOptions = { maxOrder: 4, pageblockOrder: 2, minFreeKbytes: 0, defaultMigratetype: M };

function build(init: BuddyInitialState, options: BuddyOptions = OPTIONS): BuddyAllocator {
  return new BuddyAllocator(pageMap(RANGES), { ...options, initialState: init });
}

function expectRefused(init: BuddyInitialState, code: string, text: string): void {
  let error: { code?: string; message?: string } | undefined;
  try {
    build(init);
  } catch (e) {
    error = e as { code?: string; message?: string };
  }
  expect(error, `expected ${code}`).toBeDefined();
  expect(error!.code).toBe(code);
  expect(error!.message).toContain(text);
}

describe("initialState", () => {
  test("lays out the described free and allocated blocks, fills the rest, and frees merge as usual", () => {
    const pageblocks = new Array<number>(40).fill(M);
    pageblocks[1] = U; // pfns 4..7
    pageblocks[2] = R; // pfns 8..11
    const b = build({
      pageblocks,
      free: [
        { pfn: 64, order: 4 },
        { pfn: 4, order: 1 },
        { pfn: 10, order: 0 },
        { pfn: 112, order: 3 },
      ],
      allocated: [{ pfn: 6, order: 1 }, { pfn: 11, order: 0 }],
    });
    b.check();
    expect(lists(b)).toEqual(["n0 o0 R: 10", "n0 o1 U: 4", "n0 o4 M: 64", "n1 o3 M: 112"]);
    expect(b.freePageCount()).toBe(1 + 2 + 16 + 8);
    expect(b.pagetypeinfo()[0]!.pageblocks).toEqual([1, 21, 1, 0, 0]);
    // Filler blocks: the largest aligned blocks between the described ones.
    expect(b.blockOf(0)).toMatchObject({ pfn: 0, order: 2, state: "allocated", migratetype: M });
    expect(b.blockOf(9)).toMatchObject({ pfn: 8, order: 1, state: "allocated", migratetype: R });
    expect(b.blockOf(100)).toMatchObject({ pfn: 100, order: 2, state: "allocated" });
    expect(b.blockOf(48)).toMatchObject({ pfn: 48, order: 4, state: "allocated" });
    // A described allocated block frees with its order and merges with its free buddy.
    b.freePages(6, 1);
    b.check();
    expect(lists(b)).toContain("n0 o2 U: 4");
    b.freePages(11, 0);
    expect(lists(b)).toContain("n0 o1 R: 10");
    b.check();
  });

  test("sets each node's watermarks and per-CPU limits", () => {
    const b = build(
      {
        watermarks: [
          { min: 3, low: 4, high: 5 },
          { min: 7, low: 9, high: 11 },
        ],
        perCpuLimits: [
          { batch: 1, high: 6 },
          { batch: 5, high: 40 },
        ],
      },
      { ...OPTIONS, cpus: 2, cpuNodes: [0, 1] },
    );
    expect(b.watermarks(0)).toEqual({ min: 3, low: 4, high: 5 });
    expect(b.watermarks(1)).toEqual({ min: 7, low: 9, high: 11 });
    expect(b.perCpuLimits(0, 0)).toEqual({ batch: 1, high: 6 });
    expect(b.perCpuLimits(0, 1)).toEqual({ batch: 5, high: 40 });
    expect(b.perCpuLimits(1, 1)).toEqual({ batch: 5, high: 40 });
    // Nothing free: every page is allocated filler.
    expect(b.freePageCount()).toBe(0);
    expect(b.allocPages(0)).toBe(-1);
    b.check();
  });

  test("refuses a bad description with a typed error naming the value", () => {
    expectRefused({ free: [{ pfn: 6, order: 2 }] }, "ERR_NOT_ALIGNED", "pfn 6 is not aligned to order 2");
    expectRefused({ free: [{ pfn: 40, order: 0 }] }, "ERR_NOT_RAM", "pfn 40 is not RAM");
    expectRefused({ free: [{ pfn: 32, order: 4 }] }, "ERR_NOT_RAM", "crosses the end of its RAM range at pfn 40");
    expectRefused({ free: [{ pfn: 16, order: 3 }], allocated: [{ pfn: 20, order: 0 }] }, "ERR_OVERLAP", "overlaps another described block at pfn 20");
    expectRefused({ free: [{ pfn: 16, order: 2 }, { pfn: 20, order: 2 }] }, "ERR_INVALID_ARGUMENT", "pfn 16 and 20 are buddies");
    expectRefused({ pageblocks: [M, M, M, U], free: [{ pfn: 0, order: 4 }] }, "ERR_INVALID_ARGUMENT", "spans pageblocks of different migratetypes");
    expectRefused({ pageblocks: [M, 3] }, "ERR_INVALID_ARGUMENT", "pageblocks[1] must be a migratetype");
    expectRefused({ free: [{ pfn: 0, order: 5 }] }, "ERR_OUT_OF_RANGE", "order");
    expectRefused({ free: [{ pfn: -1, order: 0 }] }, "ERR_OUT_OF_RANGE", "pfn");
    expectRefused({ free: [null as never] }, "ERR_INVALID_ARGUMENT", "initialState.free[0] must be a { pfn, order } object");
    expectRefused({ free: "x" as never }, "ERR_INVALID_ARGUMENT", "initialState.free must be an array");
    expectRefused({ watermarks: [{ min: 5, low: 4, high: 6 }, { min: 0, low: 0, high: 0 }] }, "ERR_INVALID_ARGUMENT", "min <= low <= high, got 5/4/6");
    expectRefused({ watermarks: [{ min: 0, low: 0, high: 0 }] }, "ERR_INVALID_ARGUMENT", "one entry per node (2), got 1");
    expectRefused({ perCpuLimits: [{ batch: 0, high: 4 }, { batch: 1, high: 4 }] }, "ERR_OUT_OF_RANGE", "perCpuLimits[0].batch");
    expectRefused(null as never, "ERR_INVALID_ARGUMENT", "initialState must be an object");
  });

  test("model: an allocator rebuilt from its own description behaves exactly like it", () => {
    type Op = { alloc: boolean; order: number; mt: number; pick: number };
    const opArb = fc.record({ alloc: fc.boolean(), order: fc.nat(4), mt: fc.nat(2), pick: fc.nat() });
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), fc.array(opArb, { maxLength: 60 }), (before: Op[], after: Op[]) => {
        const a = new BuddyAllocator(pageMap(RANGES), OPTIONS);
        const live: [number, number][] = [];
        const step = (x: BuddyAllocator, op: Op, held: [number, number][]): number => {
          if (op.alloc || held.length === 0) {
            const pfn = x.allocPages(op.order, { migratetype: op.mt as MigrateType });
            if (pfn >= 0) held.push([pfn, op.order]);
            return pfn;
          }
          const [pfn, order] = held.splice(op.pick % held.length, 1)[0]!;
          x.freePages(pfn, order);
          return pfn;
        };
        for (const op of before) step(a, op, live);
        // Describe a: pageblock types, free lists in list order, live allocations.
        const pageblocks = Array.from({ length: 40 }, (_, i) => (i === 10 || i === 11 ? M : a.pageblockMigratetype(i * 4))); // 10, 11: the hole
        const free = a.freeLists().flatMap((l) => l.pfns.map((pfn) => ({ pfn, order: l.order })));
        const b = build({ pageblocks, free, allocated: live.map(([pfn, order]) => ({ pfn, order })) });
        b.check();
        expect(lists(b)).toEqual(lists(a));
        expect(b.pagetypeinfo()).toEqual(a.pagetypeinfo());
        const liveB = live.map((x) => [...x] as [number, number]);
        for (const op of after) {
          expect(step(b, op, liveB)).toBe(step(a, op, live));
          b.check();
        }
        expect(lists(b)).toEqual(lists(a));
      }),
      { numRuns: 150 },
    );
  });
});

describe("initialState bad-input sweep: every position, every hostile value", () => {
  // A valid base state; each case replaces one position with a hostile value. A value is either
  // legitimate (it stands for a valid value and builds exactly what that value builds) or refused
  // with a typed error naming it (the constructor throws, nothing is built).
  const base = (): Record<string, unknown> => ({
    pageblocks: [M, U, R],
    free: [{ pfn: 64, order: 4 }, { pfn: 0, order: 0 }],
    allocated: [{ pfn: 2, order: 1 }],
    watermarks: [{ min: 1, low: 2, high: 3 }, { min: 1, low: 2, high: 3 }],
    perCpuLimits: [{ batch: 1, high: 4 }, { batch: 2, high: 8 }],
  });
  type Position = { name: string; set: (state: Record<string, unknown>, v: unknown) => void; standIn: (v: unknown) => { value: unknown } | null };
  const omit = { value: undefined };
  const zero = (v: unknown): { value: unknown } | null => (Object.is(v, -0) ? { value: 0 } : null);
  const positions: Position[] = [
    { name: "pageblocks", set: (s, v) => (s.pageblocks = v), standIn: (v) => (v === undefined ? omit : Array.isArray(v) ? { value: [] } : null) },
    { name: "pageblocks[1]", set: (s, v) => ((s.pageblocks as unknown[])[1] = v), standIn: zero },
    { name: "free", set: (s, v) => (s.free = v), standIn: (v) => (v === undefined ? omit : Array.isArray(v) ? { value: [] } : null) },
    { name: "free[1]", set: (s, v) => ((s.free as unknown[])[1] = v), standIn: () => null },
    { name: "free[1].pfn", set: (s, v) => ((s.free as { pfn: unknown }[])[1]!.pfn = v), standIn: zero },
    { name: "free[1].order", set: (s, v) => ((s.free as { order: unknown }[])[1]!.order = v), standIn: zero },
    { name: "allocated[0].pfn", set: (s, v) => ((s.allocated as { pfn: unknown }[])[0]!.pfn = v), standIn: zero },
    { name: "allocated[0].order", set: (s, v) => ((s.allocated as { order: unknown }[])[0]!.order = v), standIn: zero },
    { name: "watermarks", set: (s, v) => (s.watermarks = v), standIn: (v) => (v === undefined ? omit : null) },
    { name: "watermarks[0].min", set: (s, v) => ((s.watermarks as { min: unknown }[])[0]!.min = v), standIn: zero },
    { name: "watermarks[1].high", set: (s, v) => ((s.watermarks as { high: unknown }[])[1]!.high = v), standIn: zero },
    { name: "perCpuLimits", set: (s, v) => (s.perCpuLimits = v), standIn: (v) => (v === undefined ? omit : null) },
    { name: "perCpuLimits[1].batch", set: (s, v) => ((s.perCpuLimits as { batch: unknown }[])[1]!.batch = v), standIn: () => null },
  ];
  const options: BuddyOptions = { ...OPTIONS, cpus: 2 };
  const describe_ = (v: unknown): string => (typeof v === "number" ? (Object.is(v, -0) ? "-0" : String(v)) : typeof v === "string" ? JSON.stringify(v) : typeof v === "bigint" ? `${v}n` : v === null || v === undefined ? String(v) : typeof v);
  const view = (b: BuddyAllocator): string => JSON.stringify({ lists: b.freeLists(), types: b.pagetypeinfo(), w: [b.watermarks(0), b.watermarks(1)], l: [b.perCpuLimits(0, 0), b.perCpuLimits(1, 1)], blocks: [0, 2, 8, 64, 100].map((p) => b.blockOf(p)) });
  for (const position of positions) {
    test(position.name, () => {
      for (const [name, v] of HOSTILE_VALUES) {
        const state = base();
        position.set(state, v);
        const standIn = position.standIn(v);
        const outcome = (st: Record<string, unknown>): string => {
          try {
            const b = build(st as BuddyInitialState, options);
            b.check();
            return view(b);
          } catch (e) {
            return `${(e as { code?: string }).code}: ${(e as Error).message}`;
          }
        };
        if (standIn !== null) {
          // Legitimate: exactly what the value it stands for gives (a build, or the same refusal).
          const twin = base();
          position.set(twin, standIn.value);
          if (standIn.value === undefined) for (const k of Object.keys(twin)) if (twin[k] === undefined) delete twin[k];
          expect(outcome(state), name).toBe(outcome(twin));
          continue;
        }
        let error: { name?: string; code?: string; message?: string } | undefined;
        try {
          build(state as BuddyInitialState, options);
        } catch (e) {
          error = e as typeof error;
        }
        expect(error?.name, `${position.name} = ${name}`).toBe("MmkitError");
        expect(["ERR_INVALID_ARGUMENT", "ERR_OUT_OF_RANGE", "ERR_NOT_RAM", "ERR_NOT_ALIGNED", "ERR_OVERLAP"], `${position.name} = ${name}: ${error?.message}`).toContain(error!.code);
        // The message names the value, or for an object or array the position it fills.
        const named = v !== null && typeof v === "object" ? error!.message!.includes(`initialState.${position.name}`) : error!.message!.includes(describe_(v));
        expect(named, `${position.name} = ${name}: ${error!.message}`).toBe(true);
      }
    });
  }
});

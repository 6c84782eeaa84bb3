import { ErrorCode, MemoryMap, MmkitError } from "@mmkit/physmem";
import { describe, expect, test } from "vitest";
import { BuddyAllocator } from "@mmkit/buddy";
import { expectMisuse, pageMap, small } from "./helpers.ts";

function withState(): { b: BuddyAllocator; p4: number; p0: number } {
  // node 0 [0,40) hole [40,48) node 0 [48,64); cpus 2
  const b = small({ cpus: 2, pcpBatch: 2, pcpHigh: 6 }, [
    [0, 40],
    [48, 64],
  ]);
  const p4 = b.allocPages(2); // the smallest fitting block is [32,40): pages 32..35
  const p0 = b.cpu(0).allocPages(0);
  b.check();
  return { b, p4, p0 };
}

const fronts = ["allocator", "cpu(1)"] as const;

describe.each(fronts)("freePages misuse through the %s", (front) => {
  const free = (b: BuddyAllocator) => (pfn: unknown, order: unknown) =>
    front === "allocator" ? b.freePages(pfn as number, order as number) : b.cpu(1).freePages(pfn as number, order as number);

  test("non-integer pfn or order", () => {
    const { b, p4 } = withState();
    for (const bad of [1.5, Number.NaN, "4", null, undefined, Infinity, -1.5]) expectMisuse(b, () => free(b)(bad, 2), ErrorCode.InvalidArgument, String(bad === "4" ? '"4"' : bad));
    for (const bad of [0.5, Number.NaN, "2", null]) expectMisuse(b, () => free(b)(p4, bad), ErrorCode.InvalidArgument, "order");
  });

  test("order out of range", () => {
    const { b, p4 } = withState();
    expectMisuse(b, () => free(b)(p4, 5), ErrorCode.OutOfRange, "order must be in [0, 4], got 5");
    expectMisuse(b, () => free(b)(p4, -1), ErrorCode.OutOfRange, "got -1");
    expectMisuse(b, () => free(b)(p4, 40), ErrorCode.OutOfRange, "got 40");
  });

  test("pfn not in RAM", () => {
    const { b } = withState();
    expectMisuse(b, () => free(b)(42, 0), ErrorCode.NotRam, "pfn 42 is not RAM");
    expectMisuse(b, () => free(b)(64, 0), ErrorCode.NotRam, "pfn 64");
    expectMisuse(b, () => free(b)(1e9, 0), ErrorCode.NotRam, "pfn 1000000000");
    expectMisuse(b, () => free(b)(-4, 0), ErrorCode.NotRam, "pfn -4");
  });

  test("pfn not aligned to the order", () => {
    const { b } = withState();
    expectMisuse(b, () => free(b)(2, 2), ErrorCode.NotAligned, "pfn 2 is not aligned to order 2");
  });

  test("double free: on the free lists, inside a free block, on a per-CPU list", () => {
    const { b, p4, p0 } = withState();
    expectMisuse(b, () => free(b)(16, 4), ErrorCode.DoubleFree, "pfn 16 (order 4) is already free, on the free lists");
    expectMisuse(b, () => free(b)(17, 0), ErrorCode.DoubleFree, "pfn 17 is inside the free order-4 block at pfn 16");
    // p0 came through cpu 0: its batch partner sits on cpu 0's list.
    expect([p4, p0]).toEqual([32, 36]);
    expectMisuse(b, () => free(b)(37, 0), ErrorCode.DoubleFree, "pfn 37 (order 0) is already free, on a per-CPU list");
    b.freePages(p4, 2);
    expectMisuse(b, () => free(b)(p4, 2), ErrorCode.DoubleFree, "pfn 32 (order 2) is already free");
  });

  test("wrong order, and pages that were never handed out", () => {
    const { b, p4 } = withState();
    expectMisuse(b, () => free(b)(p4, 1), ErrorCode.WrongSize, "pfn 32 was allocated at order 2, freed at order 1");
    expectMisuse(b, () => free(b)(p4, 3), ErrorCode.WrongSize, "freed at order 3");
    expectMisuse(b, () => free(b)(34, 1), ErrorCode.NotAllocated, "pfn 34 was never handed out: it is inside the order-2 block allocated at pfn 32");
    expectMisuse(b, () => free(b)(35, 0), ErrorCode.NotAllocated, "inside the order-2 block allocated at pfn 32");
  });
});

describe("allocPages misuse", () => {
  test("bad orders", () => {
    const b = small({ cpus: 2 });
    for (const front of [(o: unknown, x?: object) => b.allocPages(o as number, x), (o: unknown, x?: object) => b.cpu(0).allocPages(o as number, x)]) {
      expectMisuse(b, () => front(5), ErrorCode.OutOfRange, "order must be in [0, 4], got 5");
      expectMisuse(b, () => front(-1), ErrorCode.OutOfRange, "got -1");
      expectMisuse(b, () => front(1.5), ErrorCode.InvalidArgument, "got 1.5");
      expectMisuse(b, () => front(Number.NaN), ErrorCode.InvalidArgument, "got NaN");
      expectMisuse(b, () => front("1"), ErrorCode.InvalidArgument, 'got "1"');
      expectMisuse(b, () => front(5, {}), ErrorCode.OutOfRange, "got 5");
    }
  });

  test("orders that are not numbers are refused by the per-CPU fast paths too (lists warm)", () => {
    const b = small({ cpus: 2, pcpBatch: 4, pcpHigh: 64 });
    const cpu = b.cpu(0);
    const held = [0, 1, 2, 3].map((o) => [cpu.allocPages(o), o] as const); // every list of cpu 0 now holds blocks
    for (const bad of ["0", "1", "2", "3", 0.5]) expectMisuse(b, () => cpu.allocPages(bad as unknown as number), ErrorCode.InvalidArgument, "order");
    for (const [pfn, o] of held) {
      expectMisuse(b, () => cpu.freePages(pfn, String(o) as unknown as number), ErrorCode.InvalidArgument, "order");
      expectMisuse(b, () => cpu.freePages(String(pfn) as unknown as number, o), ErrorCode.InvalidArgument, "pfn");
    }
    for (const [pfn, o] of held) cpu.freePages(pfn, o);
    b.check();
  });

  test("bad options", () => {
    const b = small({ cpus: 2 }, [
      [0, 32, 0],
      [32, 64, 3],
    ]);
    const cases: [object, string, string][] = [
      [{ migratetype: 3 }, ErrorCode.OutOfRange, "migratetype must be in [0, 2], got 3"],
      [{ migratetype: 0.5 }, ErrorCode.InvalidArgument, "migratetype must be an integer, got 0.5"],
      [{ node: 1 }, ErrorCode.OutOfRange, "node 1 is not a node of the memory map (nodes: 0, 3)"],
      [{ node: -1 }, ErrorCode.OutOfRange, "got -1"],
      [{ cpu: 2 }, ErrorCode.OutOfRange, "cpu must be in [0, 1], got 2"],
      [{ atomic: 1 }, ErrorCode.InvalidArgument, "atomic must be a boolean, got 1"],
      [{ highPriority: "yes" }, ErrorCode.InvalidArgument, "highPriority must be a boolean"],
      [{ thisNode: null }, ErrorCode.InvalidArgument, "thisNode must be a boolean"],
      [{ noWatermarks: 0 }, ErrorCode.InvalidArgument, "noWatermarks must be a boolean"],
      [{ watermark: "lowest" }, ErrorCode.InvalidArgument, 'watermark must be "min", "low" or "high", got "lowest"'],
    ];
    for (const [options, code, text] of cases) expectMisuse(b, () => b.allocPages(0, options), code, text);
    expectMisuse(b, () => b.allocPages(0, null as unknown as object), ErrorCode.InvalidArgument, "allocation options must be an object, got null");
    expectMisuse(b, () => b.cpu(0).allocPages(0, { cpu: 1 } as object), ErrorCode.InvalidArgument, "options.cpu is not accepted here");
  });

  test("cpu(i) out of range", () => {
    const b = small({ cpus: 2 });
    expectMisuse(b, () => b.cpu(2), ErrorCode.OutOfRange, "cpu must be in [0, 1], got 2");
    expectMisuse(b, () => b.cpu(-1), ErrorCode.OutOfRange, "got -1");
    expectMisuse(b, () => b.cpu(0.5), ErrorCode.InvalidArgument, "got 0.5");
    expectMisuse(b, () => b.cpu("0" as unknown as number), ErrorCode.InvalidArgument, 'got "0"');
  });

  test("queries and fault injection settings", () => {
    const b = small({ cpus: 1 }, [[0, 40], [48, 64]]);
    expectMisuse(b, () => b.blockOf(44), ErrorCode.NotRam, "pfn 44 is not RAM");
    expectMisuse(b, () => b.pageblockMigratetype(1.5), ErrorCode.InvalidArgument, "got 1.5");
    expectMisuse(b, () => b.unusableFreeIndex(5), ErrorCode.OutOfRange, "got 5");
    expectMisuse(b, () => b.fragmentationIndex(-1), ErrorCode.OutOfRange, "got -1");
    expectMisuse(b, () => b.freePageCount(2), ErrorCode.OutOfRange, "node 2");
    expectMisuse(b, () => b.perCpuLimits(1), ErrorCode.OutOfRange, "cpu must be in [0, 0], got 1");
    b.setFaultInjection({ probability: 5, seed: 3 });
    expectMisuse(b, () => b.setFaultInjection({ probability: 101 }), ErrorCode.OutOfRange, "probability must be a percentage in [0, 100], got 101");
    expectMisuse(b, () => b.setFaultInjection({ probability: 1, interval: 0 }), ErrorCode.OutOfRange, "faultInjection.interval must be in [1, 2147483647], got 0");
    expectMisuse(b, () => b.setFaultInjection({ probability: 1, times: -2 }), ErrorCode.OutOfRange, "got -2");
    expectMisuse(b, () => b.setFaultInjection({ probability: 1, ignoreBlocking: 1 as unknown as boolean }), ErrorCode.InvalidArgument, "ignoreBlocking must be a boolean");
    expect(b.faultInjection?.seed).toBe(3);
  });
});

describe("constructor misuse", () => {
  const map = MemoryMap.uniform(64 * 4096);
  const cases: [() => unknown, string, string][] = [
    [() => new BuddyAllocator(null as unknown as MemoryMap), ErrorCode.InvalidArgument, "needs a MemoryMap, got null"],
    [() => new BuddyAllocator(map, { maxOrder: 21 }), ErrorCode.OutOfRange, "maxOrder must be in [0, 20], got 21"],
    [() => new BuddyAllocator(map, { maxOrder: 4, pageblockOrder: 5 }), ErrorCode.OutOfRange, "pageblockOrder must be in [0, 4], got 5"],
    [() => new BuddyAllocator(map, { cpus: 0 }), ErrorCode.OutOfRange, "cpus must be in [1, 1024], got 0"],
    [() => new BuddyAllocator(map, { cpus: 2, cpuNodes: [0] }), ErrorCode.InvalidArgument, "cpuNodes must be an array of 2 node ids"],
    [() => new BuddyAllocator(map, { cpus: 1, cpuNodes: [1] }), ErrorCode.OutOfRange, "cpuNodes[0] 1 is not a node"],
    [() => new BuddyAllocator(map, { pcpBatch: 0 }), ErrorCode.OutOfRange, "pcpBatch must be in [1, 1048576], got 0"],
    [() => new BuddyAllocator(map, { watermarkScaleFactor: 3001 }), ErrorCode.OutOfRange, "watermarkScaleFactor must be in [1, 3000], got 3001"],
    [() => new BuddyAllocator(map, { groupByMobility: "no" as unknown as boolean }), ErrorCode.InvalidArgument, "groupByMobility must be a boolean"],
    [() => new BuddyAllocator(map, { defaultMigratetype: 4 as 0 }), ErrorCode.OutOfRange, "defaultMigratetype must be in [0, 2], got 4"],
    [() => new BuddyAllocator(map, { faultInjection: { probability: -1 } }), ErrorCode.OutOfRange, "got -1"],
    [() => new BuddyAllocator(pageMap([[0, 16], [2 ** 30, 2 ** 30 + 16]])), ErrorCode.OutOfRange, "supports at most 134217728"],
  ];
  test.each(cases.map((c, i) => [i, ...c] as const))("case %i", (_, fn, code, text) => {
    let error: unknown;
    try {
      fn();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MmkitError);
    expect((error as MmkitError).code).toBe(code);
    expect((error as MmkitError).message).toContain(text);
  });
});

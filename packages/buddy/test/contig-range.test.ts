import { describe, expect, test } from "vitest";
import { ALLOC_CONTIG_MIGRATE_TRIES, MigrateType, SharedBuddy } from "@mmkit/buddy";
import { Owner, checkerboard, ownerAgrees } from "./compaction-owner.ts";
import { blockSet, codeOf, expectMisuse, lists, pageMap, small } from "./helpers.ts";

/** Pageblock types of a 64-page machine with 4-page pageblocks, as one letter each. */
function types(b: ReturnType<typeof small>): string {
  return Array.from({ length: 16 }, (_, i) => "UMRCI"[b.pageblockMigratetype(i * 4)]).join("");
}

describe("allocContigRange on a hand-made machine (64 pages, pageblocks of 4, every odd page owned Movable)", () => {
  test("isolates [4, 12), moves the four owned pages out to the head of the Movable list, takes the range", () => {
    const { b, owner } = checkerboard();
    expect(b.allocContigRange(4, 8, owner)).toBe(4);
    expect(b.lastContigFailure).toBeNull();
    expect(owner.moves).toEqual([
      [5, 62, 0],
      [7, 60, 0],
      [9, 58, 0],
      [11, 56, 0],
    ]);
    // Taken as two order-2 blocks, allocated Unmovable; the free pages of [4, 12) are no longer free.
    expect(b.blockOf(7)).toEqual({ pfn: 4, order: 2, state: "allocated", migratetype: MigrateType.Unmovable, node: 0 });
    expect(b.blockOf(11)).toEqual({ pfn: 8, order: 2, state: "allocated", migratetype: MigrateType.Unmovable, node: 0 });
    expect(b.freePageCount()).toBe(24);
    expect(lists(b)).toEqual(["n0 o0 M: 54,52,50,48,46,44,42,40,38,36,34,32,30,28,26,24,22,20,18,16,14,12,2,0"]);
    // The isolation is undone: no Isolate pageblock, no Isolate list.
    expect(types(b)).toBe("MMMMMMMMMMMMMMMM");
    expect(b.pagetypeinfo()[0]!.pageblocks).toEqual([0, 16, 0, 0, 0]);
    expect(b.compactionCounters()).toMatchObject({ pgmigrateSuccess: 4, pgmigrateFail: 0, compactIsolated: 4, compactMigrateScanned: 8, contigAllocSuccess: 1, contigAllocFail: 0 });
    b.check();
    ownerAgrees(b, owner, 8);
  });

  test("while the range is being emptied its pageblocks are Isolate: their free pages are not free and are never handed out", () => {
    const { b, owner } = checkerboard();
    const seen: unknown[] = [];
    const migrate = owner.migrate.bind(owner);
    owner.migrate = (from, to, order) => {
      if (seen.length === 0) {
        const info = b.pagetypeinfo()[0]!;
        seen.push(types(b), info.pageblocks, info.freeBlocks[MigrateType.Isolate], b.freePageCount(), b.buddyinfo()[0]!.freeBlocks);
        // An allocation from inside the callback gets a page outside the range.
        const pfn = b.allocPages(0, { migratetype: MigrateType.Unmovable });
        seen.push(pfn);
        b.freePages(pfn, 0);
      }
      return migrate(from, to, order);
    };
    expect(b.allocContigRange(4, 8, owner)).toBe(4);
    expect(seen).toEqual([
      "MIIMMMMMMMMMMMMM",
      [0, 14, 0, 0, 2],
      [4, 0, 0, 0, 0], // pfns 4, 6, 8, 10 on the Isolate list
      27, // 32 free - 4 isolated - 1 target taken for pfn 5
      [31, 0, 0, 0, 0], // buddyinfo counts isolated blocks, as /proc/buddyinfo does
      60,
    ]);
    b.check();
  });

  test("a page of an isolated pageblock freed through a CPU front goes straight to the Isolate list, and the range takes it", () => {
    const { b, owner } = checkerboard({ cpus: 1, pcpHigh: 100 });
    const seen: unknown[] = [];
    const migrate = owner.migrate.bind(owner);
    owner.migrate = (from, to, order) => {
      if (from === 5) {
        // The owner lets go of pfn 9 meanwhile, through CPU 0's front.
        owner.pages.delete(9);
        b.cpu(0).freePages(9, 0);
        seen.push(b.blockOf(8), b.cpu(0).pages);
      }
      return migrate(from, to, order);
    };
    expect(b.allocContigRange(4, 8, owner)).toBe(4);
    expect(seen).toEqual([{ pfn: 8, order: 1, state: "free", migratetype: MigrateType.Isolate, node: 0 }, 0]);
    expect(owner.moves.map(([from]) => from)).toEqual([5, 7, 11]);
    b.check();
    ownerAgrees(b, owner, 8);
  });

  test("a range across free blocks at any alignment takes exactly its pages, and freeing it merges everything back", () => {
    const b = small({ pageblockOrder: 2 });
    const owner = new Owner();
    expect(b.allocContigRange(3, 6, owner)).toBe(3);
    expect(lists(b)).toEqual(["n0 o0 M: 2,9", "n0 o1 M: 0,10", "n0 o2 M: 12", "n0 o4 M: 16,32,48"]);
    expect([3, 4, 8].map((p) => b.blockOf(p))).toMatchObject([
      { pfn: 3, order: 0, state: "allocated" },
      { pfn: 4, order: 2, state: "allocated" },
      { pfn: 8, order: 0, state: "allocated" },
    ]);
    expect(b.freePageCount()).toBe(58);
    b.check();
    b.freeContigRange(3, 6);
    expect(lists(b)).toEqual(["n0 o4 M: 0,16,32,48"]);
    b.check();
  });

  test("a Movable block larger than a pageblock reaching past the covering pageblocks moves whole; its old place frees a pageblock at a time", () => {
    const b = small({ pageblockOrder: 2 });
    const owner = new Owner();
    owner.add(b.allocPages(4, { migratetype: MigrateType.Movable }), 4, 0);
    expect(owner.pages.has(0)).toBe(true);
    // [6, 10) is covered by the pageblocks [4, 12); the order-4 block [0, 16) holds them.
    expect(b.allocContigRange(6, 4, owner)).toBe(6);
    expect(owner.moves).toEqual([[0, 16, 4]]);
    expect(lists(b)).toEqual(["n0 o1 M: 4,10", "n0 o2 M: 12,0", "n0 o4 M: 32,48"]);
    expect([4, 8, 12].map((p) => b.pageblockMigratetype(p))).toEqual([MigrateType.Movable, MigrateType.Movable, MigrateType.Movable]);
    b.check();
    ownerAgrees(b, owner, 4);
    b.freeContigRange(6, 4);
    expect(lists(b)).toEqual(["n0 o4 M: 0,32,48"]);
    b.check();
  });

  test("any part of a taken range can be freed, the rest staying taken", () => {
    const { b, owner } = checkerboard();
    b.allocContigRange(4, 8, owner);
    b.freeContigRange(6, 4);
    expect(lists(b)).toContain("n0 o1 M: 8,6");
    expect(b.blockOf(4)).toMatchObject({ pfn: 4, order: 1, state: "allocated" });
    expect(b.blockOf(10)).toMatchObject({ pfn: 10, order: 1, state: "allocated" });
    b.check();
    expect(codeOf(() => b.freeContigRange(6, 1))).toBe("ERR_NOT_ALLOCATED: pfn 6 in the range of 1 pages at pfn 6 was not taken by allocContigRange (it is free)");
    b.freeContigRange(4, 2);
    b.freeContigRange(10, 2);
    expect(lists(b)).toContain("n0 o2 M: 8,4");
    expect(b.freePageCount()).toBe(32);
    b.check();
    ownerAgrees(b, owner);
  });
});

describe("a range that cannot be had returns -1, says why, and leaves the isolation undone", () => {
  test("an Unmovable page in the range: refused before anything is isolated or moved", () => {
    const { b, owner } = checkerboard();
    // With pfn 9 freed, the fallback's largest block is [8, 10): it claims the pageblock [8, 12) and takes its page 10.
    b.freePages(9, 0);
    owner.pages.delete(9);
    expect(b.allocPages(0, { migratetype: MigrateType.Unmovable })).toBe(10);
    const before = blockSet(b);
    expect(b.allocContigRange(4, 8, owner)).toBe(-1);
    expect(b.lastContigFailure).toEqual({ reason: "unmovable", pfn: 10, order: 0 });
    expect(owner.moves).toEqual([]);
    expect(blockSet(b)).toEqual(before);
    expect(b.compactionCounters()).toMatchObject({ contigAllocSuccess: 0, contigAllocFail: 1, pgmigrateSuccess: 0 });
    // An Unmovable page outside the range but inside a covering pageblock does not stop it.
    expect(b.allocContigRange(4, 6, owner)).toBe(4);
    expect(b.blockOf(10)).toMatchObject({ pfn: 10, state: "allocated", migratetype: MigrateType.Unmovable });
    b.check();
  });

  test("a pinned page: the pages moved before it stay moved, the range is not taken, the pageblocks are Movable again", () => {
    const { b, owner } = checkerboard();
    owner.pinned.add(9);
    expect(b.allocContigRange(4, 8, owner)).toBe(-1);
    expect(b.lastContigFailure).toEqual({ reason: "pinned", pfn: 9, order: 0 });
    expect(owner.moves).toEqual([
      [5, 62, 0],
      [7, 60, 0],
    ]);
    expect(types(b)).toBe("MMMMMMMMMMMMMMMM");
    expect(b.blockOf(4)).toMatchObject({ pfn: 4, order: 2, state: "free", migratetype: MigrateType.Movable });
    expect(b.freePageCount()).toBe(32);
    b.check();
    ownerAgrees(b, owner);
  });

  test(`a move refused ${ALLOC_CONTIG_MIGRATE_TRIES} times fails the range; each refusal is a pgmigrate_fail`, () => {
    const { b, owner } = checkerboard();
    owner.refuseMove.add(5);
    expect(b.allocContigRange(4, 8, owner)).toBe(-1);
    expect(ALLOC_CONTIG_MIGRATE_TRIES).toBe(5);
    expect(b.lastContigFailure).toEqual({ reason: "migrate-failed", pfn: 5, order: 0 });
    expect(b.compactionCounters()).toMatchObject({ pgmigrateFail: 5, pgmigrateSuccess: 0, contigAllocFail: 1 });
    expect(b.freePageCount()).toBe(32);
    b.check();
    ownerAgrees(b, owner);
  });

  test("no free page outside the range to move to: no-memory", () => {
    const { b, owner } = checkerboard();
    const held: number[] = [];
    for (let p = b.allocPages(0, { migratetype: MigrateType.Unmovable }); p >= 0; p = b.allocPages(0, { migratetype: MigrateType.Unmovable })) held.push(p);
    for (const p of [4, 6, 8, 10]) b.freePages(p, 0);
    expect(b.allocContigRange(4, 8, owner)).toBe(-1);
    expect(b.lastContigFailure).toEqual({ reason: "no-memory", pfn: 5, order: 0 });
    expect(b.freePageCount()).toBe(4);
    b.check();
    ownerAgrees(b, owner, held.length - 4);
  });
});

describe("a mover that throws or lies during a contiguous allocation", () => {
  test("a throw is ERR_INVALID_STATE: the isolation undone, the target freed, every page accounted for", () => {
    const { b, owner } = checkerboard();
    owner.throwOn = 9;
    expect(codeOf(() => b.allocContigRange(4, 8, owner))).toBe("ERR_INVALID_STATE: the page mover threw in migrate: owner bug at 9");
    expect(owner.moves).toEqual([
      [5, 62, 0],
      [7, 60, 0],
    ]);
    expect(types(b)).toBe("MMMMMMMMMMMMMMMM");
    expect(b.freePageCount()).toBe(32);
    b.check();
    ownerAgrees(b, owner);
    // The allocator is usable again (the migration guard was released).
    owner.throwOn = -1;
    expect(b.allocContigRange(4, 8, owner)).toBe(4);
    b.check();
  });

  test.each([
    ["keep-source", "said it moved pfn 5 to pfn 62 (order 0) but still holds pfn 5"],
    ["no-target", "said it moved pfn 5 to pfn 62 (order 0) but does not hold pfn 62"],
    ["non-boolean", "migrate must return a boolean, got"],
  ] as const)("a lie (%s) is ERR_INVALID_STATE with the block left where it was", (lie, text) => {
    const { b, owner } = checkerboard();
    owner.lie = lie;
    const message = codeOf(() => b.allocContigRange(4, 8, owner));
    expect(message).toContain("ERR_INVALID_STATE");
    expect(message).toContain(text);
    expect(b.blockOf(5)).toMatchObject({ pfn: 5, order: 0, state: "allocated", migratetype: MigrateType.Movable });
    expect(b.blockOf(62)).toMatchObject({ state: "free" });
    expect(b.freePageCount()).toBe(32);
    expect(types(b)).toBe("MMMMMMMMMMMMMMMM");
    b.check();
  });

  test("a mover that starts compaction or another contiguous allocation from its callback is refused", () => {
    const { b, owner } = checkerboard();
    owner.migrate = () => {
      b.allocContigRange(20, 2, owner);
      return true;
    };
    expect(codeOf(() => b.allocContigRange(4, 8, owner))).toContain("allocContigRange cannot start: a migration is already running");
    b.check();
  });
});

describe("bad input is a typed error and changes nothing", () => {
  const machine = () => small({ pageblockOrder: 2 }, [
    [0, 24, 0],
    [32, 48, 0],
    [48, 64, 1],
  ]);
  const owner = new Owner();

  test.each([
    ["a non-integer start", (b: ReturnType<typeof small>) => b.allocContigRange(1.5, 2, owner), "ERR_INVALID_ARGUMENT", "startPfn must be an integer, got 1.5"],
    ["a string count", (b: ReturnType<typeof small>) => b.allocContigRange(0, "2" as unknown as number, owner), "ERR_INVALID_ARGUMENT", "count must be an integer"],
    ["count 0", (b: ReturnType<typeof small>) => b.allocContigRange(0, 0, owner), "ERR_OUT_OF_RANGE", "count must be at least 1 page, got 0"],
    ["count -4", (b: ReturnType<typeof small>) => b.allocContigRange(8, -4, owner), "ERR_OUT_OF_RANGE", "got -4"],
    ["a start outside RAM", (b: ReturnType<typeof small>) => b.allocContigRange(64, 1, owner), "ERR_NOT_RAM", "startPfn 64 is not RAM"],
    ["a start in a hole", (b: ReturnType<typeof small>) => b.allocContigRange(26, 1, owner), "ERR_NOT_RAM", "startPfn 26 is not RAM"],
    ["a range across a hole", (b: ReturnType<typeof small>) => b.allocContigRange(20, 8, owner), "ERR_NOT_RAM", "crosses a hole or the end of RAM at pfn 24"],
    ["a range past the end of RAM", (b: ReturnType<typeof small>) => b.allocContigRange(60, 8, owner), "ERR_NOT_RAM", "at pfn 64"],
    ["a range across nodes", (b: ReturnType<typeof small>) => b.allocContigRange(44, 8, owner), "ERR_INVALID_ARGUMENT", "crosses from node 0 to node 1 at pfn 48"],
    ["no mover", (b: ReturnType<typeof small>) => b.allocContigRange(0, 4, {} as Owner), "ERR_INVALID_ARGUMENT", "a page mover must be an object"],
    ["freeing a range never taken", (b: ReturnType<typeof small>) => b.freeContigRange(0, 4), "ERR_NOT_ALLOCATED", "pfn 0 in the range of 4 pages at pfn 0 was not taken by allocContigRange (it is free)"],
    ["freeing across a hole", (b: ReturnType<typeof small>) => b.freeContigRange(20, 8), "ERR_NOT_RAM", "crosses a hole"],
  ])("%s", (_, fn, code, text) => {
    const b = machine();
    b.allocContigRange(4, 4, owner);
    expectMisuse(b, () => fn(b), code, text);
  });

  test("freeing pages of a taken range with freePages, or a range that is only partly taken, is ERR_NOT_ALLOCATED", () => {
    const b = machine();
    const a = b.allocPages(0, { migratetype: MigrateType.Unmovable });
    expect(b.allocContigRange(4, 4, owner)).toBe(4);
    expectMisuse(b, () => b.freePages(4, 2), "ERR_NOT_ALLOCATED", "pfn 4 (order 2) belongs to a range taken by allocContigRange; give it back with freeContigRange");
    expectMisuse(b, () => b.cpu(0).freePages(4, 2), "ERR_NOT_ALLOCATED", "belongs to a range taken by allocContigRange");
    expectMisuse(b, () => b.freeContigRange(2, 4), "ERR_NOT_ALLOCATED", "pfn 2 in the range of 4 pages at pfn 2 was not taken by allocContigRange (it is free)");
    expectMisuse(b, () => b.freeContigRange(a, 1), "ERR_NOT_ALLOCATED", `pfn ${a} in the range of 1 pages at pfn ${a} was not taken by allocContigRange (it is allocated by allocPages, not allocContigRange)`);
    b.freeContigRange(4, 4);
    expectMisuse(b, () => b.freeContigRange(4, 4), "ERR_NOT_ALLOCATED", "(it is free)");
  });
});

describe("a CMA area", () => {
  test("its pageblocks are CMA, its free pages on the CMA lists; only Movable requests use it, after the Movable lists", () => {
    const b = small({ pageblockOrder: 2, cma: { startPfn: 48, count: 16 } });
    expect(lists(b)).toEqual(["n0 o4 M: 0,16,32", "n0 o4 C: 48"]);
    expect(b.pagetypeinfo()[0]!.pageblocks).toEqual([0, 12, 0, 4, 0]);
    expect(b.formatPagetypeinfo().split("\n")).toContain("Node    0, zone   Normal, type          CMA      0      0      0      0      1");
    expect(b.freePageCount()).toBe(64);
    const unmovable: number[] = [];
    for (let p = b.allocPages(0, { migratetype: MigrateType.Unmovable }); p >= 0; p = b.allocPages(0, { migratetype: MigrateType.Unmovable })) unmovable.push(p);
    // 48 pages, all below the area; the 16 free CMA pages do not count for an Unmovable request's watermark.
    expect(unmovable.length).toBe(48);
    expect(Math.max(...unmovable)).toBe(47);
    expect(b.freePageCount()).toBe(16);
    expect(b.allocPages(0, { migratetype: MigrateType.Reclaimable })).toBe(-1);
    const movable: number[] = [];
    for (let p = b.allocPages(0, { migratetype: MigrateType.Movable }); p >= 0; p = b.allocPages(0, { migratetype: MigrateType.Movable })) movable.push(p);
    expect(movable).toEqual(Array.from({ length: 16 }, (_, i) => 48 + i));
    expect(b.pagetypeinfo()[0]!.pageblocks).toEqual([12, 0, 0, 4, 0]);
    b.check();
  });

  test("once free CMA pages are more than half the free pages, Movable requests alternate between CMA and Movable (the kernel's balancing)", () => {
    const b = small({ pageblockOrder: 2, cma: 16 });
    const got: number[] = [];
    for (let i = 0; i < 40; i++) got.push(b.allocPages(0, { migratetype: MigrateType.Movable }));
    expect(got.slice(30)).toEqual([30, 31, 32, 48, 33, 49, 34, 50, 35, 51]);
    b.check();
  });

  test("a CMA page freed through a CPU front goes on the Movable per-CPU list and drains back to the CMA lists", () => {
    const b = small({ pageblockOrder: 2, cma: { startPfn: 48, count: 16 }, cpus: 1, pcpHigh: 100 });
    // Movable requests take CMA pages once free CMA pages are more than half of the free pages.
    let p = 0;
    while (p < 48) p = b.allocPages(0, { migratetype: MigrateType.Movable });
    expect(p).toBe(48);
    b.cpu(0).freePages(48, 0);
    expect(b.blockOf(48)).toMatchObject({ state: "per-cpu", migratetype: MigrateType.Movable });
    b.check();
    b.drainAll();
    expect(b.blockOf(48)).toMatchObject({ pfn: 48, order: 4, state: "free", migratetype: MigrateType.Cma });
    b.check();
  });

  test("the size form rounds up to whole pageblocks and goes at the top of the highest RAM range that holds it", () => {
    expect(small({ pageblockOrder: 2, cma: 5 }).pagetypeinfo()[0]!.pageblocks).toEqual([0, 14, 0, 2, 0]);
    expect(small({ pageblockOrder: 2, cma: 5 }).pageblockMigratetype(56)).toBe(MigrateType.Cma);
    const split = small({ pageblockOrder: 2, cma: 16 }, [
      [0, 40, 0],
      [48, 58, 0],
    ]);
    // [48, 58) holds only 8 aligned pages: the area goes at the top of [0, 40).
    expect([23, 24, 39].map((p) => split.pageblockMigratetype(p))).toEqual([MigrateType.Movable, MigrateType.Cma, MigrateType.Cma]);
    split.check();
  });

  test.each([
    [{ startPfn: 2, count: 4 }, "ERR_NOT_ALIGNED", "cma must start and end on a pageblock boundary (multiples of 4 pages), got startPfn 2, count 4"],
    [{ startPfn: 4, count: 6 }, "ERR_NOT_ALIGNED", "count 6"],
    [{ startPfn: 60, count: 8 }, "ERR_NOT_RAM", "crosses a hole or the end of RAM at pfn 64"],
    [{ startPfn: 1.5, count: 8 }, "ERR_INVALID_ARGUMENT", "cma.startPfn must be an integer, got 1.5"],
    [{ startPfn: 0, count: 0 }, "ERR_OUT_OF_RANGE", "cma.count must be at least 1 page, got 0"],
    [0, "ERR_OUT_OF_RANGE", "cma"],
    [1000, "ERR_OUT_OF_RANGE", "no RAM range holds 1000 pageblock-aligned pages"],
    ["16", "ERR_INVALID_ARGUMENT", "cma must be an object"],
    [null, "ERR_INVALID_ARGUMENT", "cma must be an object"],
  ] as const)("cma %j is refused: %s", (cma, code, text) => {
    expect(codeOf(() => small({ pageblockOrder: 2, cma: cma as never }))).toContain(`${code}: `);
    expect(codeOf(() => small({ pageblockOrder: 2, cma: cma as never }))).toContain(text);
  });

  test("across nodes is refused", () => {
    expect(codeOf(() => small({ pageblockOrder: 2, cma: { startPfn: 24, count: 16 } }, [
      [0, 32, 0],
      [32, 64, 1],
    ]))).toBe("ERR_INVALID_ARGUMENT: the range of 16 pages at pfn 24 crosses from node 0 to node 1 at pfn 32; it must lie on one node");
  });

  test("a Reclaimable page the mover agrees to move goes to a Reclaimable block outside the area, never into CMA", () => {
    const b = small({ pageblockOrder: 2, cma: { startPfn: 48, count: 16 } });
    const owner = new Owner();
    const r = b.allocPages(0, { migratetype: MigrateType.Reclaimable });
    owner.add(r, 0, 0);
    expect(b.allocContigRange(r, 4, owner)).toBe(r);
    const [[from, to]] = owner.moves as [[number, number, number]];
    // The first Reclaimable request claimed the whole order-4 block [0, 16): the target is the next Reclaimable page outside [0, 4).
    expect([from, to]).toEqual([0, 4]);
    expect(b.blockOf(to)).toMatchObject({ pfn: to, order: 0, state: "allocated", migratetype: MigrateType.Reclaimable });
    expect(b.pageblockMigratetype(to)).toBe(MigrateType.Reclaimable);
    b.check();
  });

  test("shared mode does not take the option", () => {
    expect(codeOf(() => SharedBuddy.create(pageMap([[0, 64]]), { maxOrder: 4, pageblockOrder: 2, cma: 16 } as never))).toBe("ERR_INVALID_ARGUMENT: a CMA area is not available in shared mode; got cma 16");
  });

  test("a contiguous range inside the area is taken and the area stays CMA", () => {
    const b = small({ pageblockOrder: 2, cma: { startPfn: 48, count: 16 } });
    const owner = new Owner();
    for (let i = 0; i < 52; i++) {
      const p = b.allocPages(0, { migratetype: MigrateType.Movable });
      owner.add(p, 0, i);
    }
    // Pages 48..55 of the area are owned Movable pages (balancing put them there); [48, 56) moves them out.
    for (const p of [0, 2, 4, 6, 8, 10, 12, 14]) {
      b.freePages(p, 0);
      owner.pages.delete(p);
    }
    expect([...owner.pages.keys()].filter((p) => p >= 48 && p < 56)).toEqual([48, 49, 50, 51, 52, 53, 54, 55]);
    expect(b.allocContigRange(48, 8, owner)).toBe(48);
    expect(owner.moves.map(([from]) => from)).toEqual([48, 49, 50, 51, 52, 53, 54, 55]);
    expect(owner.moves.every(([, to]) => to < 48 || to >= 56)).toBe(true);
    expect([48, 52, 56, 60].map((p) => b.pageblockMigratetype(p))).toEqual([MigrateType.Cma, MigrateType.Cma, MigrateType.Cma, MigrateType.Cma]);
    b.check();
    ownerAgrees(b, owner, 8);
  });
});

describe("allocContigPages (alloc_contig_pages)", () => {
  /** 40 owned Movable pages on a machine with a 16-page CMA area at the top: 0..32 and 48..51 of it used. */
  function withCma() {
    const b = small({ pageblockOrder: 2, cma: 16 });
    const owner = new Owner();
    for (let i = 0; i < 40; i++) owner.add(b.allocPages(0, { migratetype: MigrateType.Movable }), 0, i);
    return { b, owner };
  }

  test("is served from the CMA area first, aligned to the request by default", () => {
    const { b, owner } = withCma();
    expect(b.allocContigPages(8, owner)).toBe(48);
    expect(owner.moves).toEqual([
      [48, 36, 0],
      [49, 37, 0],
      [50, 38, 0],
      [51, 39, 0],
    ]);
    expect(b.lastContigFailure).toBeNull();
    expect(b.allocContigPages(8, owner, { alignPages: 4 })).toBe(56);
    expect(lists(b)).toEqual(["n0 o3 M: 40"]);
    expect(b.compactionCounters()).toMatchObject({ contigAllocSuccess: 2, pgmigrateSuccess: 4 });
    b.check();
    ownerAgrees(b, owner, 16);
  });

  test("skips candidates holding an Unmovable page, tries the next aligned one, and says no-range when none qualifies", () => {
    const b = small({ pageblockOrder: 2 });
    const owner = new Owner();
    expect(b.allocPages(0, { migratetype: MigrateType.Unmovable })).toBe(0);
    // [0, 16) holds pfn 0; [16, 32), [32, 48), [48, 64) are free.
    expect(b.allocContigPages(16, owner, { alignPages: 16 })).toBe(16);
    expect(b.allocContigPages(16, owner, { alignPages: 16 })).toBe(32);
    expect(b.allocContigPages(16, owner, { alignPages: 16 })).toBe(48);
    expect(b.allocContigPages(16, owner, { alignPages: 16 })).toBe(-1);
    expect(b.lastContigFailure).toEqual({ reason: "no-range", pfn: -1, order: -1 });
    // At a finer alignment the search goes past pfn 0 to the next multiple of 4.
    expect(b.allocContigPages(12, owner, { alignPages: 4 })).toBe(4);
    expect(b.compactionCounters()).toMatchObject({ contigAllocSuccess: 4, contigAllocFail: 1 });
    b.check();
  });

  test("searches the given node first, then the others nearest first unless thisNode", () => {
    const b = small({ pageblockOrder: 2 }, [
      [0, 32, 0],
      [32, 64, 1],
    ]);
    const owner = new Owner();
    expect(b.allocContigPages(16, owner, { node: 1 })).toBe(32);
    expect(b.allocContigPages(16, owner, { node: 1 })).toBe(48);
    expect(b.allocContigPages(16, owner, { node: 1, thisNode: true })).toBe(-1);
    expect(b.allocContigPages(16, owner, { node: 1 })).toBe(0);
    b.check();
  });

  test.each([
    ["count 0", (b: ReturnType<typeof small>) => b.allocContigPages(0, new Owner()), "ERR_OUT_OF_RANGE", "count"],
    ["a fractional count", (b: ReturnType<typeof small>) => b.allocContigPages(2.5, new Owner()), "ERR_INVALID_ARGUMENT", "count"],
    ["alignPages 3", (b: ReturnType<typeof small>) => b.allocContigPages(4, new Owner(), { alignPages: 3 }), "ERR_OUT_OF_RANGE", "alignPages must be a power of two, got 3"],
    ["alignPages 0", (b: ReturnType<typeof small>) => b.allocContigPages(4, new Owner(), { alignPages: 0 }), "ERR_OUT_OF_RANGE", "alignPages"],
    ["an unknown node", (b: ReturnType<typeof small>) => b.allocContigPages(4, new Owner(), { node: 7 }), "ERR_OUT_OF_RANGE", "node 7 is not a node"],
    ["thisNode not a boolean", (b: ReturnType<typeof small>) => b.allocContigPages(4, new Owner(), { thisNode: 1 as never }), "ERR_INVALID_ARGUMENT", "thisNode must be a boolean, got 1"],
    ["options not an object", (b: ReturnType<typeof small>) => b.allocContigPages(4, new Owner(), 5 as never), "ERR_INVALID_ARGUMENT", "allocContigPages options must be an object"],
    ["no mover", (b: ReturnType<typeof small>) => b.allocContigPages(4, null as never), "ERR_INVALID_ARGUMENT", "a page mover must be an object"],
  ])("%s is a typed error that changes nothing", (_, fn, code, text) => {
    const b = small({ pageblockOrder: 2 });
    b.allocPages(0, { migratetype: MigrateType.Unmovable });
    expectMisuse(b, () => fn(b), code, text);
  });
});

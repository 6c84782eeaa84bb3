import { describe, expect, test } from "vitest";
import { COMPACT_CLUSTER_MAX, MigrateType } from "@mmkit/buddy";
import { Owner, checkerboard, ownerAgrees } from "./compaction-owner.ts";
import { codeOf, expectMisuse, lists, small } from "./helpers.ts";

describe("compaction on a hand-made fragmented machine", () => {
  test("an order-2 run moves the two pages of the first pageblock to the top and stops with success", () => {
    const { b, owner } = checkerboard();
    expect(b.buddyinfo()[0]!.freeBlocks).toEqual([32, 0, 0, 0, 0]);
    expect(b.allocPages(2)).toBe(-1);
    const runs = b.compact(owner, { order: 2 });
    expect(runs).toEqual([{ node: 0, order: 2, result: "success", migrated: 2, failed: 0, migrateScanned: 4, freeScanned: 3, isolated: 4 }]);
    expect(owner.moves).toEqual([
      [1, 60, 0],
      [3, 62, 0],
    ]);
    expect(b.buddyinfo()[0]!.freeBlocks).toEqual([28, 0, 1, 0, 0]);
    b.check();
    ownerAgrees(b, owner);
    expect(b.blockOf(0)).toMatchObject({ pfn: 0, order: 2, state: "free" });
    expect(b.compactionCounters()).toEqual({
      compactStall: 0,
      compactFail: 0,
      compactSuccess: 0,
      compactMigrateScanned: 4,
      compactFreeScanned: 3,
      compactIsolated: 4,
      pgmigrateSuccess: 2,
      pgmigrateFail: 0,
      compactDaemonWake: 0,
      contigAllocSuccess: 0,
      contigAllocFail: 0,
    });
  });

  test("a whole-zone run packs the owned pages at the top until the scanners meet", () => {
    const { b, owner } = checkerboard();
    const [run] = b.compact(owner);
    expect(run).toEqual({ node: 0, order: -1, result: "complete", migrated: 14, failed: 1, migrateScanned: 32, freeScanned: 28, isolated: 30 });
    expect(b.buddyinfo()[0]!.freeBlocks).toEqual([4, 0, 1, 1, 1]);
    expect([...owner.pages.keys()].sort((x, y) => x - y).slice(0, 6)).toEqual([29, 31, 33, 35, 36, 37]);
    b.check();
    ownerAgrees(b, owner);
    // A second run finds nothing more to do: the free pages left are all below the free scanner.
    const [again] = b.compact(owner);
    expect(again!.result).toBe("complete");
    expect(again!.migrated).toBe(0);
    b.check();
    ownerAgrees(b, owner);
  });

  test("unmovable pageblocks and pinned or refusing pages stay where they are", () => {
    const { b, owner } = checkerboard();
    // An unmovable request falls back and claims the top pageblock, [60, 64): no target there now.
    const unmovable: number[] = [];
    for (let i = 0; i < 2; i++) unmovable.push(b.allocPages(0, { migratetype: MigrateType.Unmovable }));
    expect(unmovable).toEqual([60, 62]);
    expect(b.pageblockMigratetype(60)).toBe(MigrateType.Unmovable);
    owner.pinned.add(1);
    owner.refuseMove.add(3);
    const [run] = b.compact(owner, { order: 2 });
    expect(owner.moves).toEqual([
      [5, 56, 0],
      [7, 58, 0],
    ]);
    expect(owner.pages.has(1) && owner.pages.has(3) && owner.pages.has(61) && owner.pages.has(63)).toBe(true);
    expect(run).toEqual({ node: 0, order: 2, result: "success", migrated: 2, failed: 1, migrateScanned: 8, freeScanned: 3, isolated: 5 });
    expect(b.compactionCounters().pgmigrateFail).toBe(1);
    b.check();
    ownerAgrees(b, owner, 2);
  });

  test("a batch isolates at most COMPACT_CLUSTER_MAX pages", () => {
    const { b, owner } = checkerboard();
    const sizes: number[] = [];
    const migrate = owner.migrate.bind(owner);
    let batch = 0;
    owner.isMovable = (pfn: number) => {
      batch++;
      return owner.pages.has(pfn);
    };
    owner.migrate = (from, to, order) => {
      if (batch > 0) sizes.push(batch);
      batch = 0;
      return migrate(from, to, order);
    };
    b.compact(owner);
    expect(COMPACT_CLUSTER_MAX).toBe(32);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(COMPACT_CLUSTER_MAX);
    b.check();
  });
});

describe("a mover that misbehaves", () => {
  test("a throw stops the run with ERR_INVALID_STATE, the moves done kept and every page accounted for", () => {
    const { b, owner } = checkerboard();
    owner.throwOn = 5;
    expect(codeOf(() => b.compact(owner))).toBe("ERR_INVALID_STATE: the page mover threw in migrate: owner bug at 5");
    expect(owner.moves).toEqual([
      [1, 60, 0],
      [3, 62, 0],
    ]);
    expect(b.freePageCount()).toBe(32);
    b.check();
    ownerAgrees(b, owner);
    expect(b.compactionCounters()).toMatchObject({ pgmigrateSuccess: 2, pgmigrateFail: 1 });
  });

  test.each([
    ["keep-source", "said it moved pfn 1 to pfn 60 (order 0) but still holds pfn 1"],
    ["no-target", "said it moved pfn 1 to pfn 60 (order 0) but does not hold pfn 60"],
    ["non-boolean", "migrate must return a boolean, got"],
  ] as const)("a lie (%s) is ERR_INVALID_STATE with the block left where it was", (lie, text) => {
    const { b, owner } = checkerboard();
    owner.lie = lie;
    const message = codeOf(() => b.compact(owner));
    expect(message).toContain("ERR_INVALID_STATE");
    expect(message).toContain(text);
    expect(b.blockOf(1)).toMatchObject({ pfn: 1, order: 0, state: "allocated" });
    expect(b.blockOf(60)).toMatchObject({ state: "free" });
    expect(b.freePageCount()).toBe(32);
    b.check();
  });

  test("a mover that frees the page it is asked to move, or starts another run, is ERR_INVALID_STATE", () => {
    const freeing = checkerboard();
    freeing.owner.migrate = (from: number) => {
      freeing.b.freePages(from, 0);
      freeing.owner.pages.delete(from);
      return true;
    };
    expect(codeOf(() => freeing.b.compact(freeing.owner))).toBe(
      "ERR_INVALID_STATE: the page mover changed the allocator while moving pfn 1 to pfn 60 (it freed or reused one of them); the move is not counted",
    );
    expect(freeing.b.freePageCount()).toBe(33);
    freeing.b.check();
    ownerAgrees(freeing.b, freeing.owner);

    const nested = checkerboard();
    nested.owner.migrate = () => {
      nested.b.compact(nested.owner);
      return true;
    };
    expect(codeOf(() => nested.b.compact(nested.owner))).toBe("ERR_INVALID_STATE: the page mover threw in migrate: compaction cannot start: a migration is already running on this allocator (called from a page mover?)");
    expect(nested.b.freePageCount()).toBe(32);
    nested.b.check();
    ownerAgrees(nested.b, nested.owner);
    // The allocator is usable afterwards: a clean run works.
    nested.owner.migrate = Owner.prototype.migrate;
    expect(nested.b.compact(nested.owner, { order: 2 })[0]!.result).toBe("success");
    nested.b.check();
  });

  test("bad arguments throw and change nothing", () => {
    const { b, owner } = checkerboard();
    expectMisuse(b, () => b.compact(null as never), "ERR_INVALID_ARGUMENT", "a page mover must be an object");
    expectMisuse(b, () => b.compact({ isMovable: () => true } as never), "ERR_INVALID_ARGUMENT", "isMovable, migrate and holds");
    expectMisuse(b, () => b.compact(owner, { order: 5 }), "ERR_OUT_OF_RANGE", "order");
    expectMisuse(b, () => b.compact(owner, { order: -2 }), "ERR_OUT_OF_RANGE", "order");
    expectMisuse(b, () => b.compact(owner, { node: 3 }), "ERR_OUT_OF_RANGE", "node 3");
    expectMisuse(b, () => b.compact(owner, null as never), "ERR_INVALID_ARGUMENT", "compact options");
    expectMisuse(b, () => b.allocPagesCompacting(2, {} as never), "ERR_INVALID_ARGUMENT", "page mover");
    expectMisuse(b, () => b.compactionSuitable(7), "ERR_OUT_OF_RANGE", "order");
    expect(codeOf(() => (b.extfragThreshold = 1001))).toContain("ERR_OUT_OF_RANGE");
    expect(b.extfragThreshold).toBe(500);
  });
});

describe("direct compaction, suitability and deferral", () => {
  test("a failed order-2 allocation compacts and then succeeds", () => {
    const { b, owner } = checkerboard();
    expect(b.compactionSuitable(2)).toBe("continue");
    const got = b.allocPagesCompacting(2, owner, { migratetype: MigrateType.Movable });
    expect(got).toEqual({ pfn: 0, compaction: "success" });
    expect(b.compactionCounters()).toMatchObject({ compactStall: 1, compactSuccess: 1, compactFail: 0, pgmigrateSuccess: 2 });
    expect(b.compactionDeferral()).toEqual({ considered: 0, deferShift: 0, orderFailed: 3 });
    b.check();
    ownerAgrees(b, owner, 4);
    // Order 0 or a first try that succeeds runs no compaction.
    expect(b.allocPagesCompacting(0, owner).compaction).toBeNull();
  });

  test("suitability: too few free pages is skipped; a low fragmentation index for a costly order is skipped", () => {
    const b = small({ pageblockOrder: 2 }, [[0, 128]]);
    expect(b.compactionSuitable(4)).toBe("success");
    const blocks: number[] = [];
    for (let i = 0; i < 16; i++) blocks.push(b.allocPages(3, { migratetype: MigrateType.Movable }));
    expect(blocks).toEqual(Array.from({ length: 16 }, (_, i) => i * 8));
    for (const pfn of [0, 16, 32, 48]) b.freePages(pfn, 3);
    // 32 free pages: an order-4 compaction needs more than the watermark + compact_gap(4) = 32.
    b.extfragThreshold = 0;
    expect(b.compactionSuitable(4)).toBe("skipped");
    b.freePages(64, 3);
    // Five order-3 blocks: fragmentation index of order 4 = 1000 - (1000 + 40 * 1000 / 16) / 5 = 300.
    expect(b.fragmentationIndex(4)).toBe(300);
    expect(b.compactionSuitable(4)).toBe("continue");
    b.extfragThreshold = 300;
    expect(b.compactionSuitable(4)).toBe("skipped");
    b.extfragThreshold = 500;
    expect(b.compactionSuitable(4)).toBe("skipped");
    // Orders up to PAGE_ALLOC_COSTLY_ORDER ignore the index.
    expect(b.compactionSuitable(3)).toBe("success");
    b.check();
  });

  test("a run that completes without success defers compaction of that order, the shift growing to 6", () => {
    const { b, owner } = checkerboard();
    // Pin every owned page: nothing can move, order 3 never forms.
    for (const pfn of owner.pages.keys()) owner.pinned.add(pfn);
    const results: (string | null)[] = [];
    const shifts: number[] = [];
    for (let i = 0; i < 12; i++) {
      results.push(b.allocPagesCompacting(3, owner).compaction);
      shifts.push(b.compactionDeferral().deferShift);
    }
    expect(results).toEqual(["complete", "deferred", "complete", "deferred", "deferred", "deferred", "complete", "deferred", "deferred", "deferred", "deferred", "deferred"]);
    expect(shifts).toEqual([1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3]);
    let runs = 3;
    for (let i = 12; i < 200; i++) if (b.allocPagesCompacting(3, owner).compaction === "complete") runs++;
    // Runs at requests 1, 3, 7, 15, 31, 63, then every 64th: 127, 191.
    expect(runs).toBe(8);
    expect(b.compactionDeferral().deferShift).toBe(6);
    expect(b.compactionDeferral().orderFailed).toBe(0);
    expect(b.compactionCounters()).toMatchObject({ compactStall: 200, compactFail: 200, compactSuccess: 0 });
    b.check();
    ownerAgrees(b, owner);
  });
});

describe("proactive compaction (kcompactd's rule)", () => {
  test.each([
    [0, [], 98, [32, 0, 0, 0, 0]],
    [5, [], 98, [32, 0, 0, 0, 0]],
    [20, [{ node: 0, order: -1, result: "success", migrated: 4, failed: 0, migrateScanned: 8, freeScanned: 7, isolated: 8 }], 73, [24, 0, 0, 1, 0]],
    [50, [{ node: 0, order: -1, result: "success", migrated: 8, failed: 0, migrateScanned: 16, freeScanned: 15, isolated: 16 }], 49, [16, 0, 0, 0, 1]],
    [100, [{ node: 0, order: -1, result: "complete", migrated: 14, failed: 1, migrateScanned: 32, freeScanned: 28, isolated: 30 }], 11, [4, 0, 1, 1, 1]],
  ] as const)("proactiveness %i: score 98 -> runs, score after, free blocks", (proactiveness, runs, after, blocks) => {
    const { b, owner } = checkerboard();
    // 32 free single pages, none in a pageblock-sized block: zone score 100, weighted 64 * 100 / 65 = 98.
    expect(b.fragmentationScore()).toBe(98);
    // High mark min(max(100 - p, 5) + 10, 100): 100 for p 0 (disabled) and 5, so no run; 90, 60, 15 otherwise;
    // the run stops once the zone score is at most the low mark (80, 50, 5).
    expect(b.proactiveCompact(owner, proactiveness)).toEqual(runs);
    expect(b.fragmentationScore()).toBe(after);
    expect(b.buddyinfo()[0]!.freeBlocks).toEqual(blocks);
    // compact_daemon_wake: one per node the step woke up to compact; a second step finds the score below the mark.
    expect(b.compactionCounters().compactDaemonWake).toBe(runs.length);
    b.proactiveCompact(owner, proactiveness);
    expect(b.compactionCounters().compactDaemonWake).toBe(runs.length);
    b.check();
    ownerAgrees(b, owner);
  });

  test("bad proactiveness throws and changes nothing", () => {
    const { b, owner } = checkerboard();
    expectMisuse(b, () => b.proactiveCompact(owner, 101), "ERR_OUT_OF_RANGE", "proactiveness");
    expectMisuse(b, () => b.proactiveCompact(owner, 1.5), "ERR_INVALID_ARGUMENT", "proactiveness");
    expectMisuse(b, () => b.proactiveCompact(null as never), "ERR_INVALID_ARGUMENT", "page mover");
  });
});

describe("Reclaimable pages the owner agrees to move", () => {
  test("are left alone by default and moved with { reclaimable: true }, keeping their migratetype", () => {
    const b = small({ pageblockOrder: 2 });
    const owner = new Owner();
    // Pfns 0..7 Reclaimable (two Reclaimable pageblocks), the odd ones held and owned; 16..63 Movable, every odd one held (not owned).
    const reclaimable: number[] = [];
    for (let i = 0; i < 8; i++) reclaimable.push(b.allocPages(0, { migratetype: MigrateType.Reclaimable }));
    expect(reclaimable).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const p of reclaimable) {
      if (p % 2 === 0) b.freePages(p, 0);
      else owner.add(p, 0, p);
    }
    const movable: number[] = [];
    for (let i = 0; i < 48; i++) movable.push(b.allocPages(0, { migratetype: MigrateType.Movable }));
    for (const p of movable) if (p % 2 === 0) b.freePages(p, 0);
    expect(b.compact(owner)[0]).toMatchObject({ migrated: 0, isolated: 0 });
    expect(owner.moves).toEqual([]);
    expect(b.compact(owner, { reclaimable: true })[0]).toMatchObject({ result: "complete", migrated: 4, failed: 0, isolated: 8 });
    expect(owner.moves).toEqual([
      [1, 60, 0],
      [3, 62, 0],
      [5, 56, 0],
      [7, 58, 0],
    ]);
    for (const p of [56, 58, 60, 62]) expect(b.blockOf(p)).toMatchObject({ pfn: p, order: 0, state: "allocated", migratetype: MigrateType.Reclaimable });
    expect(b.blockOf(0)).toMatchObject({ pfn: 0, order: 4, state: "free", migratetype: MigrateType.Reclaimable });
    b.check();
    expectMisuse(b, () => b.compact(owner, { reclaimable: 1 as never }), "ERR_INVALID_ARGUMENT", "reclaimable must be a boolean, got 1");
  });
});

describe("compaction with a CMA area", () => {
  const cmaCheckerboard = () => checkerboard({ cma: { startPfn: 48, count: 16 } });

  test("CMA pageblocks are scanned and used as targets, as is_migrate_movable has it", () => {
    const { b, owner } = cmaCheckerboard();
    expect(lists(b)).toEqual(["n0 o0 M: 46,44,42,40,38,36,34,32,30,28,26,24,22,20,18,16,14,12,10,8,6,4,2,0", "n0 o0 C: 62,60,58,56,54,52,50,48"]);
    expect(b.compact(owner)[0]).toEqual({ node: 0, order: -1, result: "complete", migrated: 14, failed: 1, migrateScanned: 32, freeScanned: 28, isolated: 30 });
    expect(owner.moves.slice(0, 4)).toEqual([
      [1, 60, 0],
      [3, 62, 0],
      [5, 56, 0],
      [7, 58, 0],
    ]);
    expect(lists(b)).toEqual(["n0 o0 M: 34,32,30,28", "n0 o2 M: 24", "n0 o3 M: 16", "n0 o4 M: 0"]);
    b.check();
    ownerAgrees(b, owner);
  });

  test("when Reclaimable blocks may move, CMA pageblocks are no target", () => {
    const { b, owner } = cmaCheckerboard();
    b.compact(owner, { reclaimable: true });
    expect(owner.moves.length).toBeGreaterThan(0);
    expect(owner.moves.every(([, to]) => to < 48)).toBe(true);
    b.check();
    ownerAgrees(b, owner);
  });
});

import { describe, expect, test } from "vitest";
import { FALLBACK_ORDER, MigrateType } from "@mmkit/buddy";
import { lists, small } from "./helpers.ts";

const { Unmovable: U, Movable: M, Reclaimable: R } = MigrateType;
const blocks = (b: ReturnType<typeof small>) => b.pagetypeinfo()[0]!.pageblocks;

describe("migratetypes, fallback and pageblock stealing", () => {
  test("the kernel's fallback table", () => {
    expect(FALLBACK_ORDER).toEqual([
      [R, M],
      [R, U],
      [U, M],
    ]);
  });

  test("every pageblock starts Movable; a fallback of a pageblock or more takes it outright", () => {
    const b = small({ pageblockOrder: 2 });
    expect(blocks(b)).toEqual([0, 16, 0, 0, 0]);
    expect(b.allocPages(0, { migratetype: U })).toBe(0);
    expect(lists(b)).toEqual(["n0 o0 U: 1", "n0 o1 U: 2", "n0 o2 U: 4", "n0 o3 U: 8", "n0 o4 M: 16,32,48"]);
    expect(blocks(b)).toEqual([4, 12, 0, 0, 0]);
    expect(b.counters()).toMatchObject({ fallbacks: 1, pageblockSteals: 4 });
    expect(b.pageblockMigratetype(15)).toBe(U);
    expect(b.blockOf(0)).toMatchObject({ state: "allocated", migratetype: U });
    b.check();
  });

  test("Unmovable falls back to Reclaimable before Movable (at the same largest order)", () => {
    const b = small({ pageblockOrder: 2 }, [[0, 48]]);
    expect(b.allocPages(0, { migratetype: R })).toBe(0); // claims [0,16) for Reclaimable
    expect(b.allocPages(4, { migratetype: M })).toBe(16);
    // Free: Reclaimable o3 [8] and Movable o3 [40] (from [32,48)): both order 3.
    expect(b.allocPages(3, { migratetype: M })).toBe(32);
    expect(lists(b)).toEqual(["n0 o0 R: 1", "n0 o1 R: 2", "n0 o2 R: 4", "n0 o3 M: 40", "n0 o3 R: 8"]);
    expect(b.allocPages(0, { migratetype: U })).toBe(8);
    expect(b.pageblockMigratetype(8)).toBe(U);
    expect(b.pageblockMigratetype(40)).toBe(M);
    b.check();
  });

  test("a smaller fallback block claims its whole pageblock when half of it is free", () => {
    const b = small({ pageblockOrder: 3 }, [[0, 32]]);
    expect(b.allocPages(4, { migratetype: M })).toBe(0);
    expect(b.allocPages(0, { migratetype: M })).toBe(16);
    expect(b.allocPages(3, { migratetype: M })).toBe(24);
    expect(lists(b)).toEqual(["n0 o0 M: 17", "n0 o1 M: 18", "n0 o2 M: 20"]);
    // Pageblock [16,24): 7 pages free, 1 movable in use: 7 >= 4, so Unmovable claims it.
    expect(b.allocPages(0, { migratetype: U })).toBe(17);
    expect(lists(b)).toEqual(["n0 o1 U: 18", "n0 o2 U: 20"]);
    expect(blocks(b)).toEqual([1, 3, 0, 0, 0]);
    expect(b.counters()).toMatchObject({ fallbacks: 1, pageblockSteals: 1 });
    b.check();
  });

  test("too few free pages: a single block is taken and the pageblock keeps its type", () => {
    const b = small({ pageblockOrder: 3 }, [[0, 32]]);
    b.allocPages(4, { migratetype: M });
    const got = Array.from({ length: 7 }, () => b.allocPages(0, { migratetype: M }));
    expect(got).toEqual([16, 17, 18, 19, 20, 21, 22]);
    expect(b.allocPages(3, { migratetype: M })).toBe(24);
    expect(b.allocPages(0, { migratetype: U })).toBe(23);
    expect(b.pageblockMigratetype(23)).toBe(M);
    expect(b.blockOf(23)).toMatchObject({ migratetype: U, state: "allocated" });
    expect(b.counters()).toMatchObject({ fallbacks: 1, pageblockSteals: 0 });
    b.check();
  });

  test("a movable request that cannot claim a block splits the smallest fallback block", () => {
    const b = small({ pageblockOrder: 4 }, [[0, 32]]);
    expect(b.allocPages(0, { migratetype: U })).toBe(0);
    expect(b.allocPages(3, { migratetype: U })).toBe(8);
    expect(b.allocPages(2, { migratetype: U })).toBe(4);
    expect(b.allocPages(4, { migratetype: M })).toBe(16);
    expect(lists(b)).toEqual(["n0 o0 U: 1", "n0 o1 U: 2"]);
    expect(b.allocPages(0, { migratetype: M })).toBe(1); // not a split of [2,4)
    expect(lists(b)).toEqual(["n0 o1 U: 2"]);
    b.check();
  });

  test("stealWholeBlocks: false never changes a pageblock's type", () => {
    const b = small({ pageblockOrder: 2, stealWholeBlocks: false });
    expect(b.allocPages(0, { migratetype: U })).toBe(0);
    expect(lists(b)).toEqual(["n0 o0 M: 1", "n0 o1 M: 2", "n0 o2 M: 4", "n0 o3 M: 8", "n0 o4 M: 16,32,48"]);
    expect(blocks(b)).toEqual([0, 16, 0, 0, 0]);
    expect(b.counters()).toMatchObject({ fallbacks: 1, pageblockSteals: 0 });
    b.check();
  });

  test("groupByMobility: false treats every request as Movable", () => {
    const b = small({ groupByMobility: false, defaultMigratetype: U });
    expect(b.allocPages(0, { migratetype: R })).toBe(0);
    expect(b.blockOf(0).migratetype).toBe(M);
    expect(b.cpu(0).allocPages(0)).toBe(1);
    expect(b.counters().fallbacks).toBe(0);
    b.check();
  });

  test("pages of a retyped pageblock free to their pageblock's new type; merging across types retypes the buddy", () => {
    const b = small({ pageblockOrder: 2 });
    const p = b.allocPages(0, { migratetype: U }); // [0,16) becomes Unmovable
    b.freePages(p, 0);
    expect(lists(b)).toEqual(["n0 o4 U: 0", "n0 o4 M: 16,32,48"]);
    expect(b.allocPages(4, { migratetype: M })).toBe(16);
    b.freePages(16, 4);
    // Merging two blocks of a pageblock or more with different types: the buddy takes the freed block's type.
    const c = small({ pageblockOrder: 2, maxOrder: 5 });
    expect(c.allocPages(4, { migratetype: U })).toBe(0); // [0,32) becomes Unmovable
    expect(c.allocPages(4, { migratetype: U })).toBe(16);
    expect(c.allocPages(5, { migratetype: M })).toBe(32);
    c.freePages(16, 4);
    expect(c.allocPages(4, { migratetype: M })).toBe(16); // Movable takes [16,32) back
    c.freePages(16, 4);
    expect(lists(c)).toEqual(["n0 o4 M: 16"]);
    c.freePages(0, 4); // Unmovable [0,16) merges with Movable [16,32): one Unmovable order-5 block
    expect(lists(c)).toEqual(["n0 o5 U: 0"]);
    expect(c.pagetypeinfo()[0]!.pageblocks).toEqual([8, 8, 0, 0, 0]);
    c.check();
  });
});

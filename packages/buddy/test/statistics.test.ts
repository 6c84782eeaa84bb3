import { describe, expect, test } from "vitest";
import { BuddyAllocator, fragmentationIndex, unusableFreeIndex } from "@mmkit/buddy";
import { pageMap, small } from "./helpers.ts";

describe("fragmentation indices (kernel formulas, x1000)", () => {
  test("unusable_free_index", () => {
    expect(unusableFreeIndex(0, [4, 0, 1])).toBe(0);
    expect(unusableFreeIndex(1, [4, 0, 1])).toBe(500); // 4 of 8 free pages are single pages
    expect(unusableFreeIndex(2, [4, 0, 1])).toBe(500);
    expect(unusableFreeIndex(3, [4, 0, 1])).toBe(1000);
    expect(unusableFreeIndex(1, [3, 0, 0])).toBe(1000);
    expect(unusableFreeIndex(0, [0, 0, 0])).toBe(1000); // nothing free: all unusable
    expect(unusableFreeIndex(1, [1, 1, 1])).toBe(142); // (7 - 6) * 1000 / 7
  });

  test("fragmentation_index", () => {
    expect(fragmentationIndex(0, [8])).toBe(-1000); // would succeed
    expect(fragmentationIndex(3, [8, 0, 0, 0])).toBe(750); // 1000 - (1000 + 1000) / 8
    expect(fragmentationIndex(3, [0, 0, 2, 0])).toBe(0); // 1000 - (1000 + 1000) / 2
    expect(fragmentationIndex(3, [0, 0, 0, 0])).toBe(0);
    expect(fragmentationIndex(10, [100, 50, 10])).toBe(993); // 1000 - floor((1000 + floor(240000 / 1024)) / 160)
  });
});

describe("buddyinfo and pagetypeinfo", () => {
  test("after a fragmenting pattern", () => {
    const b = small({ pageblockOrder: 2 }, [
      [0, 32, 0],
      [32, 64, 1],
    ]);
    const pages = Array.from({ length: 16 }, () => b.allocPages(0, { node: 0 }));
    for (let i = 0; i < 16; i += 2) b.freePages(pages[i]!, 0); // every other page free again
    expect(b.buddyinfo()).toEqual([
      { node: 0, freeBlocks: [8, 0, 0, 0, 1] },
      { node: 1, freeBlocks: [0, 0, 0, 0, 2] },
    ]);
    expect(b.formatBuddyinfo()).toBe("Node 0, zone   Normal      8      0      0      0      1\nNode 1, zone   Normal      0      0      0      0      2");
    expect(b.unusableFreeIndex(1, 0)).toBe(333); // 8 of 24
    expect(b.unusableFreeIndex(1)).toBe(142); // 8 of 56 over both nodes
    expect(b.fragmentationIndex(4, 0)).toBe(-1000);
    expect(b.fragmentationIndex(1, 0)).toBe(-1000);
    expect(b.largestFreeOrder(0)).toBe(4);
    expect(b.pagetypeinfo()[0]).toEqual({ node: 0, freeBlocks: [[0, 0, 0, 0, 0], [8, 0, 0, 0, 1], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]], pageblocks: [0, 8, 0, 0, 0] });
    expect(b.formatPagetypeinfo().split("\n")).toEqual([
      "Page block order: 2",
      "Pages per block:  4",
      "",
      "Free pages count per migrate type at order      0      1      2      3      4",
      "Node    0, zone   Normal, type    Unmovable      0      0      0      0      0",
      "Node    0, zone   Normal, type      Movable      8      0      0      0      1",
      "Node    0, zone   Normal, type  Reclaimable      0      0      0      0      0",
      "Node    0, zone   Normal, type          CMA      0      0      0      0      0",
      "Node    0, zone   Normal, type      Isolate      0      0      0      0      0",
      "Node    1, zone   Normal, type    Unmovable      0      0      0      0      0",
      "Node    1, zone   Normal, type      Movable      0      0      0      0      2",
      "Node    1, zone   Normal, type  Reclaimable      0      0      0      0      0",
      "Node    1, zone   Normal, type          CMA      0      0      0      0      0",
      "Node    1, zone   Normal, type      Isolate      0      0      0      0      0",
      "",
      "Number of blocks type    Unmovable      Movable  Reclaimable          CMA      Isolate",
      "Node 0, zone   Normal            0            8            0            0            0",
      "Node 1, zone   Normal            0            8            0            0            0",
    ]);
  });

  test("pageblocks split by a hole or a node are counted once, for the node of their first RAM page", () => {
    const b = new BuddyAllocator(
      pageMap([
        [0, 6, 0],
        [6, 20, 1],
        [24, 32, 1],
      ]),
      { maxOrder: 3, pageblockOrder: 3, minFreeKbytes: 0 },
    );
    expect(b.pagetypeinfo().map((n) => n.pageblocks)).toEqual([
      [0, 1, 0, 0, 0],
      [0, 3, 0, 0, 0],
    ]);
  });
});

import { describe, expect, test } from "vitest";
import { MetadataArena, MemoryMap } from "@mmkit/physmem";
import { BuddyAllocator } from "@mmkit/buddy";
import { lists, pageMap, small } from "./helpers.ts";

describe("initial free lists", () => {
  test("RAM goes in maximal aligned blocks, in address order", () => {
    const b = small();
    expect(lists(b)).toEqual(["n0 o4 M: 0,16,32,48"]);
    expect(b.freePageCount()).toBe(64);
    expect(b.managedPages()).toBe(64);
    b.check();
  });

  test("blocks never cross a hole or a node", () => {
    // node 0: [0,20) and [24,40) with a hole [20,24); node 1: [40,64)
    const b = small({}, [
      [0, 20, 0],
      [24, 40, 0],
      [40, 64, 1],
    ]);
    // 32 (node 0) and 40 (node 1) are order-3 buddies, both free: they must not merge.
    expect(lists(b)).toEqual(["n0 o2 M: 16", "n0 o3 M: 24,32", "n0 o4 M: 0", "n1 o3 M: 40", "n1 o4 M: 48"]);
    expect(b.buddyinfo()).toEqual([
      { node: 0, freeBlocks: [0, 0, 1, 2, 1] },
      { node: 1, freeBlocks: [0, 0, 0, 1, 1] },
    ]);
    const p = b.allocPages(3, { node: 1 });
    expect(p).toBe(40);
    b.freePages(p, 3);
    expect(lists(b)).toContain("n1 o3 M: 40");
    b.check();
  });

  test("a map that does not start at pfn 0", () => {
    const b = small({}, [[1000, 1030]]);
    // 1000 = 8 * 125: order 3 at 1000, then 1008 (o4 would end at 1024: ok), 1024 (o2), 1028 (o1)
    expect(lists(b)).toEqual(["n0 o1 M: 1028", "n0 o2 M: 1024", "n0 o3 M: 1000", "n0 o4 M: 1008"]);
    b.check();
  });

  test("metadata: one 64-byte struct page per spanned page, per-node and per-CPU lines", () => {
    const arena = new MetadataArena();
    new BuddyAllocator(MemoryMap.uniform(64 * 4096), { arena, maxOrder: 4, cpus: 2, minFreeKbytes: 0 });
    expect(arena.byLabel()).toEqual({
      "buddy memmap (struct page)": 64 * 64,
      "buddy free_area": 5 * 64,
      "buddy zone": 64,
      "buddy pcp": 2 * 128,
      "buddy pageblock flags": 4,
    });
  });
});

describe("split and merge", () => {
  test("expand() keeps the lower half and puts upper halves at the list heads", () => {
    const b = small();
    expect(b.allocPages(0)).toBe(0);
    expect(lists(b)).toEqual(["n0 o0 M: 1", "n0 o1 M: 2", "n0 o2 M: 4", "n0 o3 M: 8", "n0 o4 M: 16,32,48"]);
    expect(b.counters().splits).toBe(4);
    expect(b.allocPages(0)).toBe(1);
    expect(b.allocPages(1)).toBe(2);
    expect(b.allocPages(0)).toBe(4);
    expect(lists(b)).toEqual(["n0 o0 M: 5", "n0 o1 M: 6", "n0 o3 M: 8", "n0 o4 M: 16,32,48"]);
    b.check();
  });

  test("frees merge with free buddies up to maxOrder", () => {
    const b = small();
    const [a, c, d, e] = [b.allocPages(0), b.allocPages(0), b.allocPages(1), b.allocPages(0)];
    expect([a, c, d, e]).toEqual([0, 1, 2, 4]);
    b.freePages(1, 0); // buddy 0 allocated: stays at order 0, at the head
    expect(lists(b)).toEqual(["n0 o0 M: 1,5", "n0 o1 M: 6", "n0 o3 M: 8", "n0 o4 M: 16,32,48"]);
    b.freePages(0, 0); // merges with 1 into [0,2); buddy 2 allocated
    expect(lists(b)).toEqual(["n0 o0 M: 5", "n0 o1 M: 0,6", "n0 o3 M: 8", "n0 o4 M: 16,32,48"]);
    b.freePages(2, 1); // [0,4)
    expect(lists(b)).toEqual(["n0 o0 M: 5", "n0 o1 M: 6", "n0 o2 M: 0", "n0 o3 M: 8", "n0 o4 M: 16,32,48"]);
    b.freePages(4, 0); // 4+5, +6, +0, +8: back to one order-4 block, at the head (order >= maxOrder - 1)
    expect(lists(b)).toEqual(["n0 o4 M: 0,16,32,48"]);
    expect(b.counters().merges).toBe(1 + 1 + 4);
    b.check();
  });

  test("buddy_merge_likely: a block whose next-higher buddy is free goes to the tail", () => {
    const b = small();
    expect(b.allocPages(1)).toBe(0);
    expect(b.allocPages(1)).toBe(2);
    expect(b.allocPages(2)).toBe(4);
    expect(b.allocPages(3)).toBe(8);
    expect(b.allocPages(1)).toBe(16);
    expect(lists(b)).toEqual(["n0 o1 M: 18", "n0 o2 M: 20", "n0 o3 M: 24", "n0 o4 M: 32,48"]);
    b.freePages(4, 2); // its order-3 buddy [8,16) is allocated: head
    expect(lists(b)).toEqual(["n0 o1 M: 18", "n0 o2 M: 4,20", "n0 o3 M: 24", "n0 o4 M: 32,48"]);
    b.freePages(2, 1); // buddy 0 allocated, but [4,8) (the order-2 buddy of [0,4)) is free: tail
    expect(lists(b)).toEqual(["n0 o1 M: 18,2", "n0 o2 M: 4,20", "n0 o3 M: 24", "n0 o4 M: 32,48"]);
    b.freePages(0, 1); // 0+2 -> [0,4) + [4,8) -> [0,8); [8,16) allocated; order 3 = maxOrder - 1: head
    expect(lists(b)).toEqual(["n0 o1 M: 18", "n0 o2 M: 20", "n0 o3 M: 0,24", "n0 o4 M: 32,48"]);
    b.check();
  });

  test("allocations and frees of every order return the allocator to its initial lists", () => {
    const b = new BuddyAllocator(pageMap([[0, 1024]]), { minFreeKbytes: 0, defaultMigratetype: 1 });
    const initial = lists(b);
    const got: [number, number][] = [];
    for (let o = 0; o <= 9; o++) got.push([b.allocPages(o), o]);
    expect(got.map(([p]) => p)).toEqual([0, 2, 4, 8, 16, 32, 64, 128, 256, 512]);
    expect(b.freePageCount()).toBe(1);
    for (const [p, o] of got.reverse()) b.freePages(p, o);
    expect(lists(b)).toEqual(initial);
    b.check();
  });
});

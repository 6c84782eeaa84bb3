import { ProbingArena } from "@mmkit/physmem";
import { describe, expect, test } from "vitest";
import { BuddyAllocator } from "@mmkit/buddy";
import { lists, pageMap, small } from "./helpers.ts";

describe("per-CPU lists", () => {
  test("an empty list refills `batch` pages, in allocation order, and hands out the first", () => {
    const b = small({ pcpBatch: 4, pcpHigh: 12 });
    const cpu = b.cpu(0);
    expect(cpu.allocPages(0)).toBe(0);
    expect(cpu.pages).toBe(3);
    expect(lists(b)).toEqual(["n0 o2 M: 4", "n0 o3 M: 8", "n0 o4 M: 16,32,48"]);
    expect(b.blockOf(1)).toMatchObject({ pfn: 1, order: 0, state: "per-cpu" });
    expect([cpu.allocPages(0), cpu.allocPages(0), cpu.allocPages(0)]).toEqual([1, 2, 3]);
    expect(cpu.pages).toBe(0);
    expect(b.counters()).toMatchObject({ pcpRefills: 1, pcpAllocs: 4, allocs: 4 });
    expect(cpu.allocPages(0)).toBe(4); // the next refill: 4..7
    expect(b.counters().pcpRefills).toBe(2);
    b.check();
  });

  test("orders 1..3 refill max(batch >> order, 2) blocks; order 4 bypasses the lists", () => {
    const b = small({ pcpBatch: 8, pcpHigh: 100 });
    const cpu = b.cpu(0);
    expect(cpu.allocPages(1)).toBe(0); // 4 blocks of order 1: 0,2,4,6
    expect(cpu.pages).toBe(6);
    expect(cpu.allocPages(3)).toBe(8); // max(8 >> 3, 2) = 2 blocks of order 3: 8, 16 (from the order-4 block at 16)
    expect(cpu.pages).toBe(6 + 8);
    expect(cpu.allocPages(4)).toBe(32);
    expect(cpu.pages).toBe(14);
    cpu.freePages(32, 4); // straight back to the free lists
    expect(lists(b)).toEqual(["n0 o3 M: 24", "n0 o4 M: 32,48"]);
    b.check();
  });

  test("frees go to the list head; at `high` a batch drains from the tails, starting with that list", () => {
    const b = small({ pcpBatch: 2, pcpHigh: 6 });
    const cpu = b.cpu(0);
    const got = Array.from({ length: 6 }, () => cpu.allocPages(0));
    expect(got).toEqual([0, 1, 2, 3, 4, 5]);
    expect(cpu.pages).toBe(0);
    for (const p of [0, 1, 2, 3, 4]) cpu.freePages(p, 0);
    expect(cpu.pages).toBe(5); // list: 4,3,2,1,0
    cpu.freePages(5, 0); // count 6 = high: drain 2 from the tail: 0 then 1 (they merge into [0,2))
    expect(cpu.pages).toBe(4);
    expect(b.counters().pcpDrains).toBe(1);
    expect(b.blockOf(0)).toMatchObject({ pfn: 0, order: 1, state: "free" });
    expect(b.blockOf(2)).toMatchObject({ pfn: 2, order: 0, state: "per-cpu" });
    expect([cpu.allocPages(0), cpu.allocPages(0)]).toEqual([5, 4]); // hot pages first (LIFO)
    cpu.drain();
    expect(cpu.pages).toBe(0);
    b.freePages(4, 0);
    b.freePages(5, 0);
    expect(lists(b)).toEqual(["n0 o4 M: 0,16,32,48"]);
    b.check();
  });

  test("pages freed on another CPU land on that CPU's list", () => {
    const b = small({ cpus: 2, pcpBatch: 2, pcpHigh: 10 });
    const p = b.cpu(0).allocPages(0);
    b.cpu(1).freePages(p, 0);
    expect([b.cpu(0).pages, b.cpu(1).pages]).toEqual([1, 1]);
    expect(b.cpu(1).allocPages(0)).toBe(p);
    b.cpu(1).freePages(p, 0);
    b.drainAll();
    expect(b.perCpuPageCount()).toBe(0);
    expect(lists(b)).toEqual(["n0 o4 M: 0,16,32,48"]);
  });

  test("each CPU allocates from its home node; cpuNodes places CPUs", () => {
    const map = pageMap([
      [0, 32, 0],
      [32, 64, 1],
    ]);
    const b = new BuddyAllocator(map, { maxOrder: 4, minFreeKbytes: 0, cpus: 3, cpuNodes: [1, 0, 1], pcpBatch: 1, pcpHigh: 4 });
    expect([b.cpu(0).node, b.cpu(1).node, b.cpu(2).node]).toEqual([1, 0, 1]);
    expect(b.cpu(0).allocPages(0)).toBe(32);
    expect(b.cpu(1).allocPages(0)).toBe(0);
    expect(b.cpu(2).allocPages(0, { node: 0 })).toBe(1);
    b.check();
  });

  test("the default batch and high follow zone_batchsize and zone_highsize", () => {
    const b = new BuddyAllocator(pageMap([[0, 262144]]), { cpus: 2 });
    expect(b.perCpuLimits(0)).toEqual({ batch: 63, high: 643 }); // low watermark 1286 split over 2 CPUs
    const c = new BuddyAllocator(pageMap([[0, 4096]]));
    // 16 MiB: min_free_kbytes 512 -> min 128, low 160; batch 4096>>10=4, /4=1, 2^0-1=0, at least 1
    expect(c.perCpuLimits(0)).toEqual({ batch: 1, high: 160 });
  });

  test("the fronts of two allocators keep to their own allocator", () => {
    const a = small({ cpus: 2, pcpBatch: 2, pcpHigh: 8 });
    const b = small({ cpus: 2, pcpBatch: 4, pcpHigh: 8 }, [[0, 32]]);
    const fronts = [a.cpu(0), a.cpu(1), b.cpu(0), b.cpu(1)];
    const got = fronts.map((f) => f.allocPages(0));
    expect(got).toEqual([0, 2, 0, 4]);
    expect(fronts.map((f) => f.pages)).toEqual([1, 1, 3, 3]);
    fronts.forEach((f, i) => f.freePages(got[i]!, 0));
    expect([a.perCpuPageCount(), b.perCpuPageCount()]).toEqual([4, 8]);
    expect(a.counters()).toMatchObject({ allocs: 2, frees: 2, pcpAllocs: 2, pcpFrees: 2 });
    expect(b.counters()).toMatchObject({ allocs: 2, frees: 2, pcpAllocs: 2, pcpFrees: 2 });
    a.drainAll();
    expect(lists(a)).toEqual(["n0 o4 M: 0,16,32,48"]);
    expect(b.perCpuPageCount()).toBe(8);
    a.check();
    b.check();
  });

  test("a page of another node freed through a front goes to that node's list of this CPU", () => {
    const map = pageMap([
      [0, 32, 0],
      [32, 64, 1],
    ]);
    const b = new BuddyAllocator(map, { maxOrder: 4, minFreeKbytes: 0, cpus: 2, pcpBatch: 1, pcpHigh: 4, defaultMigratetype: 1 });
    const p = b.cpu(1).allocPages(0); // CPU 1 lives on node 1
    expect(p).toBe(32);
    b.cpu(0).freePages(p, 0);
    expect(b.cpu(0).pages).toBe(1);
    expect([b.perCpuPageCount(0), b.perCpuPageCount(1)]).toEqual([0, 1]);
    expect(b.cpu(0).allocPages(0, { node: 1 })).toBe(32);
    b.check();
  });

  test("failed allocations drain the per-CPU lists and retry", () => {
    const b = small({ cpus: 2, pcpBatch: 8, pcpHigh: 64 }, [[0, 16]]);
    // cpu 0 holds 8 free pages on its list; the free lists hold the other 8 (one order-3 block).
    expect(b.cpu(0).allocPages(0)).toBe(0);
    b.cpu(0).freePages(0, 0);
    expect([b.cpu(0).pages, b.freePageCount()]).toEqual([8, 8]);
    expect(b.allocPages(3)).toBe(8);
    expect(b.allocPages(3)).toBe(0); // only possible after draining cpu 0
    expect(b.perCpuPageCount()).toBe(0);
    expect(b.allocPages(0)).toBe(-1);
    b.check();
  });
});

describe("cache lines (ProbingArena)", () => {
  test("the order-0 fast path touches no free list", () => {
    const arena = new ProbingArena();
    const b = new BuddyAllocator(pageMap([[0, 4096]]), { arena, minFreeKbytes: 0, pcpBatch: 31, pcpHigh: 64 });
    const cpu = b.cpu(0);
    const warm = [cpu.allocPages(0), cpu.allocPages(0)];
    cpu.freePages(warm[0]!, 0);
    cpu.freePages(warm[1]!, 0);
    const alloc = arena.measure(() => cpu.allocPages(0));
    expect(alloc.linesByLabel).toEqual({ "buddy memmap (struct page)": 2, "buddy zone": 1, "buddy pcp": 1 });
    const free = arena.measure(() => cpu.freePages(alloc.value, 0));
    expect(free.linesByLabel).toEqual({ "buddy memmap (struct page)": 2, "buddy pageblock flags": 1, "buddy pcp": 1 });
  });

  test("orders 1..3 through a front: the watermark check adds the free_area line it finds a block in", () => {
    const arena = new ProbingArena();
    const b = new BuddyAllocator(pageMap([[0, 4096]]), { arena, minFreeKbytes: 0, pcpBatch: 31, pcpHigh: 64 });
    const cpu = b.cpu(0);
    const warm = [cpu.allocPages(1), cpu.allocPages(1)];
    cpu.freePages(warm[0]!, 1);
    cpu.freePages(warm[1]!, 1);
    const alloc = arena.measure(() => cpu.allocPages(1));
    expect(alloc.value).toBe(2);
    expect(alloc.linesByLabel).toEqual({ "buddy memmap (struct page)": 2, "buddy zone": 1, "buddy pcp": 1, "buddy free_area": 1 });
    const free = arena.measure(() => cpu.freePages(alloc.value, 1));
    expect(free.linesByLabel).toEqual({ "buddy memmap (struct page)": 2, "buddy pageblock flags": 1, "buddy pcp": 1 });
    b.check();
  });

  test("the buddy path: an order-0 alloc that splits an order-10 block, and the free that merges it back", () => {
    const arena = new ProbingArena();
    const b = new BuddyAllocator(pageMap([[0, 4096]]), { arena, minFreeKbytes: 0, defaultMigratetype: 1 });
    const alloc = arena.measure(() => b.allocPages(0));
    // 11 free_area lines (one per order), the zone, the block's record and the 10 halves' records,
    // plus the list neighbour of the block taken (pfn 1024's record, now the list head).
    expect(alloc.linesByLabel).toEqual({ "buddy free_area": 11, "buddy zone": 1, "buddy memmap (struct page)": 12 });
    const free = arena.measure(() => b.freePages(alloc.value, 0));
    expect(free.lines).toBe(alloc.lines + 1); // and the pageblock flags byte
  });
});

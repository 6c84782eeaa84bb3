import { MemdescType, memdescType } from "@mmkit/memdesc-lookup";
import { MiB } from "@mmkit/physmem";
import { describe, expect, test } from "vitest";
import { SYSTEMS, buildSystem, freeBlocksPerOrder, fragmentation, highOrderSuccess, metadataFigures, systemNamed } from "../../src/systems/index.js";
import { churnSlots } from "../../src/floors/index.js";
import { randomIndices } from "../../src/workloads/random.js";
import { bytesAllocatedByFrees, imixSizes, probeLinesPerOp, runPageChurn } from "../../src/workloads/system-churn.js";
import { contiguousOnFragmented, Q7_SHAPE } from "../../src/workloads/contiguous.js";
import { pteSplits } from "../../src/workloads/system-state.js";
import { withoutPteCache } from "../../src/suites/systems.js";

const BYTES = 16 * MiB;
const PAGES = BYTES / 4096;
const SEED = 0x6d6d6b74;

describe("the shipped systems", () => {
  test("are the two designs and the three crossings, each one line of data", () => {
    expect(SYSTEMS.map((s) => [s.name, s.pageAllocator, s.descriptors])).toEqual([
      ["classic", "buddy", "memmap-64"],
      ["memdesc", "potad", "maple"],
      ["buddy+maple", "buddy", "maple"],
      ["potad+memmap", "potad", "memmap-64"],
      ["potad+memdesc8", "potad", "memdesc-8"],
    ]);
    expect(systemNamed("nope")).toBeUndefined();
  });

  test.each(SYSTEMS.map((s) => [s.name, s] as const))("%s builds fresh: every page free in maximal blocks, nothing fragmented", (_, def) => {
    const system = buildSystem(def, { bytes: BYTES });
    const blocks = freeBlocksPerOrder(system);
    // buddy: 4 MiB blocks (order 10); POTAD: the whole 16 MiB space in one block (order 12).
    expect(blocks).toEqual(def.pageAllocator === "buddy" ? [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4] : [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(fragmentation(system, 9)).toEqual({ order: 9, freePages: PAGES, largestFreePages: def.pageAllocator === "buddy" ? 1024 : 4096, unusableFree: 0, extfrag: -1000 });
    const meta = metadataFigures(system);
    const descriptorBytes = { "memmap-64": 64 * PAGES, "memdesc-8": 8 * PAGES, maple: meta.byComponent.descriptors }[def.descriptors];
    expect(meta.byComponent.descriptors).toBe(descriptorBytes);
    expect(meta.total).toBe(Object.values(meta.byComponent).reduce((a, b) => a + b, 0));
    expect(meta.perPage).toBe(meta.total / PAGES);
    system.check();
  });

  test.each(SYSTEMS.map((s) => [s.name, s] as const))("%s: the face records each allocation's descriptor and erases it on free", (_, def) => {
    const system = buildSystem(def, { bytes: BYTES });
    const pfn = system.pages.allocPages(3, MemdescType.Slab);
    const desc = system.router.physToDesc(pfn * 4096 + 5 * 4096 + 17)!;
    expect([desc.typeName, desc.firstPfn, desc.lastPfn, desc.owner?.name]).toEqual(["slab", pfn, pfn + 7, "slab"]);
    expect(memdescType(system.table.get(pfn + 7))).toBe(MemdescType.Slab);
    system.pages.freePages(pfn, 3);
    expect(system.table.get(pfn)).toBe(-1);
    expect(system.router.physToDesc(pfn * 4096)).toBeUndefined();
    const before = [system.pages.allocs, system.pages.frees, system.table.metadataBytes];
    expect(() => system.pages.freePages(pfn, 3)).toThrow(expect.objectContaining({ code: "ERR_NOT_ALLOCATED", message: `pfn ${pfn} was not allocated through this system` }));
    expect([system.pages.allocs, system.pages.frees, system.table.metadataBytes]).toEqual(before);
    system.check();
  });

  test.each(SYSTEMS.map((s) => [s.name, s] as const))("%s: a free the allocator refuses leaves the descriptor where it was (the face clears first, then puts it back)", (_, def) => {
    const system = buildSystem(def, { bytes: BYTES });
    const pfn = system.pages.allocPages(2, MemdescType.Anon);
    const memdesc = system.table.get(pfn);
    const state = () => [system.table.get(pfn), system.table.get(pfn + 3), system.router.physToDesc(pfn * 4096 + 2 * 4096), system.pages.allocs, system.pages.frees, system.pages.livePages];
    const before = state();
    // An interior pfn and a wrong order: the allocator throws after the table gave the entry up.
    expect(() => system.pages.freePages(pfn + 1, 2)).toThrow(expect.objectContaining({ code: expect.stringMatching(/^ERR_/) }));
    expect(state()).toEqual(before);
    expect(() => system.pages.freePages(pfn, 1)).toThrow(expect.objectContaining({ code: expect.stringMatching(/^ERR_/) }));
    expect(state()).toEqual(before);
    system.check();
    system.pages.freePages(pfn, 2);
    expect([system.table.get(pfn), system.table.get(pfn + 3)]).toEqual([-1, -1]);
    expect(memdesc).toBeGreaterThanOrEqual(0);
    system.check();
  });

  test.each(SYSTEMS.map((s) => [s.name, s] as const))("%s passes check() on every part after churn, IMIX fragments and PTE-mapped pages", (_, def) => {
    const system = buildSystem(def, { bytes: BYTES });
    const live = 500;
    const { held, heldOrder } = runPageChurn(system, live, churnSlots(SEED, live), randomIndices(SEED, "t/orders", 1 << 16, 4), 5_000);
    const sizes = imixSizes(SEED, 4096);
    const frags = Array.from(sizes.subarray(0, 1000), (size) => system.fragmentCache!.alloc(size));
    expect(frags.every((a) => a >= 0)).toBe(true);
    const pte = Array.from({ length: 600 }, () => system.allocPteMapped());
    expect(pte.every((p) => p >= 0)).toBe(true);
    system.check();
    // Every live page allocation is in the table under its own range.
    for (let i = 0; i < live; i++) {
      const range = { firstPfn: 0, lastPfn: 0 };
      expect(system.table.range(held[i]!, range)).toBe(true);
      expect(range).toEqual({ firstPfn: held[i]!, lastPfn: held[i]! + 2 ** heldOrder[i]! - 1 });
    }
    // The fragment cache's blocks are net-pool memory; the PTE cache's pages page-table memory.
    expect(system.router.physToDesc(frags[0]!)?.owner?.name).toBe("page_frag_cache");
    expect(system.router.physToDesc(pte[0]! * 4096)?.owner?.name).toBe("pte-mapped cache");
    for (const a of frags) system.fragmentCache!.free(a);
    for (const p of pte) system.freePteMapped(p);
    for (let i = 0; i < live; i++) system.pages.freePages(held[i]!, heldOrder[i]!);
    system.check();
    const cached = system.fragmentCache!.stats().blocksInUse + system.pteCache!.stats().regions;
    // With memdescs from slab caches, the slabs' own pages are allocations of the face too, and the
    // caches' blocks are the only allocations whose memdescs are still out.
    const slabs = system.memdescSlabs === null ? 0 : system.memdescSlabs.slab.stats().caches.reduce((n, c) => n + c.slabs, 0);
    expect(system.pages.allocs - system.pages.frees).toBe(cached + slabs);
    expect(system.memdescSlabs?.figures().memdescs ?? cached).toBe(cached);
  });
});

describe("metrics", () => {
  test("metadata per page: struct page twice in classic, a tree in memdesc, 8 bytes in potad+memdesc8", () => {
    const per = (name: string): Record<string, number> => metadataFigures(buildSystem(systemNamed(name)!, { bytes: BYTES })).byComponent;
    expect(per("classic").descriptors).toBe(64 * PAGES);
    expect(per("classic").allocator).toBeGreaterThan(64 * PAGES); // struct page + free_area, zone, pcp, pageblock flags
    expect(per("potad+memdesc8").descriptors).toBe(8 * PAGES);
    // POTAD: per block, not per page: the same bytes for 16 and 64 MiB, fewer than an 8-byte array for 16 MiB.
    const potad16 = per("memdesc").allocator!;
    expect(metadataFigures(buildSystem(systemNamed("memdesc")!, { bytes: 64 * MiB })).byComponent.allocator).toBe(potad16);
    expect(potad16).toBeLessThan(8 * PAGES);
  });

  test("high-order success takes blocks and gives them back", () => {
    const system = buildSystem(systemNamed("classic")!, { bytes: BYTES });
    // 16 MiB is eight order-9 blocks; the eighth would take the zone below its min watermark.
    expect(highOrderSuccess(system, 9, 10)).toBe(7);
    expect(freeBlocksPerOrder(system)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4]);
  });

  test("lines per op from the probe: the tree costs the most lines, the 8-byte array the fewest", () => {
    const slots = churnSlots(SEED, 300);
    const orders = randomIndices(SEED, "t/orders", 1 << 16, 4);
    const lines = Object.fromEntries(["classic", "memdesc", "potad+memdesc8"].map((n) => [n, probeLinesPerOp(systemNamed(n)!, { bytes: BYTES }, 300, 200, slots, orders)]));
    // Deterministic: the same seed gives the same lines every run.
    expect(probeLinesPerOp(systemNamed("classic")!, { bytes: BYTES }, 300, 200, slots, orders)).toEqual(lines.classic);
    expect(lines.memdesc!.descriptors).toBeGreaterThan(lines.classic!.descriptors);
    expect(lines["potad+memdesc8"]!.descriptors).toBeLessThan(lines.classic!.descriptors);
    // The same POTAD under both; in memdesc it also serves the pages of the memdesc slabs.
    expect([lines.memdesc!.allocator, lines["potad+memdesc8"]!.allocator]).toEqual([2.1475, 2.1075]);
  });

  test("lines per op count the steady state: POTAD's table doubling right after a fill is left out, and shows as the worst op if counted", () => {
    const slots = churnSlots(SEED, 2000);
    const orders = randomIndices(SEED, "systems/orders", 1 << 16, 4);
    // POTAD with counted memdescs: in memdesc the memdesc slabs' pages make the table double during the fill instead.
    const memdesc = systemNamed("potad+memdesc8")!;
    const steady = probeLinesPerOp(memdesc, { bytes: 64 * MiB }, 2000, 500, slots, orders);
    expect([steady.warmup, steady.allocator, steady.maxAllocator]).toEqual([4000, 2.086, 69]);
    expect(probeLinesPerOp(systemNamed("memdesc")!, { bytes: 64 * MiB }, 2000, 500, slots, orders).allocator).toBe(2.09);
    // Counted from the fill, the window holds the doubling of POTAD's block table: one alloc copies it.
    const startUp = probeLinesPerOp(memdesc, { bytes: 64 * MiB }, 2000, 500, slots, orders, 0);
    expect([startUp.allocator, startUp.maxAllocator]).toEqual([14.584, 12291]);
    expect(probeLinesPerOp(systemNamed("classic")!, { bytes: 64 * MiB }, 2000, 500, slots, orders).allocator).toBe(5.142);
  });

  test("freeing allocates no metadata in any system", () => {
    const orders = randomIndices(SEED, "t/orders", 1 << 16, 4);
    for (const def of SYSTEMS) expect([def.name, bytesAllocatedByFrees(def, { bytes: BYTES }, 1000, orders)]).toEqual([def.name, { bytes: 0, frees: 1000 }]);
  });

  test("8 MiB@1 MiB on a fragmented machine: POTAD serves some, the buddy allocator none (4 MiB max order)", () => {
    const potad = contiguousOnFragmented(systemNamed("memdesc")!, { bytes: 64 * MiB }, SEED, Q7_SHAPE);
    const buddy = contiguousOnFragmented(systemNamed("classic")!, { bytes: 64 * MiB }, SEED, Q7_SHAPE);
    expect(buddy.served).toBe(0);
    expect(potad.attempts).toBe(8);
    expect(potad.served).toBeGreaterThan(0);
  });

  test("the PTE-mapped cache splits the direct map once per 2 MiB it takes; without it every scattered page splits one", () => {
    const withCache = pteSplits(systemNamed("classic")!, { bytes: BYTES }, SEED, 300, 3_000);
    const without = pteSplits(withoutPteCache(systemNamed("classic")!), { bytes: BYTES }, SEED, 300, 3_000);
    expect(withCache.splits).toBe(1);
    expect(withCache.cacheBytes).toBe(2 * MiB);
    expect(without.cacheBytes).toBe(0);
    expect(without.splits).toBeGreaterThan(withCache.splits);
  });
});

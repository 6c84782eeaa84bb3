import { DirectMap, MemoryMap, MiB } from "@mmkit/physmem";
import { PteMappedCache, SHRINK_EMPTY, SHRINK_STOP, DEFAULT_SEEKS } from "@mmkit/pte-cache";
import { describe, expect, test } from "vitest";
import { FakePageSource } from "./fake-page-source.js";
import { ListHost, makeSystem } from "./setup.js";

describe("shrinking", () => {
  test("whole free regions go back as order-9 blocks and the direct map returns to its earlier shape", () => {
    const map = MemoryMap.uniform(2048 * MiB);
    const directMap = new DirectMap(map); // 1 GiB leaves
    const source = new FakePageSource(map.presentPages);
    const cache = new PteMappedCache({ source, directMap });
    const before = directMap.counters();
    const pfns = Array.from({ length: 2000 }, () => cache.alloc());
    expect(directMap.counters().directMap4k).toBe(4 * 2 * MiB);
    for (const p of pfns) cache.free(p);
    expect(cache.stats()).toMatchObject({ regionsFullyFree: 4, freeablePages: 2048, cachedPages: 2048 });
    source.logCalls = true;
    expect(cache.shrink(2048)).toBe(2048);
    // Least recently used first: the block freed to first is region 0.
    expect(source.calls).toEqual(["free 0 9", "free 512 9", "free 1024 9", "free 1536 9"]);
    const after = directMap.counters();
    expect(after.directMap4k).toBe(before.directMap4k);
    expect(after.directMap2M).toBe(before.directMap2M);
    expect(after.directMap1G).toBe(before.directMap1G);
    expect(after.pageTableBytes).toBe(before.pageTableBytes);
    expect(after.collapses2M).toBe(4);
    expect(after.collapses1G).toBe(1);
    expect(cache.stats()).toMatchObject({ collapses: 4, shrinkerReturnedPages: 2048, shrinkerReturnedRegions: 4, regions: 0, cachedPages: 0 });
    expect(source.usedPages).toBe(0);
    cache.check();
    directMap.check();
  });

  test("a shrink prefers whole regions, even past what was asked", () => {
    const { cache, source } = makeSystem();
    source.failOrder9 = true;
    const pieces = [cache.alloc(), cache.alloc()];
    source.failOrder9 = false;
    const block = Array.from({ length: 512 }, () => cache.alloc());
    for (const p of [...pieces, ...block]) cache.free(p);
    expect(cache.freeablePages()).toBe(514);
    expect(cache.shrink(1)).toBe(512); // the whole block, not one of the pieces
    expect(cache.stats()).toMatchObject({ shrinkerReturnedRegions: 1, cachedPages: 2 });
    expect(cache.shrink(1)).toBe(1);
    expect(cache.shrink(5)).toBe(1);
    expect(cache.shrink(5)).toBe(0);
    cache.check();
  });

  test("free pages of a partly used block stay pinned unless the source can split blocks", () => {
    const { cache, source } = makeSystem();
    const a = Array.from({ length: 10 }, () => cache.alloc());
    cache.free(a[3]!);
    expect(cache.freeablePages()).toBe(0);
    expect(cache.shrink(100)).toBe(0);
    expect(cache.stats()).toMatchObject({ cachedPages: 503, wholeRegions: 1 });
    expect(source.usedPages).toBe(512);
    cache.check();
  });

  test("with splitBlocks a partly used block is broken and its free pages go back one by one", () => {
    const { cache, source } = makeSystem({ splitBlocks: true });
    source.splitPages = true;
    const a = Array.from({ length: 10 }, () => cache.alloc());
    cache.free(a[3]!);
    expect(cache.freeablePages()).toBe(503);
    expect(cache.shrink(2)).toBe(2);
    expect(cache.pageState(3)).toBe(0);
    expect(cache.regions()).toEqual([{ pfn: 0, node: 0, held: 510, free: 501, whole: false, splitByCache: true, list: "pieces" }]);
    expect(cache.shrink(1000)).toBe(501);
    expect(source.usedPages).toBe(9);
    // The pages still in use come back to the cache when freed, and go back one by one.
    for (const p of a) if (p !== 3) cache.free(p);
    expect(cache.shrink(1000)).toBe(9);
    expect(cache.stats()).toMatchObject({ regions: 0, collapses: 1, inUsePages: 0 });
    expect(source.usedPages).toBe(0);
    cache.check();
  });

  test("the shrinker registers with its host and reports counts the way the registry expects", () => {
    const host = new ListHost();
    const { cache, source } = makeSystem({ mib: 16, nodes: 2, host });
    expect(host.shrinkers).toEqual([cache.shrinker]);
    const s = cache.shrinker;
    expect([s.name, s.seeks, s.batch, s.numaAware]).toEqual(["pte-cache", DEFAULT_SEEKS, 512, true]);
    expect(s.count({ nid: 0 })).toBe(SHRINK_EMPTY);
    const a = cache.alloc();
    expect(s.count({ nid: 0 })).toBe(0); // 511 cached, none freeable (pinned by the block)
    cache.free(a);
    expect(s.count({ nid: 0 })).toBe(512);
    expect(s.count({ nid: 1 })).toBe(SHRINK_EMPTY);
    expect(s.scan({ nid: 1, nrToScan: 128 })).toBe(SHRINK_STOP);
    expect(s.scan({ nid: 0, nrToScan: 128 })).toBe(512);
    expect(s.scan({ nid: 0, nrToScan: 0 })).toBe(0);
    expect(source.usedPages).toBe(0);
    cache.dispose();
    cache.dispose();
    expect(host.shrinkers).toEqual([]);
  });

  test("per-node lists: refills land on the node of their block and shrink(nid) touches only that node", () => {
    const { cache, source, map } = makeSystem({ mib: 8, nodes: 2 }); // node 1 from pfn 1024
    const a = Array.from({ length: 1024 }, () => cache.alloc()); // node 0 full
    const b = cache.alloc();
    expect(b).toBe(1024);
    expect(map.nodeOf(b)).toBe(1);
    for (const p of a) cache.free(p);
    cache.free(b);
    expect([cache.freeablePages(0), cache.freeablePages(1)]).toEqual([1024, 512]);
    expect(cache.alloc(1)).toBe(1024); // preferred node
    expect(cache.alloc(0)).toBe(512); // most recently freed region of node 0
    cache.free(1024);
    cache.free(512);
    expect(cache.shrink(10_000, 1)).toBe(512);
    expect(cache.regions().map((r) => [r.pfn, r.node])).toEqual([
      [512, 0],
      [0, 0],
    ]);
    expect(source.usedPages).toBe(1024);
    cache.check();
  });

  test("metadata grows with the regions held and shrinks back after a drain", () => {
    const { cache, arena } = makeSystem({ mib: 64 });
    const base = arena.bytes;
    const pfns = Array.from({ length: 64 * 256 }, () => cache.alloc()); // 32 regions
    const grown = arena.bytes;
    expect(grown).toBeGreaterThan(base);
    // 32 regions in 32 slots: 32 B record + 128 B page maps + 4 B free-slot stack + 8 B hash each.
    const labels = arena.byLabel();
    expect([labels["pte-cache region records"], labels["pte-cache region page maps"], labels["pte-cache free slots"], labels["pte-cache region index"]]).toEqual([32 * 32, 32 * 128, 32 * 4, 32 * 8]);
    for (const p of pfns) cache.free(p);
    expect(cache.drain()).toBe(64 * 256);
    expect(arena.bytes).toBe(base);
    cache.check();
  });

  test("free() and alloc() from the cache allocate no metadata", () => {
    const { cache, arena } = makeSystem();
    const a = Array.from({ length: 600 }, () => cache.alloc());
    arena.sealWhile(() => {
      for (const p of a) cache.free(p);
      for (let i = 0; i < 600; i++) cache.alloc();
    });
    cache.check();
  });
});

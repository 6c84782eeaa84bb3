import { DirectMap, MemoryMap, MiB, Protection } from "@mmkit/physmem";
import { PageState, PteMappedCache, REGION_PAGES } from "@mmkit/pte-cache";
import { describe, expect, test } from "vitest";
import { FakePageSource } from "./fake-page-source.js";
import { makeSystem } from "./setup.js";

describe("refill from order-9 blocks", () => {
  test.each([1, 2, 511, 512, 513, 1024, 1500, 4096])("%i allocations cause ceil(N/512) 2 MiB splits", (n) => {
    const { cache, directMap, source } = makeSystem({ mib: 16 });
    const pfns: number[] = [];
    for (let i = 0; i < n; i++) pfns.push(cache.alloc());
    const regions = Math.ceil(n / REGION_PAGES);
    // The fake source hands out blocks first-fit from pfn 0, and each block is used in order.
    expect(pfns).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(directMap.counters().level2Splits).toBe(regions);
    const s = cache.stats();
    expect(s).toMatchObject({ refills: regions, fallbacks: 0, splitsCaused: regions, allocs: n, inUsePages: n, cachedPages: regions * 512 - n, regions, wholeRegions: regions });
    expect(source.usedPages).toBe(regions * 512);
    cache.check();
    directMap.check();
  });

  test("on a 1 GiB-mapped machine the first refill also splits the 1 GiB leaf, once", () => {
    const map = MemoryMap.uniform(2048 * MiB);
    const directMap = new DirectMap(map);
    const cache = new PteMappedCache({ source: new FakePageSource(map.presentPages), directMap });
    for (let i = 0; i < 1500; i++) cache.alloc();
    const c = directMap.counters();
    expect([c.level3Splits, c.level2Splits]).toEqual([1, 3]);
    expect(cache.stats().splitsCaused).toBe(4);
    expect(c.directMap4k).toBe(3 * 2 * MiB);
  });

  test("handed-out pages are PTE-mapped: changing their protection splits nothing", () => {
    const { cache, directMap } = makeSystem();
    const pfns = Array.from({ length: 700 }, () => cache.alloc());
    const before = directMap.counters();
    for (const pfn of pfns) {
      expect(directMap.leafPages(pfn)).toBe(1);
      expect(directMap.setProtection(pfn, 1, Protection.ReadOnly)).toBe(0);
    }
    expect(directMap.counters().level2Splits).toBe(before.level2Splits);
    for (const pfn of pfns) directMap.setProtection(pfn, 1, Protection.Default);
    cache.check();
  });

  test("freed pages are reused before any new refill, most recently used region first", () => {
    const { cache, source } = makeSystem();
    const a = Array.from({ length: 600 }, () => cache.alloc()); // regions 0 (full) and 1 (88 used)
    cache.free(5);
    cache.free(7);
    expect(cache.pageState(5)).toBe(PageState.Cached);
    // Region 0 is a partly used block now and was freed to last: it comes first.
    expect(cache.alloc()).toBe(5);
    expect(cache.alloc()).toBe(7);
    expect(cache.alloc()).toBe(600);
    expect(cache.stats().refills).toBe(2);
    expect(source.usedPages).toBe(1024);
    expect(a.length).toBe(600);
    cache.check();
  });

  test("partly used blocks are used before a whole free block is broken", () => {
    const { cache } = makeSystem();
    const a = Array.from({ length: 1024 }, () => cache.alloc()); // two full blocks
    for (const p of a.slice(512)) cache.free(p); // block 1 entirely free again
    cache.free(100); // block 0 partly used
    expect(cache.regions().map((r) => [r.pfn, r.list])).toEqual([
      [0, "block-partial"],
      [512, "block-free"],
    ]);
    expect(cache.alloc()).toBe(100);
    expect(cache.stats().regionsFullyFree).toBe(1);
    cache.check();
  });

  test("returns -1 when the source is exhausted, and counts the failure", () => {
    const { cache, map } = makeSystem({ mib: 4 });
    for (let i = 0; i < map.presentPages; i++) expect(cache.alloc()).toBe(i);
    expect(cache.alloc()).toBe(-1);
    expect(cache.stats()).toMatchObject({ refillFailures: 1, inUsePages: 1024, cachedPages: 0 });
    cache.check();
  });
});

import { PageState } from "@mmkit/pte-cache";
import { describe, expect, test } from "vitest";
import { makeSystem } from "./setup.js";

describe("fallback to single pages when no order-9 block is free", () => {
  test("each fallback takes one page; only a page in a new region splits", () => {
    const { cache, source, directMap } = makeSystem();
    source.failOrder9 = true;
    source.logCalls = true;
    expect(cache.alloc()).toBe(0);
    expect(source.calls).toEqual(["alloc 9", "alloc 0"]);
    expect(directMap.leafPages(0)).toBe(1);
    expect(directMap.leafPages(511)).toBe(1); // the whole region is PTE-mapped now
    expect(cache.stats()).toMatchObject({ refills: 0, fallbacks: 1, splitsCaused: 1, regions: 1, wholeRegions: 0 });
    // The next fallback lands in the same region: no new split.
    expect(cache.alloc()).toBe(1);
    expect(cache.stats()).toMatchObject({ fallbacks: 2, splitsCaused: 1, regions: 1, inUsePages: 2 });
    expect(cache.regions()).toEqual([{ pfn: 0, node: 0, held: 2, free: 0, whole: false, splitByCache: true, list: null }]);
    expect(directMap.counters().level2Splits).toBe(1);
    cache.check();
  });

  test("a fallback into a region someone else split already causes no split and no collapse later", () => {
    const { cache, source, directMap } = makeSystem();
    directMap.splitToPages(0, 1);
    source.failOrder9 = true;
    expect(cache.alloc()).toBe(0);
    expect(cache.stats().splitsCaused).toBe(0);
    expect(cache.regions()[0]!.splitByCache).toBe(false);
    cache.free(0);
    expect(cache.shrink(1)).toBe(1);
    expect(cache.stats().collapses).toBe(0);
    expect(directMap.leafPages(0)).toBe(1);
    cache.check();
  });

  test("pages freed later in a remembered region come back to the cache through adopt()", () => {
    const { cache, source } = makeSystem();
    // Someone else holds pages 0..9 of region 0.
    const others = Array.from({ length: 10 }, () => source.allocPages(0));
    source.failOrder9 = true;
    const p = cache.alloc();
    expect(p).toBe(10);
    expect(cache.tracksRegionOf(3)).toBe(true);
    expect(cache.tracksRegionOf(600)).toBe(false);
    // The other user frees page 3: the region is PTE-mapped, the cache takes it.
    expect(cache.adopt(others[3]!)).toBe(true);
    expect(cache.pageState(3)).toBe(PageState.Cached);
    expect(cache.stats()).toMatchObject({ adopted: 1, cachedPages: 1, inUsePages: 1, fallbacks: 1 });
    // The next allocation uses it, with no refill.
    expect(cache.alloc()).toBe(3);
    expect(cache.stats().fallbacks).toBe(1);
    // A page outside remembered regions is not taken.
    const far = source.allocPages(0);
    expect(far).toBe(11);
    expect(cache.adopt(far)).toBe(true); // still region 0
    cache.free(3);
    cache.free(10);
    cache.check();
    // All the cache holds is free now: the shrinker gives back single pages with order 0.
    source.logCalls = true;
    source.calls.length = 0;
    expect(cache.shrink(100)).toBe(3);
    expect(source.calls).toEqual(["free 3 0", "free 10 0", "free 11 0"]);
    // The cache's own fallback split the region, and nobody changed a protection there: it folds back.
    expect(cache.stats()).toMatchObject({ regions: 0, collapses: 1 });
    cache.check();
  });

  test("when order-9 blocks are free again, refills use them", () => {
    const { cache, source } = makeSystem();
    source.failOrder9 = true;
    expect(cache.alloc()).toBe(0);
    source.failOrder9 = false;
    expect(cache.alloc()).toBe(512);
    expect(cache.stats()).toMatchObject({ refills: 1, fallbacks: 1, splitsCaused: 2, regions: 2, wholeRegions: 1 });
    cache.check();
  });

  test("a collapse after giving up the last page restores the 2 MiB leaf of a fallback region", () => {
    const { cache, source, directMap } = makeSystem();
    const before = directMap.counters();
    source.failOrder9 = true;
    const p = cache.alloc();
    cache.free(p);
    expect(cache.shrink(1)).toBe(1);
    expect(cache.stats()).toMatchObject({ collapses: 1, regions: 0, shrinkerReturnedPages: 1, shrinkerReturnedRegions: 0 });
    const after = directMap.counters();
    expect([after.directMap4k, after.directMap2M, after.pageTableBytes]).toEqual([before.directMap4k, before.directMap2M, before.pageTableBytes]);
    cache.check();
  });
});

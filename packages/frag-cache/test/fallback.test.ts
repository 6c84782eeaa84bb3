import { describe, expect, test } from "vitest";
import { FragmentCache } from "@mmkit/frag-cache";
import { FakePageSource } from "./fake-page-source.js";

describe("fallback to a single page", () => {
  test("when order 3 fails, a single page is taken and fragments are carved from it", () => {
    const source = new FakePageSource(64);
    source.failing.add(3);
    const cache = new FragmentCache(source);
    expect(cache.alloc(1500)).toBe(0);
    expect(source.log).toEqual(["alloc 3", "alloc 0", "-> 0"]);
    expect(cache.currentBlock()).toEqual({ pfn: 0, order: 0, size: 4096, offset: 1504, bias: 32768, refcount: 32769, current: true, liveFragments: 1 });
    expect(cache.alloc(1500)).toBe(1504);
    // 3008 + 1500 > 4096: the page is used up; one fragment is freed, one still live.
    cache.free(0);
    expect(cache.alloc(1500)).toBe(4096);
    expect(cache.stats()).toMatchObject({ blocksTaken: 2, fallbacks: 2, bytesWastedTail: 1088, bytesWastedRounding: 12 });
    expect(cache.blocks().map((b) => [b.pfn, b.order, b.refcount])).toEqual([
      [0, 0, 1],
      [1, 0, 32769],
    ]);
    cache.check();
  });

  test("a fallback page whose fragments were all freed is recycled in place, as in the kernel", () => {
    const source = new FakePageSource(64);
    source.failing.add(3);
    const cache = new FragmentCache(source);
    cache.free(cache.alloc(4000));
    source.failing.delete(3);
    expect(cache.alloc(200)).toBe(0);
    expect(cache.stats()).toMatchObject({ blocksRecycled: 1, blocksTaken: 1, fallbacks: 1 });
    expect(cache.currentBlock()).toMatchObject({ order: 0, size: 4096 });
  });

  test("a request bigger than a page never takes a fallback page", () => {
    const source = new FakePageSource(64);
    source.failing.add(3);
    const cache = new FragmentCache(source);
    expect(cache.alloc(5000)).toBe(-1);
    expect(source.log).toEqual(["alloc 3"]);
    expect(cache.stats()).toMatchObject({ allocFailures: 1, blocksTaken: 0, fallbacks: 0 });
    expect(source.outstanding).toBe(0);
    cache.check();
  });

  test("on a fallback page, a bigger-than-page request takes a full block first and keeps the page if that fails", () => {
    const source = new FakePageSource(64);
    source.failing.add(3);
    const cache = new FragmentCache(source);
    const a = cache.alloc(100);
    const before = cache.currentBlock();
    expect(cache.alloc(5000)).toBe(-1);
    expect(cache.currentBlock()).toEqual(before);
    expect(cache.alloc(100)).toBe(112); // the page still serves small requests
    source.failing.delete(3);
    expect(cache.alloc(5000)).toBe(8 * 4096);
    expect(cache.blocks().map((b) => [b.pfn, b.order, b.refcount, b.current])).toEqual([
      [0, 0, 2, false],
      [8, 3, 32769, true],
    ]);
    expect(cache.stats()).toMatchObject({ bytesWastedTail: 4096 - 224, allocFailures: 1 });
    cache.free(a);
    cache.free(112);
    expect(source.log.at(-1)).toBe("free 0 0");
    cache.check();
  });

  test("when nothing at all can be had, alloc returns -1 and the cache is empty", () => {
    const source = new FakePageSource(64);
    source.failing.add(3);
    source.failing.add(0);
    const cache = new FragmentCache(source);
    expect(cache.alloc(64)).toBe(-1);
    expect(cache.currentBlock()).toBeNull();
    expect(cache.stats()).toMatchObject({ allocFailures: 1, blocksTaken: 0 });
    source.failing.clear();
    expect(cache.alloc(64)).toBe(0);
    cache.check();
  });

  test("a used-up block is retired even when the refill then fails", () => {
    const source = new FakePageSource(8); // room for exactly one block
    const cache = new FragmentCache(source);
    const a = cache.alloc(32000);
    expect(cache.alloc(1000)).toBe(-1); // retires the block (a is live), no block nor page left
    expect(cache.currentBlock()).toBeNull();
    expect(cache.blocks()).toEqual([{ pfn: 0, order: 3, refcount: 1, current: false, liveFragments: 1 }]);
    cache.free(a);
    expect(source.outstanding).toBe(0);
    expect(cache.alloc(1000)).toBe(0);
    cache.check();
  });
});

import { describe, expect, test } from "vitest";
import { FragmentCache } from "@mmkit/frag-cache";
import { FakePageSource } from "./fake-page-source.js";

const B = 32769; // 32 KiB + 1: a fresh block's count and the cache's bias

function setup() {
  const source = new FakePageSource(64);
  const cache = new FragmentCache(source);
  return { source, cache };
}

describe("the bias trick", () => {
  test("taking a block sets its count and the bias to blockSize + 1 at once", () => {
    const { source, cache } = setup();
    expect(cache.biasStart).toBe(B);
    expect(cache.blockOrder).toBe(3);
    expect(cache.blockSize).toBe(32768);
    expect(cache.currentBlock()).toBeNull();
    expect(cache.alloc(100)).toBe(0);
    expect(source.log).toEqual(["alloc 3", "-> 0"]);
    expect(cache.currentBlock()).toEqual({ pfn: 0, order: 3, size: 32768, offset: 112, bias: B - 1, refcount: B, current: true, liveFragments: 1 });
    expect(cache.sizeOf(0)).toBe(112); // 100 rounded up to the 16-byte granule
    expect(cache.stats().bytesWastedRounding).toBe(12);
    cache.check();
  });

  test("allocating decrements only the local bias; freeing decrements only the block's count", () => {
    const { cache } = setup();
    const addrs = [cache.alloc(1000), cache.alloc(1000), cache.alloc(1000)];
    expect(addrs).toEqual([0, 1008, 2016]);
    expect(cache.currentBlock()).toMatchObject({ bias: B - 3, refcount: B, offset: 3024 });
    cache.free(1008);
    expect(cache.currentBlock()).toMatchObject({ bias: B - 3, refcount: B - 1, liveFragments: 2 });
    cache.check();
  });

  test("a used-up block with live fragments gives back its unused bias in one subtraction and is left to its last fragment", () => {
    const { source, cache } = setup();
    const first: number[] = [];
    for (let i = 0; i < 32; i++) first.push(cache.alloc(1024)); // exactly fills the block
    expect(first[31]).toBe(31 * 1024);
    expect(cache.currentBlock()).toMatchObject({ offset: 32768, bias: B - 32, refcount: B });
    for (let i = 0; i < 5; i++) cache.free(first[i]!);
    expect(cache.currentBlock()!.refcount).toBe(B - 5);
    // The next fragment does not fit: count - bias = (B - 5) - (B - 32) = 27 live fragments.
    expect(cache.alloc(1024)).toBe(8 * 4096);
    expect(cache.blocks()).toEqual([
      { pfn: 0, order: 3, refcount: 27, current: false, liveFragments: 27 },
      { pfn: 8, order: 3, refcount: B, current: true, liveFragments: 1 },
    ]);
    expect(cache.stats()).toMatchObject({ blocksTaken: 2, blocksRecycled: 0, bytesWastedTail: 0, blocksReturned: 0 });
    // Its fragments go one by one; the last one gives the block back to the page source.
    for (let i = 5; i < 31; i++) cache.free(first[i]!);
    expect(cache.blocks()[0]).toMatchObject({ pfn: 0, refcount: 1 });
    expect(source.log).not.toContain("free 0 3");
    cache.free(first[31]!);
    expect(source.log.at(-1)).toBe("free 0 3");
    expect(cache.stats()).toMatchObject({ blocksReturned: 1, blocksInUse: 1 });
    expect(source.outstanding).toBe(8);
    cache.check();
  });

  test("a block whose fragments are all freed before it is used up is recycled in place", () => {
    const { source, cache } = setup();
    const a = [cache.alloc(10000), cache.alloc(10000), cache.alloc(10000)];
    expect(a).toEqual([0, 10000, 20000]);
    for (const x of a) cache.free(x);
    // Count = B - 3 (three frees), bias = B - 3: giving the bias back leaves zero.
    expect(cache.currentBlock()).toMatchObject({ refcount: B - 3, bias: B - 3, liveFragments: 0 });
    const callsBefore = source.log.length;
    expect(cache.alloc(10000)).toBe(0); // 30000 + 10000 > 32768: recycle, carve from offset 0 again
    expect(source.log.length).toBe(callsBefore); // no page-source call
    expect(cache.currentBlock()).toMatchObject({ pfn: 0, refcount: B, bias: B - 1, offset: 10000 });
    expect(cache.stats()).toMatchObject({ blocksTaken: 1, blocksRecycled: 1, bytesWastedTail: 2768 });
    cache.check();
  });

  test("recycling needs every fragment freed: one live fragment sends the cache to a new block", () => {
    const { cache } = setup();
    const a = [cache.alloc(16384), cache.alloc(16384)];
    cache.free(a[0]!);
    expect(cache.alloc(1)).toBe(32768);
    expect(cache.stats()).toMatchObject({ blocksRecycled: 0, blocksTaken: 2 });
    expect(cache.blocks()[0]).toMatchObject({ pfn: 0, refcount: 1, current: false });
    cache.free(a[1]!);
    expect(cache.blocks().map((b) => b.pfn)).toEqual([8]);
    cache.check();
  });

  test("a fragment can take the whole block; the next request recycles it when it was freed", () => {
    const { source, cache } = setup();
    const a = cache.alloc(32768);
    expect(a).toBe(0);
    cache.free(a);
    expect(cache.alloc(32768)).toBe(0);
    expect(cache.stats()).toMatchObject({ blocksRecycled: 1, blocksTaken: 1, bytesWastedTail: 0 });
    expect(source.outstanding).toBe(8);
  });

  test("drain gives back the unused bias: the block goes back at once when nothing is live", () => {
    const { source, cache } = setup();
    cache.free(cache.alloc(64));
    cache.drain();
    expect(source.log).toEqual(["alloc 3", "-> 0", "free 0 3"]);
    expect(cache.currentBlock()).toBeNull();
    expect(cache.stats()).toMatchObject({ blocksInUse: 0, blocksReturned: 1, bytesWastedTail: 0 });
    cache.drain(); // nothing to do
    cache.check();
  });

  test("drain with live fragments leaves the block to them", () => {
    const { source, cache } = setup();
    const a = cache.alloc(64);
    const b = cache.alloc(64);
    cache.drain();
    expect(cache.blocks()).toEqual([{ pfn: 0, order: 3, refcount: 2, current: false, liveFragments: 2 }]);
    cache.free(b);
    cache.free(a);
    expect(source.outstanding).toBe(0);
    // The next allocation takes a fresh block.
    expect(cache.alloc(64)).toBe(0);
    expect(cache.stats()).toMatchObject({ blocksTaken: 2, blocksReturned: 1 });
    cache.check();
  });

  test("tail waste counts what is left when the cache moves on", () => {
    const { cache } = setup();
    cache.alloc(30000);
    cache.alloc(3000); // 30000 + 3000 > 32768: 2768 bytes of tail
    expect(cache.stats()).toMatchObject({ bytesWastedTail: 2768, blocksTaken: 2 });
  });

  test("alignment rounds the address up and counts the padding", () => {
    const { cache } = setup();
    expect(cache.alloc(1)).toBe(0); // a 16-byte fragment
    expect(cache.alloc(64, 64)).toBe(64);
    expect(cache.alloc(1, 4096)).toBe(4096);
    expect(cache.alloc(3, 2)).toBe(4112); // every fragment starts on a 16-byte granule
    expect(cache.alloc(8, 16)).toBe(4128);
    expect(cache.stats()).toMatchObject({ bytesWastedAlignment: 48 + (4096 - 128), bytesWastedRounding: 15 + 0 + 15 + 13 + 8 });
    cache.check();
  });

  test("alignments above a page align the address even when the source's block is not aligned", () => {
    const source = new FakePageSource(64);
    source.misalign = 1; // order-3 blocks at pfn 1, 9, ...
    const cache = new FragmentCache(source);
    expect(cache.alloc(1, 8192)).toBe(8192); // block at 4096: offset 4096
    expect(cache.stats().bytesWastedAlignment).toBe(4096);
    expect(cache.alloc(100, 32768)).toBe(32768); // offset 28672
    // 16384 aligned to 32 KiB does not fit this block, nor any fresh one from this source.
    expect(cache.alloc(16384, 32768)).toBe(-1);
    expect(cache.stats()).toMatchObject({ allocFailures: 1, blocksTaken: 2 });
    cache.check();
  });

  test("the block order follows the page size", () => {
    const s = new FakePageSource(64);
    expect(new FragmentCache(s, { pageSize: 16384 }).blockOrder).toBe(1);
    expect(new FragmentCache(s, { pageSize: 2048 }).blockOrder).toBe(4);
    const big = new FragmentCache(s, { pageSize: 65536 });
    expect([big.blockOrder, big.blockSize, big.biasStart]).toEqual([0, 65536, 65537]);
    expect(big.alloc(40000)).toBe(0);
    expect(s.log).toEqual(["alloc 0", "-> 0"]);
    const small = new FragmentCache(new FakePageSource(64), { blockBytes: 8192 });
    expect([small.blockOrder, small.blockSize]).toEqual([1, 8192]);
    // free finds the block and the offset in it from the page-head entry alone, whatever the order.
    for (const cache of [big, small, new FragmentCache(new FakePageSource(1024), { blockBytes: 1 << 20 })]) {
      const before = cache.stats(); // big still holds its 40000-byte fragment
      const a = cache.alloc(cache.blockSize - 16);
      const b = cache.alloc(16);
      expect(b - a).toBe(cache.blockSize - 16);
      expect(cache.sizeOf(b)).toBe(16);
      cache.free(b);
      cache.free(a);
      cache.check();
      expect(cache.stats()).toMatchObject({ liveFragments: before.liveFragments, liveBytes: before.liveBytes, fragmentsAllocated: before.fragmentsAllocated + 2 });
    }
  });
});

import { describe, expect, test } from "vitest";
import { BuddyAllocator, minFreeKbytes, zoneBatchsize, zoneHighsize, zoneWatermarks } from "@mmkit/buddy";
import { pageMap } from "./helpers.ts";

describe("watermark formulas", () => {
  test("min_free_kbytes = int_sqrt(KiB * 16), clamped to [128, 262144]", () => {
    expect(minFreeKbytes(1024 * 1024)).toBe(4096); // 1 GiB
    expect(minFreeKbytes(16 * 1024 * 1024)).toBe(16384); // 16 GiB
    expect(minFreeKbytes(1000)).toBe(128); // sqrt(16000) = 126 -> 128
    expect(minFreeKbytes(2 ** 40)).toBe(262144);
    expect(minFreeKbytes(3 * 1024 * 1024)).toBe(7094); // int_sqrt(50331648) = 7094.9
  });

  test("min/low/high split by managed pages, with watermark_scale_factor", () => {
    expect(zoneWatermarks(1024, 262144, 262144, 10)).toEqual({ min: 1024, low: 1286, high: 1548 });
    expect(zoneWatermarks(1024, 65536, 262144, 10)).toEqual({ min: 256, low: 321, high: 386 }); // 0.1 % (65) beats min/4 (64)
    expect(zoneWatermarks(1024, 16384, 16384, 10)).toEqual({ min: 1024, low: 1280, high: 1536 }); // min/4 wins
    expect(zoneWatermarks(1024, 262144, 262144, 100)).toEqual({ min: 1024, low: 3645, high: 6266 });
  });

  test("zone_batchsize and zone_highsize", () => {
    expect(zoneBatchsize(262144, 4096)).toBe(63);
    expect(zoneBatchsize(4 * 262144, 4096)).toBe(63); // capped at 1 MiB of pages
    expect(zoneBatchsize(65536, 4096)).toBe(15); // 64/4=16, 16+8=24 -> 16-1
    expect(zoneBatchsize(100, 4096)).toBe(1);
    expect(zoneHighsize(1286, 63, 4)).toBe(321);
    expect(zoneHighsize(100, 63, 1)).toBe(252);
  });
});

describe("watermarks in allocation", () => {
  test("a 64 MiB node: normal requests stop at min, __GFP_HIGH at min/2, GFP_ATOMIC at 3/8 min", () => {
    const b = new BuddyAllocator(pageMap([[0, 16384]]), { defaultMigratetype: 1 });
    expect(b.minFreeKbytes).toBe(1024);
    expect(b.watermarks()).toEqual({ min: 256, low: 320, high: 384 });
    const drain = (options?: object) => {
      let n = 0;
      while (b.allocPages(0, options) >= 0) n++;
      return n;
    };
    expect(drain()).toBe(16384 - 256);
    expect(b.freePageCount()).toBe(256);
    expect(drain({ highPriority: true })).toBe(128);
    expect(drain({ atomic: true })).toBe(32); // 128 - 128/4 = 96 left
    expect(drain({ noWatermarks: true })).toBe(96);
    expect(b.freePageCount()).toBe(0);
    expect(b.counters().watermarkFailures).toBe(3);
    b.check();
  });

  test("higher orders: free pages minus (2^order - 1) must stay above the mark", () => {
    const b = new BuddyAllocator(pageMap([[0, 16384]]), { defaultMigratetype: 1 });
    // Allocate down to 256 + 16 free pages in order-4 blocks: another order-4 would leave 256.
    for (let i = 0; i < (16384 - 272) / 16; i++) expect(b.allocPages(4)).toBeGreaterThanOrEqual(0);
    expect(b.freePageCount()).toBe(272);
    expect(b.allocPages(4)).toBeGreaterThanOrEqual(0); // 272 - 15 = 257 > 256
    expect(b.freePageCount()).toBe(256);
    expect(b.allocPages(4)).toBe(-1); // 256 - 15 <= 256
    expect(b.allocPages(0)).toBe(-1);
    expect(b.allocPages(4, { atomic: true })).toBeGreaterThanOrEqual(0); // 241 > 96
  });

  test("the low and high marks can be asked for", () => {
    const b = new BuddyAllocator(pageMap([[0, 16384]]), { defaultMigratetype: 1 });
    let n = 0;
    while (b.allocPages(0, { watermark: "high" }) >= 0) n++;
    expect(n).toBe(16384 - 384);
    expect(b.allocPages(0, { watermark: "low" })).toBeGreaterThanOrEqual(0);
  });

  test("a failing node falls back to the next one unless thisNode", () => {
    const b = new BuddyAllocator(
      pageMap([
        [0, 8192, 0],
        [8192, 16384, 1],
      ]),
      { defaultMigratetype: 1 },
    );
    const { min } = b.watermarks(0);
    expect(min).toBe(128); // 256 pages of min split evenly
    for (let i = 0; i < 8192 - 128; i++) b.allocPages(0, { node: 0 });
    expect(b.allocPages(0, { node: 0, thisNode: true })).toBe(-1);
    const p = b.allocPages(0, { node: 0 });
    expect(p).toBeGreaterThanOrEqual(8192);
    expect(b.blockOf(p).node).toBe(1);
  });
});

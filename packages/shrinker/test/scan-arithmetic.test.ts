import { describe, expect, test } from "vitest";
import { ShrinkerRegistry, SHRINK_STOP, nextDeferred, scanBatches, scanDelta, totalScan, type Shrinker } from "@mmkit/shrinker";
import { FakeCache } from "./helpers.js";

// Every expected number below is worked out by hand from mm/shrinker.c's do_shrink_slab (Linux 6.x):
//   delta        = (freeable >> priority) * 4 / seeks        (freeable / 2 when seeks == 0)
//   total_scan   = min((nr_deferred >> priority) + delta, 2 * freeable)
//   while (total_scan >= batch || total_scan >= freeable) scan min(batch, total_scan); total_scan -= nr_scanned
//   next_deferred = min(max(nr_deferred + delta - scanned, 0), 2 * freeable)

describe("the pure arithmetic", () => {
  test("scanDelta", () => {
    expect(scanDelta(10_000, 12, 2)).toBe(4); // 10000 >> 12 = 2; 2 * 4 / 2 = 4
    expect(scanDelta(4095, 12, 2)).toBe(0); // 4095 >> 12 = 0
    expect(scanDelta(1000, 0, 2)).toBe(2000); // 1000 * 4 / 2
    expect(scanDelta(1000, 3, 3)).toBe(166); // 1000 >> 3 = 125; 125 * 4 = 500; 500 / 3 = 166 (integer division)
    expect(scanDelta(4096, 2, 8)).toBe(512); // 4096 >> 2 = 1024; 1024 * 4 / 8 = 512
    expect(scanDelta(1001, 12, 0)).toBe(500); // seeks 0: 1001 / 2 = 500, whatever the priority
    expect(scanDelta(2 ** 40 + 5, 4, 2)).toBe(2 ** 37); // (2^40 + 5) >> 4 = 2^36; * 4 / 2 = 2^37 (beyond 32 bits)
  });

  test("totalScan", () => {
    expect(totalScan(10_000, 0, 12, 2)).toBe(4); // min(0 + 4, 20000)
    expect(totalScan(1000, 80, 3, 2)).toBe(260); // min((80 >> 3) + (125 * 4 / 2), 2000) = min(10 + 250, 2000)
    expect(totalScan(1000, 0, 0, 2)).toBe(2000); // min(2000, 2000)
    expect(totalScan(100, 0, 0, 1)).toBe(200); // min(400, 200): capped at twice the cache
    expect(totalScan(100, 5000, 0, 2)).toBe(200); // min(5000 + 200, 200)
  });

  test("nextDeferred", () => {
    expect(nextDeferred(0, 4, 0, 10_000)).toBe(4); // min(max(0 + 4 - 0, 0), 20000)
    expect(nextDeferred(0, 2000, 1920, 1000)).toBe(80);
    expect(nextDeferred(0, 400, 0, 100)).toBe(200); // 400 capped at 2 * 100
    expect(nextDeferred(10, 5, 100, 1000)).toBe(0); // negative clamps to 0
  });

  test("scanBatches", () => {
    expect(scanBatches(2000, 1000, 128)).toEqual([...Array(15).fill(128)]); // 15 * 128 = 1920; 80 left, < 128 and < 1000
    expect(scanBatches(100, 50, 128)).toEqual([100]); // 100 >= freeable 50: one short call
    expect(scanBatches(4, 10_000, 128)).toEqual([]);
    expect(scanBatches(0, 0, 128)).toEqual([]);
  });
});

/** A one-shrinker registry; returns the pass's batches and the deferred work it left. */
function pass(registry: ShrinkerRegistry, cache: FakeCache, nid: number, priority: number) {
  const freed = registry.shrink({ nid, priority });
  const stats = registry.stats(cache);
  return { freed, batches: cache.takeBatches(), deferred: stats.nodes[cache.numaAware ? nid : 0]!.deferred };
}

describe("a registry pass does exactly what do_shrink_slab does", () => {
  test("freeable 10000, priority 12, seeks 2, deferred 0: no scan, 4 deferred", () => {
    const r = new ShrinkerRegistry();
    const c = new FakeCache("c", 10_000, { freeing: false });
    r.register(c);
    // delta = (10000 >> 12) * 4 / 2 = 2 * 2 = 4; total = min(0 + 4, 20000) = 4
    // 4 < batch 128 and 4 < freeable 10000: no scan; deferred = min(max(0 + 4 - 0, 0), 20000) = 4
    expect(pass(r, c, 0, 12)).toEqual({ freed: 0, batches: [], deferred: 4 });
    // Again: nr = 4; total = (4 >> 12) + 4 = 4; deferred = 4 + 4 - 0 = 8. The small work piles up.
    expect(pass(r, c, 0, 12)).toEqual({ freed: 0, batches: [], deferred: 8 });
    r.check();
  });

  test("freeable 1000, priority 0, seeks 2, deferred 0; then priority 3 with 80 deferred", () => {
    const r = new ShrinkerRegistry();
    const c = new FakeCache("c", 1000, { freeing: false });
    r.register(c);
    // delta = 1000 * 4 / 2 = 2000; total = min(0 + 2000, 2000) = 2000
    // batches: 15 of 128 = 1920; 80 left < 128 and < 1000: stop
    // deferred = min(max(0 + 2000 - 1920, 0), 2000) = 80
    expect(pass(r, c, 0, 0)).toEqual({ freed: 0, batches: Array(15).fill(128), deferred: 80 });
    // priority 3: nr = 80; delta = (1000 >> 3) * 4 / 2 = 125 * 2 = 250; total = min((80 >> 3) + 250, 2000) = 260
    // batches: 128, 128; 4 left. deferred = min(max(80 + 250 - 256, 0), 2000) = 74
    expect(pass(r, c, 0, 3)).toEqual({ freed: 0, batches: [128, 128], deferred: 74 });
    r.check();
  });

  test("freeable 1000, priority 12, seeks 0: half the cache whatever the priority", () => {
    const r = new ShrinkerRegistry();
    const c = new FakeCache("c", 1000, { seeks: 0 });
    r.register(c);
    // delta = 1000 / 2 = 500; total = min(0 + 500, 2000) = 500
    // batches 128, 128, 128 = 384; 116 left < 128 and < 1000. deferred = min(500 - 384, 2000) = 116
    expect(pass(r, c, 0, 12)).toEqual({ freed: 384, batches: [128, 128, 128], deferred: 116 });
    // now freeable = 616: delta = 308; total = min((116 >> 12) + 308, 1232) = 308: batches 128, 128 (52 left)
    // deferred = min(max(116 + 308 - 256, 0), 1232) = 168
    expect(pass(r, c, 0, 12)).toEqual({ freed: 256, batches: [128, 128], deferred: 168 });
  });

  test("freeable 4096, priority 2, seeks 8 (expensive objects)", () => {
    const r = new ShrinkerRegistry();
    const c = new FakeCache("c", 4096, { seeks: 8, freeing: false });
    r.register(c);
    // delta = (4096 >> 2) * 4 / 8 = 1024 / 2 = 512; total = 512: four batches; deferred = 512 - 512 = 0
    expect(pass(r, c, 0, 2)).toEqual({ freed: 0, batches: [128, 128, 128, 128], deferred: 0 });
  });

  test("a cache smaller than a batch under heavy pressure is scanned in one short call", () => {
    const r = new ShrinkerRegistry();
    const c = new FakeCache("c", 50);
    r.register(c);
    // delta = 50 * 4 / 2 = 100; total = min(100, 100) = 100 >= freeable 50: one call of min(128, 100) = 100
    // deferred = max(0 + 100 - 100, 0) = 0
    expect(pass(r, c, 0, 0)).toEqual({ freed: 50, batches: [100], deferred: 0 });
    // At priority 2 the same cache would not be touched: delta = (50 >> 2) * 2 = 24 < 50, < 128.
    const c2 = new FakeCache("c2", 50);
    const r2 = new ShrinkerRegistry();
    r2.register(c2);
    expect(pass(r2, c2, 0, 2)).toEqual({ freed: 0, batches: [], deferred: 24 });
  });

  test("deferred work is capped at twice the cache", () => {
    const r = new ShrinkerRegistry();
    let stop = true;
    const c = new FakeCache("c", 100, { seeks: 1, freeing: false });
    c.onScan = () => {
      if (stop) throw new Error("unreachable");
    };
    const stopper: Shrinker = { name: "stopper", count: (sc) => c.count(sc), scan: (sc) => (stop ? SHRINK_STOP : c.scan(sc)), seeks: 1 };
    r.register(stopper);
    // delta = 100 * 4 / 1 = 400; total = min(400, 200) = 200 >= 100: one call of 128 -> SHRINK_STOP, scanned 0
    // deferred = min(max(0 + 400 - 0, 0), 200) = 200 (the cap)
    r.shrink({ nid: 0, priority: 0 });
    expect(r.stats(stopper).nodes[0]!.deferred).toBe(200);
    expect(r.stats(stopper).scanCalls).toBe(1);
    stop = false;
    // nr = 200; total = min(200 + 400, 200) = 200: 128, then 72 < 128 and < 100: stop
    // deferred = min(max(200 + 400 - 128, 0), 200) = 200
    r.shrink({ nid: 0, priority: 0 });
    expect(c.takeBatches()).toEqual([128]);
    expect(r.stats(stopper).nodes[0]!.deferred).toBe(200);
    r.check();
  });

  test("a custom batch, and a scan that reports scanning fewer than asked", () => {
    const r = new ShrinkerRegistry();
    const big = new FakeCache("big", 3000, { batch: 1000, freeing: false });
    r.register(big);
    // delta = (3000 >> 1) * 4 / 2 = 3000; total = min(3000, 6000): three calls of 1000; deferred 0
    expect(pass(r, big, 0, 1)).toEqual({ freed: 0, batches: [1000, 1000, 1000], deferred: 0 });

    const r2 = new ShrinkerRegistry();
    const half = new FakeCache("half", 1000, { freeing: false });
    half.onScan = (sc) => {
      sc.nrScanned = sc.nrToScan / 2;
    };
    r2.register(half);
    // total = 2000; each call asks 128 and scans 64: total after k calls = 2000 - 64k, calls go on
    // while that is >= 128: k = 0..29, 30 calls; 80 left. scanned = 1920; deferred = 2000 - 1920 = 80
    expect(pass(r2, half, 0, 0)).toEqual({ freed: 0, batches: Array(30).fill(128), deferred: 80 });
    expect(r2.stats(half).scanned).toBe(1920);
  });

  test("deferred work is per node for NUMA-aware shrinkers, node 0 only for the others", () => {
    const r = new ShrinkerRegistry({ nodes: 2 });
    const aware = new FakeCache("aware", [10_000, 20_000], { numaAware: true, freeing: false });
    const unaware = new FakeCache("unaware", [10_000, 99], { freeing: false });
    r.register(aware);
    r.register(unaware);
    r.shrink({ nid: 1, priority: 12 });
    // aware on node 1: delta = (20000 >> 12) * 2 = 4 * 2 = 8, deferred there; node 0 untouched
    expect(r.stats(aware).nodes.map((n) => n.deferred)).toEqual([0, 8]);
    // unaware: sees nid 0 (count 10000) even when node 1 is reclaimed: delta 4, on node 0
    expect(r.stats(unaware).nodes.map((n) => n.deferred)).toEqual([4, 0]);
    expect(r.stats(unaware).nodes.map((n) => n.lastCount)).toEqual([10_000, 0]);
    r.shrink({ nid: 0, priority: 12 });
    expect(r.stats(aware).nodes.map((n) => n.deferred)).toEqual([4, 8]);
    expect(r.stats(unaware).nodes.map((n) => n.deferred)).toEqual([8, 0]);
    r.check();
  });

  test("count 0 and SHRINK_EMPTY skip the shrinker and leave deferred work alone", () => {
    const r = new ShrinkerRegistry();
    const c = new FakeCache("c", 10_000, { freeing: false });
    r.register(c);
    r.shrink({ nid: 0, priority: 12 });
    expect(r.stats(c).deferred).toBe(4);
    c.objects[0] = 0;
    r.shrink({ nid: 0, priority: 0 });
    const empty: Shrinker = { name: "empty", count: () => -2, scan: () => 0 };
    r.register(empty);
    expect(r.shrink({ nid: 0, priority: 0 })).toBe(0);
    expect(r.stats(c).deferred).toBe(4);
    expect(r.stats(c).nodes[0]!.lastCount).toBe(0);
    expect(r.stats(empty).nodes[0]!.lastCount).toBe(0);
    expect(r.stats(empty).scanCalls).toBe(0);
    expect(r.warningCount).toBe(0);
  });
});

describe("reclaim walks priorities from 12 down", () => {
  test("it stops as soon as the target is met, at the priority that met it", () => {
    const r = new ShrinkerRegistry();
    const c = new FakeCache("c", 10_000);
    r.register(c);
    const result = r.reclaim(1000, 0);
    // priorities 12..8 only defer (totals 4, 8, 18, 38, 78: deferred 4, 12, 30, 68, 146);
    // 7: delta = (10000 >> 7) * 2 = 156, total = (146 >> 7) + 156 = 157: one batch (freed 128);
    //    deferred = 146 + 156 - 128 = 174
    // 6: freeable 9872, delta = 154 * 2 = 308, total = (174 >> 6) + 308 = 310: two batches (384 in all);
    //    deferred = 174 + 308 - 256 = 226
    // 5: freeable 9616, delta = 300 * 2 = 600, total = (226 >> 5) + 600 = 607: four batches (896)
    //    deferred = 226 + 600 - 512 = 314
    // 4: freeable 9104, delta = 569 * 2 = 1138, total = (314 >> 4) + 1138 = 1157: nine batches (2048)
    expect(result).toEqual({ freed: 2048, passes: 9, priority: 4, reachedTarget: true });
    expect(r.stats(c).nodes[0]!.deferred).toBe(314 + 1138 - 1152);
    r.check();
  });

  test("it reports falling short after priority 0", () => {
    const r = new ShrinkerRegistry();
    const c = new FakeCache("c", 100);
    r.register(c);
    expect(r.reclaim(1000, 0)).toEqual({ freed: 100, passes: 13, priority: 0, reachedTarget: false });
    expect(r.reclaim(0, 0)).toEqual({ freed: 0, passes: 0, priority: 12, reachedTarget: true });
  });

  test("without a node it shrinks every node, and an unaware shrinker once per priority", () => {
    const r = new ShrinkerRegistry({ nodes: 3 });
    const aware = new FakeCache("aware", [100, 100, 100], { numaAware: true });
    const unaware = new FakeCache("unaware", [1000]);
    r.register(aware);
    r.register(unaware);
    const result = r.reclaim(10_000);
    expect(result.passes).toBe(13);
    expect(aware.counts).toBe(13 * 3);
    expect(unaware.counts).toBe(13);
    expect(aware.objects).toEqual([0, 0, 0]);
    expect(result.freed).toBe(300 + 1000);
  });
});

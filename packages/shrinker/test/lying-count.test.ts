import { describe, expect, test } from "vitest";
import { DEFAULT_MAX_SCAN_CALLS, ShrinkerRegistry, type Shrinker } from "@mmkit/shrinker";
import { FakeCache } from "./helpers.js";

/** Calls past which a test gives up on a liar (the registry should stop it long before). */
const TRIPWIRE = 4_000_000;

/** A shrinker whose count is `claimed` and whose scans free nothing; it throws (ending its pass) past the tripwire, so an unbounded registry fails fast instead of running for minutes. */
function liar(claimed: number, options: { nrScanned?: number; numaAware?: boolean } = {}): Shrinker & { scans: number } {
  const s = {
    name: `liar-${claimed}`,
    scans: 0,
    ...(options.numaAware !== undefined ? { numaAware: options.numaAware } : {}),
    count: () => claimed,
    scan: (sc: { nrScanned: number }) => {
      if (++s.scans > TRIPWIRE) throw new Error("tripwire: the registry did not bound this liar");
      if (options.nrScanned !== undefined) sc.nrScanned = options.nrScanned;
      return 0;
    },
  };
  return s;
}

describe("a shrinker whose count lies cannot stall a pass", () => {
  test.each([
    ["2^60", 2 ** 60, 12],
    ["1e15", 1e15, 12],
    ["2^53", 2 ** 53, 12],
    ["2^60", 2 ** 60, 0],
    ["1e15", 1e15, 0],
  ])("count %s (%d) at priority %i: maxScanCalls scan calls, a scan-limit warning, and the shrinkers after it are still shrunk", (_, claimed, priority) => {
    const r = new ShrinkerRegistry({ warningLimit: 100 });
    const bad = liar(claimed);
    r.register(bad);
    const honest = new FakeCache("honest", 100_000);
    r.register(honest);
    const freed = r.shrink({ nid: 0, priority });
    expect(bad.scans).toBe(DEFAULT_MAX_SCAN_CALLS);
    expect(r.stats(bad).scanCalls).toBe(DEFAULT_MAX_SCAN_CALLS);
    // The honest cache after it gets exactly the kernel's arithmetic: (100000 >> p) * 4 / 2, in batches of 128.
    const expected = Math.floor(Math.min(Math.floor(100_000 / 2 ** priority) * 2, 200_000) / 128) * 128;
    expect(freed).toBe(Math.min(expected, 100_000));
    const limits = r.warnings().filter((w) => w.kind === "scan-limit");
    expect(limits).toHaveLength(1);
    expect(limits[0]).toMatchObject({ shrinker: bad.name, nid: 0, priority, usedInstead: 0 });
    expect(limits[0]!.message).toContain("65536 scan calls");
    r.check();
  });

  test("a liar that scans one object per call is bounded the same way", () => {
    const r = new ShrinkerRegistry();
    const bad = liar(2 ** 40, { nrScanned: 1 });
    r.register(bad);
    r.shrink({ nid: 0, priority: 12 });
    expect(bad.scans).toBe(DEFAULT_MAX_SCAN_CALLS);
    r.check();
  });

  test("a NUMA-aware liar shares one budget over the nodes of a pass", () => {
    const r = new ShrinkerRegistry({ nodes: 4, maxScanCalls: 1000, warningLimit: 100 });
    const bad = liar(2 ** 45, { numaAware: true });
    r.register(bad);
    r.reclaim(1);
    // 13 passes (priorities 12..0) over every node, 1000 scan calls each.
    expect(bad.scans).toBe(13 * 1000);
    expect(r.warnings().filter((w) => w.kind === "scan-limit")).toHaveLength(13 * 4);
    r.check();
  });

  test("an honest shrinker that reaches a small limit keeps the kernel's arithmetic: the rest is deferred", () => {
    const r = new ShrinkerRegistry({ maxScanCalls: 4 });
    const cache = new FakeCache("big", 10_000);
    r.register(cache);
    // Priority 0: total = min(0 + 10000 * 4 / 2, 20000) = 20000; 4 calls of 128 scan 512.
    expect(r.shrink({ nid: 0, priority: 0 })).toBe(512);
    // deferred = min(max(0 + 20000 - 512, 0), 2 * 10000) = 19488.
    expect(r.stats(cache).deferred).toBe(19_488);
    expect(r.maxScanCalls).toBe(4);
    r.check();
  });
});

describe("a lying count over many passes", () => {
  test("the statistics saturate at 2^53 - 1 instead of leaving the exact integers (check() used to fail after 8 passes of a 2^50 count)", () => {
    const r = new ShrinkerRegistry({ maxScanCalls: 4 });
    const bad = liar(2 ** 60);
    r.register(bad);
    for (let i = 0; i < 12; i++) r.shrink({ nid: 0, priority: 12 });
    r.check();
    const stats = r.stats(bad);
    expect(stats.counted).toBe(Number.MAX_SAFE_INTEGER);
    expect(stats.countCalls).toBe(12);
    expect(stats.scanCalls).toBe(48);
    expect(stats.deferred).toBeLessThanOrEqual(2 ** 52);
  });
});

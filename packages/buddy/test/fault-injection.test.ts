import { describe, expect, test } from "vitest";
import { FaultInjector } from "@mmkit/buddy";
import { small } from "./helpers.ts";

function pattern(f: FaultInjector, n: number, order = 1, atomic = false): string {
  let s = "";
  for (let i = 0; i < n; i++) s += f.shouldFail(order, atomic) ? "x" : ".";
  return s;
}

describe("fail_page_alloc", () => {
  test("probability 100 with interval, times and space", () => {
    expect(pattern(new FaultInjector({ probability: 100 }), 5)).toBe("xxxxx");
    expect(pattern(new FaultInjector({ probability: 100, interval: 3 }), 9)).toBe("..x..x..x");
    expect(pattern(new FaultInjector({ probability: 100, times: 2 }), 5)).toBe("xx...");
    expect(pattern(new FaultInjector({ probability: 100, space: 5 }), 5)).toBe("..xxx"); // 2 pages each: 5 > 2, 3 > 2, then 1
    expect(pattern(new FaultInjector({ probability: 0 }), 5)).toBe(".....");
  });

  test("min order and ignoreBlocking", () => {
    const f = new FaultInjector({ probability: 100 });
    expect(pattern(f, 3, 0)).toBe("..."); // min-order 1 by default
    const g = new FaultInjector({ probability: 100, minOrder: 0, ignoreBlocking: true });
    expect(pattern(g, 2, 0, false) + pattern(g, 2, 0, true)).toBe("..xx");
  });

  test("seeded: the same seed gives the same failures, another seed others", () => {
    const a = pattern(new FaultInjector({ probability: 30, seed: 7 }), 64);
    expect(pattern(new FaultInjector({ probability: 30, seed: 7 }), 64)).toBe(a);
    expect(pattern(new FaultInjector({ probability: 30, seed: 8 }), 64)).not.toBe(a);
    const failures = [...a].filter((c) => c === "x").length;
    expect(failures).toBeGreaterThan(8);
    expect(failures).toBeLessThan(32);
  });

  test("armed on an allocator: allocations fail as -1 and are counted; disarming stops it", () => {
    const b = small({ faultInjection: { probability: 100, interval: 2, minOrder: 0 } });
    const got = Array.from({ length: 4 }, () => b.allocPages(0));
    expect(got).toEqual([0, -1, 1, -1]);
    expect(b.cpu(0).allocPages(0)).toBe(2);
    expect(b.cpu(0).allocPages(0)).toBe(-1); // the per-CPU fast path checks it too
    expect(b.counters()).toMatchObject({ injectedFailures: 3, allocFailures: 3 });
    b.setFaultInjection(null);
    expect(b.allocPages(0)).toBeGreaterThanOrEqual(0);
    expect(b.faultInjection).toBeNull();
    b.check();
  });

  test("through a CPU front: orders below minOrder never consult the injector; the others fail as injected", () => {
    const b = small({ pcpBatch: 4, pcpHigh: 64, faultInjection: { probability: 100, space: 3 } }); // minOrder 1
    const cpu = b.cpu(0);
    expect([cpu.allocPages(0), cpu.allocPages(0), cpu.allocPages(0)]).toEqual([0, 1, 2]); // order 0: space untouched
    expect(cpu.allocPages(1)).toBe(4); // space 3 > 2 pages: let through (space 1 left)
    expect(cpu.allocPages(1)).toBe(-1); // the list holds order-1 blocks, but the injector fails the request
    expect(cpu.allocPages(0)).toBe(3);
    expect(b.counters()).toMatchObject({ allocs: 5, injectedFailures: 1, allocFailures: 1 });
    b.setFaultInjection({ probability: 100, minOrder: 0, times: 1 });
    expect(cpu.allocPages(0)).toBe(-1); // now order 0 may fail: the fast path steps aside
    expect(cpu.allocPages(0)).toBe(8); // times ran out
    b.setFaultInjection(null);
    expect(cpu.allocPages(1)).toBe(6);
    expect(b.counters()).toMatchObject({ allocs: 7, injectedFailures: 2, allocFailures: 2 });
    b.check();
  });
});

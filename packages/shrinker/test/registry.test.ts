import { describe, expect, test } from "vitest";
import { ErrorCode, MetadataArena } from "@mmkit/physmem";
import { SHRINK_EMPTY, SHRINK_STOP, ShrinkerErrorCode, ShrinkerRegistry, type ShrinkControl, type Shrinker, type ShrinkerWarning } from "@mmkit/shrinker";
import { FakeCache, expectMmkitError } from "./helpers.js";

/** Everything observable about a registry, for "a throw left it unchanged" checks. */
function snapshot(r: ShrinkerRegistry) {
  return JSON.stringify({ names: r.shrinkers().map((s) => s.name), stats: r.stats(), size: r.size, warnings: r.warningCount });
}

describe("construction and registration errors", () => {
  test("bad options", () => {
    expectMmkitError(() => new ShrinkerRegistry({ nodes: 0 }), ErrorCode.OutOfRange, "nodes", "0");
    expectMmkitError(() => new ShrinkerRegistry({ nodes: 1025 }), ErrorCode.OutOfRange, "1025");
    expectMmkitError(() => new ShrinkerRegistry({ nodes: 1.5 }), ErrorCode.InvalidArgument, "1.5");
    expectMmkitError(() => new ShrinkerRegistry({ warningLimit: -1 }), ErrorCode.OutOfRange, "warningLimit");
    expectMmkitError(() => new ShrinkerRegistry({ onWarning: 3 as never }), ErrorCode.InvalidArgument, "onWarning");
  });

  test("every bad registration throws and leaves the registry unchanged", () => {
    const r = new ShrinkerRegistry({ nodes: 2 });
    const ok = new FakeCache("ok", [10, 10]);
    r.register(ok);
    r.shrink({ nid: 0, priority: 0 });
    const before = snapshot(r);
    const base = { name: "x", count: () => 1, scan: () => 1 };
    expectMmkitError(() => r.register(ok), ShrinkerErrorCode.AlreadyRegistered, '"ok"', "id 0");
    expectMmkitError(() => r.register(null as never), ErrorCode.InvalidArgument, "null");
    expectMmkitError(() => r.register({ ...base, name: "" }), ErrorCode.InvalidArgument, '""');
    expectMmkitError(() => r.register({ ...base, name: 7 as never }), ErrorCode.InvalidArgument, "7");
    expectMmkitError(() => r.register({ ...base, scan: undefined as never }), ErrorCode.InvalidArgument, '"x"', "scan");
    expectMmkitError(() => r.register({ ...base, seeks: -1 }), ErrorCode.OutOfRange, "seeks", "-1");
    expectMmkitError(() => r.register({ ...base, seeks: Number.NaN }), ErrorCode.InvalidArgument, "seeks", "NaN");
    expectMmkitError(() => r.register({ ...base, batch: 2.5 }), ErrorCode.InvalidArgument, "batch", "2.5");
    expectMmkitError(() => r.register({ ...base, numaAware: "yes" as never }), ErrorCode.InvalidArgument, "numaAware", '"yes"');
    expectMmkitError(() => r.unregister({ ...base, name: "stranger" }), ShrinkerErrorCode.NotRegistered, '"stranger"');
    expectMmkitError(() => r.stats({ ...base, name: "stranger" }), ShrinkerErrorCode.NotRegistered, '"stranger"');
    expectMmkitError(() => r.countFile({ ...base, name: "stranger" }), ShrinkerErrorCode.NotRegistered, '"stranger"');
    expect(snapshot(r)).toBe(before);
    r.check();
  });

  test("bad shrink and reclaim requests throw before calling any shrinker", () => {
    const r = new ShrinkerRegistry({ nodes: 2 });
    const c = new FakeCache("c", [10, 10], { numaAware: true });
    r.register(c);
    const before = snapshot(r);
    expectMmkitError(() => r.shrink({ nid: 2, priority: 0 }), ErrorCode.OutOfRange, "nid", "2");
    expectMmkitError(() => r.shrink({ nid: -1, priority: 0 }), ErrorCode.OutOfRange, "nid", "-1");
    expectMmkitError(() => r.shrink({ nid: Number.NaN, priority: 0 }), ErrorCode.InvalidArgument, "nid", "NaN");
    expectMmkitError(() => r.shrink({ nid: 0, priority: 13 }), ErrorCode.OutOfRange, "priority", "13");
    expectMmkitError(() => r.shrink({ nid: 0, priority: -1 }), ErrorCode.OutOfRange, "priority", "-1");
    expectMmkitError(() => r.shrink(undefined as never), ErrorCode.InvalidArgument, "undefined");
    expectMmkitError(() => r.reclaim(-5, 0), ErrorCode.OutOfRange, "target", "-5");
    expectMmkitError(() => r.reclaim(1.5, 0), ErrorCode.InvalidArgument, "target", "1.5");
    expectMmkitError(() => r.reclaim(10, 7), ErrorCode.OutOfRange, "nid", "7");
    expectMmkitError(() => r.debugScan(c, 5, 10), ErrorCode.OutOfRange, "nid", "5");
    expectMmkitError(() => r.debugScan(c, 0, 0), ErrorCode.OutOfRange, "nrToScan", "0");
    expect(c.counts).toBe(0);
    expect(snapshot(r)).toBe(before);
  });

  test("batch 0 means the default, as in the kernel; settings are read once", () => {
    const r = new ShrinkerRegistry();
    const s = { name: "s", count: () => 1000, scan: () => 0, batch: 0, seeks: 4 };
    r.register(s);
    s.seeks = 1;
    expect(r.stats(s)).toMatchObject({ batch: 128, seeks: 4, numaAware: false, id: 0 });
  });
});

describe("registration order, slots and metadata", () => {
  test("slots are reused with clean counters; ids are not", () => {
    const arena = new MetadataArena();
    const r = new ShrinkerRegistry({ nodes: 2, arena });
    // 4 slots to start: 5 per-node arrays of 4 * 2 doubles, 3 per-shrinker arrays of 4 doubles
    expect(arena.bytes).toBe(5 * 4 * 2 * 8 + 3 * 4 * 8);
    expect(arena.labelBytes("shrinker deferred")).toBe(64);
    const caches = [0, 1, 2, 3, 4].map((i) => new FakeCache(`c${i}`, [1000, 1000], { numaAware: true }));
    for (const c of caches) r.register(c);
    // the fifth doubled everything
    expect(arena.bytes).toBe(5 * 8 * 2 * 8 + 3 * 8 * 8);
    r.shrink({ nid: 1, priority: 0 });
    r.unregister(caches[2]!);
    const again = new FakeCache("again", [5, 5], { numaAware: true });
    r.register(again);
    expect(r.stats(again)).toMatchObject({ id: 5, scanned: 0, freed: 0, deferred: 0, countCalls: 0, scanCalls: 0 });
    expect(r.shrinkers().map((s) => s.name)).toEqual(["c0", "c1", "c3", "c4", "again"]);
    r.check();
  });
});

describe("re-entrancy", () => {
  test("a shrinker that unregisters itself in scan gets no further calls in that pass", () => {
    const r = new ShrinkerRegistry();
    const a = new FakeCache("a", 10_000);
    const b = new FakeCache("b", 1000);
    a.onScan = () => r.unregister(a);
    r.register(a);
    r.register(b);
    expect(r.shrink({ nid: 0, priority: 0 })).toBe(128 + 1000);
    expect(a.calls.length).toBe(1);
    expect(r.isRegistered(a)).toBe(false);
    expect(r.shrinkers()).toEqual([b]);
    r.check();
  });

  test("a shrinker unregistered by another before its turn is not called", () => {
    const r = new ShrinkerRegistry();
    const a = new FakeCache("a", 100);
    const b = new FakeCache("b", 100);
    const c = new FakeCache("c", 100);
    a.onScan = () => {
      if (r.isRegistered(b)) r.unregister(b);
      r.check(); // a dead entry may sit in the list during a pass
    };
    for (const s of [a, b, c]) r.register(s);
    expect(r.shrink({ nid: 0, priority: 0 })).toBe(200);
    expect(b.counts).toBe(0);
    expect(c.objects[0]).toBe(0);
    r.check();
  });

  test("a shrinker registered during a pass is first called by the next pass", () => {
    const r = new ShrinkerRegistry();
    const a = new FakeCache("a", 100);
    const late = new FakeCache("late", 100);
    a.onCount = () => {
      if (!r.isRegistered(late)) r.register(late);
    };
    r.register(a);
    r.shrink({ nid: 0, priority: 0 });
    expect(late.counts).toBe(0);
    expect(r.shrinkers()).toEqual([a, late]);
    r.shrink({ nid: 0, priority: 0 });
    expect(late.counts).toBe(1);
    expect(late.objects[0]).toBe(0);
    r.check();
  });

  test("unregister and register again inside one's own callback: one entry, fresh counters", () => {
    const r = new ShrinkerRegistry();
    const a = new FakeCache("a", 1000, { freeing: false });
    let flips = 0;
    a.onScan = () => {
      if (flips++ === 0) {
        r.unregister(a);
        r.register(a);
      }
    };
    r.register(a);
    r.shrink({ nid: 0, priority: 0 });
    expect(a.calls.length).toBe(1);
    expect(r.stats(a)).toMatchObject({ id: 1, scanCalls: 0, deferred: 0 });
    expect(r.shrinkers()).toEqual([a]);
    r.check();
    r.shrink({ nid: 0, priority: 0 });
    expect(a.calls.length).toBe(1 + 15);
    r.check();
  });

  test("unregistering inside count skips the scan", () => {
    const r = new ShrinkerRegistry();
    const a = new FakeCache("a", 1000);
    a.onCount = () => r.unregister(a);
    r.register(a);
    expect(r.shrink({ nid: 0, priority: 0 })).toBe(0);
    expect(a.calls.length).toBe(0);
    r.check();
  });

  test("a nested pass from inside a scan (a shrinker that allocates and triggers reclaim)", () => {
    const r = new ShrinkerRegistry();
    const a = new FakeCache("a", 1000, { freeing: false });
    const b = new FakeCache("b", 1000);
    let nested = 0;
    a.onScan = () => {
      if (nested++ === 0) {
        // a's deferred work was taken by the outer call, so the inner one sees 0 and adds its own
        expect(r.walking).toBe(true);
        expect(r.shrink({ nid: 0, priority: 0 })).toBe(1000);
      }
    };
    r.register(a);
    r.register(b);
    // outer: a scans 15 batches (the first runs the inner pass); inner: a 15 batches, and b its
    // 15 batches of 2000 (freeing all 1000 in the first 8); the outer pass then finds b empty
    expect(r.shrink({ nid: 0, priority: 0 })).toBe(0);
    expect(a.calls.length).toBe(30);
    // each level left 80 for a (2000 - 1920): deferred adds up, as atomic_long_add_return does
    expect(r.stats(a).deferred).toBe(160);
    expect(b.calls.length).toBe(15);
    expect(b.counts).toBe(2);
    r.check();
  });

  test("unregistering everything from inside a pass", () => {
    const r = new ShrinkerRegistry();
    const caches = [1, 2, 3].map((i) => new FakeCache(`c${i}`, 100));
    caches[0]!.onScan = () => {
      for (const c of caches) r.unregister(c);
    };
    for (const c of caches) r.register(c);
    expect(r.shrink({ nid: 0, priority: 0 })).toBe(100);
    expect(r.size).toBe(0);
    expect(r.shrinkers()).toEqual([]);
    r.check();
    r.register(caches[1]!);
    expect(r.stats(caches[1]!).id).toBe(3);
    r.check();
  });

  test("writes by callbacks to fields they must not change are ignored", () => {
    const r = new ShrinkerRegistry({ nodes: 2 });
    const seen: ShrinkControl[] = [];
    const s: Shrinker = {
      name: "vandal",
      numaAware: true,
      count: (sc) => {
        seen.push({ ...sc });
        sc.nid = 99;
        sc.priority = -7;
        return 300;
      },
      scan: (sc) => {
        seen.push({ ...sc });
        sc.nid = 42;
        sc.nrToScan = 1e9;
        return 0;
      },
    };
    r.register(s);
    r.shrink({ nid: 1, priority: 0 });
    expect(seen[0]).toEqual({ nid: 1, nrToScan: 0, priority: 0, nrScanned: 0 });
    expect(seen.slice(1).every((sc) => sc.nid === 1 && sc.priority === 0 && sc.nrToScan === 128)).toBe(true);
    // total = min(600, 600): batches 128 * 4 = 512 then 88 < 128, < 300
    expect(seen.length).toBe(1 + 4);
    expect(r.stats(s).nodes[1]).toMatchObject({ scanned: 512, deferred: 88, lastCount: 300 });
    r.check();
  });
});

describe("misbehaving shrinkers", () => {
  /** Each lies or throws in its own way; registered ahead of an honest one. */
  function liars(): Shrinker[] {
    return [
      { name: "count-throws", count: () => { throw new Error("count exploded"); }, scan: () => 0 },
      { name: "count-nan", count: () => Number.NaN, scan: () => 0 },
      { name: "count-negative", count: () => -5, scan: () => 0 },
      { name: "count-string", count: () => "12" as never, scan: () => 0 },
      { name: "count-infinite", count: () => Infinity, scan: () => 0 },
      { name: "count-fraction", count: () => 300.7, scan: () => 0 },
      { name: "scan-throws", count: () => 500, scan: () => { throw new RangeError("scan exploded"); } },
      { name: "scan-nan", count: () => 500, scan: () => Number.NaN },
      { name: "scan-overreports", count: () => 200, scan: () => 1e6 },
      { name: "scanned-bad", count: () => 500, scan: (sc) => { sc.nrScanned = -3; return 1; } },
      { name: "stop", count: () => 500, scan: () => SHRINK_STOP },
      { name: "empty", count: () => SHRINK_EMPTY, scan: () => 0 },
    ];
  }

  test("cannot stop an honest shrinker from being shrunk exactly as if it were alone", () => {
    const alone = new ShrinkerRegistry();
    const honestAlone = new FakeCache("honest", 5000);
    alone.register(honestAlone);

    const seen: ShrinkerWarning[] = [];
    const r = new ShrinkerRegistry({ onWarning: (w) => seen.push(w), warningLimit: 1000 });
    const shrinkers = liars();
    for (const s of shrinkers) r.register(s);
    const honest = new FakeCache("honest", 5000);
    r.register(honest);

    for (let p = 12; p >= 0; p--) {
      alone.shrink({ nid: 0, priority: p });
      r.shrink({ nid: 0, priority: p });
      r.check();
    }
    expect(honest.objects).toEqual(honestAlone.objects);
    expect(honest.calls).toEqual(honestAlone.calls);
    expect(r.stats(honest)).toEqual({ ...alone.stats(honestAlone), id: shrinkers.length });
    expect(seen).toEqual(r.warnings());
    expect(r.warningCount).toBe(seen.length);
  });

  test("what each misbehaviour is taken as, and the warning it leaves", () => {
    const r = new ShrinkerRegistry({ warningLimit: 1000 });
    const shrinkers = liars();
    for (const s of shrinkers) r.register(s);
    const freed = r.shrink({ nid: 0, priority: 0 });
    const byName = (name: string) => r.warnings().filter((w) => w.shrinker === name);
    const stats = (name: string) => r.stats(shrinkers.find((s) => s.name === name)!);

    expect(byName("count-throws")).toMatchObject([{ kind: "count-threw", usedInstead: 0 }]);
    expect(byName("count-throws")[0]!.message).toContain("count exploded");
    expect(byName("count-nan")).toMatchObject([{ kind: "count-invalid", usedInstead: 0 }]);
    expect(byName("count-nan")[0]!.message).toContain("NaN");
    expect(byName("count-negative")[0]!.message).toContain("-5");
    expect(byName("count-string")[0]!.message).toContain('"12"');
    expect(byName("count-infinite")[0]!.message).toContain("Infinity");
    expect(byName("count-fraction")).toMatchObject([{ kind: "count-invalid", value: 300.7, usedInstead: 300 }]);
    // 300 objects: total = min(600, 600): 4 batches of 128 and 88 left (< 128, < 300)
    expect(stats("count-fraction")).toMatchObject({ scanCalls: 4, scanned: 512, deferred: 88, counted: 300 });

    // a throwing scan is SHRINK_STOP: one call, nothing scanned, all of delta deferred (capped)
    expect(byName("scan-throws")).toMatchObject([{ kind: "scan-threw", usedInstead: SHRINK_STOP }]);
    expect(byName("scan-throws")[0]!.message).toContain("scan exploded");
    expect(stats("scan-throws")).toMatchObject({ scanCalls: 1, scanned: 0, freed: 0, deferred: 1000 });

    // NaN freed counts as 0 freed; scanning goes on: total 1000 -> 7 batches of 128 (104 left)
    expect(byName("scan-nan")).toHaveLength(7);
    expect(stats("scan-nan")).toMatchObject({ scanCalls: 7, scanned: 896, freed: 0 });

    // reports 1e6 freed for 128 asked and 200 counted: clamped to max(128, 200 - freed so far)
    // call 1: max(128, 200) = 200; then total = 400 - 128 = 272: call 2: max(128, 200 - 200) = 128;
    // then 144: call 3: 128; 16 left < 128, < 200
    expect(byName("scan-overreports").map((w) => w.usedInstead)).toEqual([200, 128, 128]);
    expect(byName("scan-overreports")[0]!.message).toContain("1000000");
    expect(stats("scan-overreports")).toMatchObject({ freed: 456, scanned: 384 });

    // nrScanned = -3 is taken as nrToScan: normal batches, one warning each
    expect(byName("scanned-bad").map((w) => w.kind)).toEqual(Array(7).fill("scanned-invalid"));
    expect(stats("scanned-bad")).toMatchObject({ scanned: 896, freed: 7 });

    // SHRINK_STOP and SHRINK_EMPTY are answers, not misbehaviour
    expect(byName("stop")).toEqual([]);
    expect(byName("empty")).toEqual([]);
    expect(stats("stop")).toMatchObject({ scanCalls: 1, scanned: 0, deferred: 1000 });

    expect(freed).toBe(456 + 7);
    expect(stats("scan-nan").warnings).toBe(7);
    r.check();
  });

  test("the warning ring keeps the newest; a throwing observer is ignored", () => {
    let calls = 0;
    const r = new ShrinkerRegistry({
      warningLimit: 3,
      onWarning: () => {
        calls++;
        throw new Error("observer");
      },
    });
    r.register({ name: "bad", count: () => Number.NaN, scan: () => 0 });
    for (let i = 0; i < 5; i++) r.shrink({ nid: 0, priority: i });
    expect(calls).toBe(5);
    expect(r.warningCount).toBe(5);
    expect(r.warnings().map((w) => w.priority)).toEqual([2, 3, 4]);
    r.clearWarnings();
    expect(r.warnings()).toEqual([]);
    expect(r.warningCount).toBe(5);
  });
});

describe("statistics and the debugfs-like dump", () => {
  test("countFile, debugScan and debugDump", () => {
    const r = new ShrinkerRegistry({ nodes: 3 });
    const aware = new FakeCache("dentry", [120, 0, 30], { numaAware: true });
    const unaware = new FakeCache("pte-cache", [512, 7, 7], { seeks: 1, batch: 64 });
    const empty: Shrinker = { name: "empty", count: () => SHRINK_EMPTY, scan: () => 0 };
    r.register(aware);
    r.register(unaware);
    r.register(empty);
    expect(r.countFile(aware)).toBe("0 120 0 30\n");
    expect(r.countFile(unaware)).toBe("0 512 0 0\n");
    expect(r.countFile(empty)).toBe("");
    // count files do not touch the statistics
    expect(r.stats(aware).countCalls).toBe(0);
    expect(r.debugScan(aware, 2, 10)).toBe(10);
    expect(r.stats(aware).nodes[2]).toMatchObject({ scanned: 10, freed: 10, deferred: 0 });
    expect(r.debugScan(unaware, 2, 100)).toBe(100);
    expect(r.stats(unaware).nodes[0]).toMatchObject({ scanned: 100, freed: 100 });
    r.shrink({ nid: 0, priority: 0 });
    expect(r.debugDump()).toBe(
      [
        "dentry-0 seeks=2 batch=128 numa-aware=yes count-calls=1 scan-calls=2 warnings=0",
        "  count: 0 0 0 20",
        // node 0: delta = 120 * 4 / 2 = 240, total = 240: one batch of 128, then 112 < 128 and < 120: stop
        "  node 0: last-count=120 counted=120 scanned=128 freed=120 deferred=112",
        "  node 1: last-count=0 counted=0 scanned=0 freed=0 deferred=0",
        "  node 2: last-count=0 counted=0 scanned=10 freed=10 deferred=0",
        // 412 objects after debugScan's 100, seeks 1: delta = 412 * 4 / 1 = 1648, total = min(1648, 824)
        // = 824: 12 batches of 64 (768; the first 7 free all 412), 56 left < 64, < 412.
        // deferred = min(max(0 + 1648 - 768, 0), 824) = 824. Plus debugScan's call: 13 calls,
        // 868 scanned, 512 freed.
        "pte-cache-1 seeks=1 batch=64 numa-aware=no count-calls=1 scan-calls=13 warnings=0",
        "  count: (empty)",
        "  node 0: last-count=412 counted=412 scanned=868 freed=512 deferred=824",
        "empty-2 seeks=2 batch=128 numa-aware=no count-calls=1 scan-calls=0 warnings=0",
        "  count: (empty)",
        "  node 0: last-count=0 counted=0 scanned=0 freed=0 deferred=0",
        "",
      ].join("\n"),
    );
    r.check();
  });
});

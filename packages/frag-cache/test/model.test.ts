import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { MmkitError, PhysicalMemory } from "@mmkit/physmem";
import { FragmentCache, POISON_BYTE, type PoisonReport } from "@mmkit/frag-cache";
import { FakePageSource } from "./fake-page-source.js";

type Op =
  | { kind: "alloc"; size: number; alignLog: number }
  | { kind: "free"; pick: number }
  | { kind: "bad-free"; pick: number; delta: number }
  | { kind: "drain" }
  | { kind: "fail3"; on: boolean };

const sizeArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(64, 576, 1500) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 4096 }) },
  { weight: 1, arbitrary: fc.integer({ min: 4097, max: 32768 }) },
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ kind: fc.constant("alloc" as const), size: sizeArb, alignLog: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 13 })) }) },
  { weight: 7, arbitrary: fc.record({ kind: fc.constant("free" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("bad-free" as const), pick: fc.nat(), delta: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(-32, -16, 16, 32, 4096)) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("drain" as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("fail3" as const), on: fc.boolean() }) },
);

/** Replays `ops` against the cache and a model (live address -> size rounded up to 16); returns the cache for final checks. */
function replay(ops: Op[], options: { misalign: number; backed: boolean }) {
  const source = new FakePageSource(48);
  source.misalign = options.misalign;
  const m = options.backed ? new PhysicalMemory({ ranges: [{ base: 0, size: 48 * 4096 }], backing: "array" }) : null;
  const reports: PoisonReport[] = [];
  const cache = new FragmentCache(source, m ? { backing: m, poison: true, zeroOnAlloc: true, onPoison: (r) => reports.push(r) } : {});
  const live = new Map<number, number>();
  const freed = new Set<number>();
  let stamp = 0;
  for (const op of ops) {
    if (op.kind === "alloc") {
      const align = 2 ** op.alignLog;
      const before = cache.stats().fragmentsAllocated;
      const a = cache.alloc(op.size, align);
      if (a === -1) {
        expect(cache.stats().fragmentsAllocated).toBe(before);
      } else {
        const size = Math.ceil(op.size / 16) * 16;
        expect(a % align).toBe(0);
        expect(a % 16).toBe(0);
        expect(live.has(a)).toBe(false);
        for (const [b, n] of live) expect(a + size <= b || b + n <= a).toBe(true); // no overlap, ever
        live.set(a, size);
        expect(cache.sizeOf(a)).toBe(size);
        freed.delete(a);
        if (m) {
          expect(cache.view(a).every((x) => x === 0)).toBe(true); // zeroOnAlloc
          cache.view(a).fill(++stamp & 0x7f); // the owner writes its fragment (never 0xaa)
        }
      }
    } else if (op.kind === "free") {
      if (live.size === 0) continue;
      const keys = [...live.keys()];
      const a = keys[op.pick % keys.length]!;
      cache.free(a);
      live.delete(a);
      freed.add(a);
      if (m) expect(m.bytes(a, 1)[0]).toBe(POISON_BYTE);
    } else if (op.kind === "bad-free") {
      const keys = [...live.keys(), ...freed];
      const a = keys.length ? keys[op.pick % keys.length]! + op.delta : op.delta;
      if (live.has(a)) continue;
      const before = JSON.stringify([cache.stats(), cache.blocks(), cache.currentBlock()]);
      expect(() => cache.free(a)).toThrow(MmkitError);
      expect(cache.isLive(a)).toBe(false);
      expect(JSON.stringify([cache.stats(), cache.blocks(), cache.currentBlock()])).toBe(before);
    } else if (op.kind === "drain") {
      cache.drain();
    } else if (op.on) source.failing.add(3);
    else source.failing.delete(3);
    cache.check();
    const s = cache.stats();
    expect(s.liveFragments).toBe(live.size);
    expect(s.liveBytes).toBe([...live.values()].reduce((x, y) => x + y, 0));
    // Pages out = pages of the blocks the cache holds.
    expect(source.outstanding).toBe(cache.blocks().reduce((n, b) => n + (1 << b.order), 0));
  }
  // Everything back: free the rest, drain, and the source has every page again.
  for (const a of live.keys()) cache.free(a);
  cache.drain();
  cache.check();
  expect(source.outstanding).toBe(0);
  expect(cache.stats()).toMatchObject({ blocksInUse: 0, liveFragments: 0, liveBytes: 0 });
  expect(cache.stats().blocksTaken).toBe(cache.stats().blocksReturned);
  expect(reports).toEqual([]); // the model never writes after free
  totals.recycled += cache.stats().blocksRecycled;
  totals.fallbacks += cache.stats().fallbacks;
  totals.failures += cache.stats().allocFailures;
  totals.returned += cache.stats().blocksReturned;
  return cache;
}

const totals = { recycled: 0, fallbacks: 0, failures: 0, returned: 0 };

describe("model-based", () => {
  test("random sizes, alignments, frees, drains and order-3 failures", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 100, maxLength: 300 }), fc.constantFrom(0, 0, 1, 3), (ops, misalign) => {
        replay(ops, { misalign, backed: false });
      }),
      { numRuns: 100 },
    );
    // The runs reach every path: recycling, fallbacks, failures, returns.
    expect(totals.recycled).toBeGreaterThan(0);
    expect(totals.fallbacks).toBeGreaterThan(0);
    expect(totals.failures).toBeGreaterThan(0);
    expect(totals.returned).toBeGreaterThan(0);
  }, 30_000);

  test("the same over backed memory with zeroOnAlloc and poison: no report for clean use", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 50, maxLength: 150 }), (ops) => {
        replay(ops, { misalign: 0, backed: true });
      }),
      { numRuns: 40 },
    );
  }, 30_000);

  test("a long IMIX run with a ring of live fragments recycles blocks and returns every page", () => {
    const source = new FakePageSource(1024);
    const cache = new FragmentCache(source);
    const ring = new Float64Array(2000).fill(-1);
    const sizes = [64, 64, 576, 64, 1500, 64, 576, 64, 64, 576, 64, 576];
    for (let i = 0; i < 100_000; i++) {
      const k = i % ring.length;
      if (ring[k]! >= 0) cache.free(ring[k]!);
      ring[k] = cache.alloc(sizes[i % sizes.length]!);
      if (ring[k] === -1) throw new Error(`alloc failed at step ${i}`);
    }
    cache.check();
    const s = cache.stats();
    expect(s.fragmentsAllocated).toBe(100_000);
    expect(s.blocksTaken + s.blocksRecycled).toBeGreaterThan(1000);
    for (const a of ring) cache.free(a);
    cache.drain();
    expect(source.outstanding).toBe(0);
  });
});

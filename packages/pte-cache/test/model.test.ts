import fc from "fast-check";
import { PageState } from "@mmkit/pte-cache";
import { expect, test } from "vitest";
import { makeSystem } from "./setup.js";

type Op =
  | { t: "alloc"; nid: number }
  | { t: "free"; i: number }
  | { t: "otherAlloc" }
  | { t: "otherFree"; i: number }
  | { t: "shrink"; n: number; nid: number }
  | { t: "toggle9" }
  | { t: "allocMany"; k: number }
  | { t: "freeMany"; k: number; i: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant("alloc" as const), nid: fc.integer({ min: -1, max: 1 }) }) },
  { weight: 5, arbitrary: fc.record({ t: fc.constant("free" as const), i: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("otherAlloc" as const) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("otherFree" as const), i: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("shrink" as const), n: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 1200 })), nid: fc.integer({ min: -1, max: 1 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("toggle9" as const) }) },
);

// Bulk operations move the cache across many regions, so the region table grows, compacts and
// renumbers its slots under live lists.
const bulkOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant("allocMany" as const), k: fc.integer({ min: 1, max: 3000 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("freeMany" as const), k: fc.integer({ min: 1, max: 1500 }), i: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("otherAlloc" as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("otherFree" as const), i: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("shrink" as const), n: fc.integer({ min: 0, max: 6000 }), nid: fc.integer({ min: -1, max: 1 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("toggle9" as const) }) },
);

// A model of alloc/free/adopt/shrink against the real cache over a real DirectMap and MemoryMap:
// the model is the set of pages handed out by the cache and the set held by "other users" of the
// page source; after every step the cache's and the direct map's check() run, every page is owned
// exactly once (source free, cache, other user), and the direct map's split and collapse counts are
// the cache's own.
const totals = { allocs: 0, fallbacks: 0, adopted: 0, shrunk: 0 };

let maxRegions = 0;

function runModel(ops: Op[], splitBlocks: boolean, mib: number): void {
      const sys = makeSystem({ mib, nodes: 2, splitBlocks });
      const { cache, source, directMap } = sys;
      source.splitPages = splitBlocks;
      const inUse: number[] = [];
      const inUseSet = new Set<number>();
      const others: number[] = [];
      for (const o of ops) {
        switch (o.t) {
          case "alloc": {
            const before = cache.stats();
            const sourceFree = source.pages - source.usedPages;
            const p = cache.alloc(o.nid);
            if (p < 0) {
              expect(before.cachedPages).toBe(0);
              expect(sourceFree).toBe(0);
            } else {
              expect(inUseSet.has(p)).toBe(false);
              expect(others.includes(p)).toBe(false);
              expect(cache.pageState(p)).toBe(PageState.InUse);
              expect(directMap.leafPages(p)).toBe(1);
              inUse.push(p);
              inUseSet.add(p);
            }
            break;
          }
          case "free": {
            if (inUse.length === 0) break;
            const k = o.i % inUse.length;
            const p = inUse[k]!;
            inUse[k] = inUse[inUse.length - 1]!;
            inUse.pop();
            inUseSet.delete(p);
            cache.free(p);
            expect(cache.pageState(p)).toBe(PageState.Cached);
            break;
          }
          case "otherAlloc": {
            const p = source.allocPages(0);
            if (p >= 0) others.push(p);
            break;
          }
          case "otherFree": {
            if (others.length === 0) break;
            const k = o.i % others.length;
            const p = others[k]!;
            others.splice(k, 1);
            const tracked = cache.tracksRegionOf(p);
            const taken = cache.adopt(p);
            expect(taken).toBe(tracked);
            if (!taken) source.freePages(p, 0);
            break;
          }
          case "shrink": {
            const freeable = cache.freeablePages(o.nid);
            const got = cache.shrink(o.n, o.nid);
            expect(got).toBeLessThanOrEqual(freeable);
            expect(got).toBeGreaterThanOrEqual(Math.min(o.n, freeable));
            expect(got).toBeLessThan(o.n + 512);
            break;
          }
          case "toggle9":
            source.failOrder9 = !source.failOrder9;
            break;
          case "allocMany":
            for (let j = 0; j < o.k; j++) {
              const p = cache.alloc();
              if (p < 0) break;
              expect(inUseSet.has(p)).toBe(false);
              inUse.push(p);
              inUseSet.add(p);
            }
            break;
          case "freeMany":
            for (let j = 0; j < o.k && inUse.length > 0; j++) {
              const k = (o.i + j * 7919) % inUse.length;
              const p = inUse[k]!;
              inUse[k] = inUse[inUse.length - 1]!;
              inUse.pop();
              inUseSet.delete(p);
              cache.free(p);
            }
            break;
        }
        cache.check();
        directMap.check();
        const s = cache.stats();
        maxRegions = Math.max(maxRegions, s.regions);
        expect(s.inUsePages).toBe(inUse.length);
        expect(source.usedPages).toBe(s.cachedPages + s.inUsePages + others.length);
        const c = directMap.counters();
        expect(c.level2Splits).toBe(s.splitsCaused);
        expect(c.collapses2M).toBe(s.collapses);
        expect(c.directMap4k / 4096).toBe(512 * (s.splitsCaused - s.collapses));
      }
      totals.allocs += cache.stats().allocs;
      totals.fallbacks += cache.stats().fallbacks;
      totals.adopted += cache.stats().adopted;
      totals.shrunk += cache.stats().shrinkerReturnedPages;
      // Give everything back: the machine is whole again.
      for (const p of inUse) cache.free(p);
      for (const p of others) if (!cache.adopt(p)) source.freePages(p, 0);
      source.splitPages = true; // blocks with adopted or fallback pages go back page by page
      cache.drain();
      if (!splitBlocks) {
        // Intact blocks are all free now, so the drain took everything.
        expect(cache.stats().regions).toBe(0);
      }
      cache.check();
      expect(source.usedPages).toBe(cache.stats().cachedPages);
}

test("model: alloc, free, adopt, shrink, order-9 failure, with check() after every step", { timeout: 30_000 }, () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 200, size: "max" }), fc.boolean(), (ops, splitBlocks) => runModel(ops, splitBlocks, 8)),
    { numRuns: 100 },
  );
  // The generated runs reach every path: refills and fallbacks, adoption, shrinking.
  for (const [k, v] of Object.entries(totals)) expect(v, k).toBeGreaterThan(0);
  console.log(totals);
});

test("model at region scale: the region table grows, compacts and renumbers under live lists", { timeout: 30_000 }, () => {
  fc.assert(
    fc.property(fc.array(bulkOp, { maxLength: 30, size: "max" }), fc.boolean(), (ops, splitBlocks) => runModel(ops, splitBlocks, 48)),
    { numRuns: 15 },
  );
  expect(maxRegions).toBeGreaterThan(8); // the table grew past its first 8 slots
});

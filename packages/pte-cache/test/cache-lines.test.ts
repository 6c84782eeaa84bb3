import { DirectMap, MemoryMap, MiB, ProbingArena } from "@mmkit/physmem";
import { PteMappedCache } from "@mmkit/pte-cache";
import { expect, test } from "vitest";
import { FakePageSource } from "./fake-page-source.js";

// Exact 64-byte metadata lines per operation, counted by physmem's ProbingArena over the cache's own
// arrays (the page source and the direct map have arenas of their own, not probed here).
test("cache lines touched by free() and alloc() from the cache", () => {
  const map = MemoryMap.uniform(64 * MiB);
  const probe = new ProbingArena();
  const cache = new PteMappedCache({ source: new FakePageSource(map.presentPages), directMap: new DirectMap(map, { largestLeaf: "2M" }), arena: probe });
  const pages = Array.from({ length: 4096 }, () => cache.alloc()); // 8 full blocks, on no list
  cache.free(pages[0]!); // block 0 on the partial list
  cache.free(pages[600]!); // block 1 at its head

  // A free into a full block: hash bucket, its record, one page-map line, list heads, per-list page
  // counts, and the old head's record (its prev link), which lies in another line.
  const free = probe.measure(() => cache.free(pages[2000]!));
  expect(free.linesByLabel).toEqual({
    "pte-cache region index": 1,
    "pte-cache region records": 2,
    "pte-cache region page maps": 1,
    "pte-cache lru heads": 1,
    "pte-cache list pages": 1,
  });
  expect(free.lines).toBe(6);

  // An alloc that empties the head region's free pages: no hash, the record, its next neighbour, one
  // page-map line, list heads, per-list page counts.
  const alloc = probe.measure(() => cache.alloc());
  expect(alloc.value).toBe(2000);
  expect(alloc.lines).toBe(6);
  expect(alloc.linesByLabel["pte-cache region records"]).toBe(2);

  // An alloc that leaves the region at the head of its list: the record, list heads, page counts,
  // and the page maps scanned up to the free page (pfn 2001 is word 14 of its region's free map,
  // in the second of the map's two lines).
  cache.free(pages[2001]!);
  cache.free(pages[2002]!);
  const again = probe.measure(() => cache.alloc());
  expect(again.value).toBe(2001);
  expect(again.linesByLabel).toEqual({
    "pte-cache region records": 1,
    "pte-cache region page maps": 2,
    "pte-cache lru heads": 1,
    "pte-cache list pages": 1,
  });
  expect(probe.measure(() => cache.pageState(pages[5]!)).lines).toBe(3);
  cache.check();
});

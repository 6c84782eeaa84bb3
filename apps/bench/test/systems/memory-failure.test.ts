import { MemdescType, memdescType } from "@mmkit/memdesc-lookup";
import { MiB } from "@mmkit/physmem";
import { describe, expect, test } from "vitest";
import { SYSTEMS, buildSystem, type MemorySystem } from "../../src/systems/index.js";

const BYTES = 8 * MiB;

/** Allocates order-0 pages until the system has none left; returns every pfn handed out. */
function drain(system: MemorySystem): Set<number> {
  const got = new Set<number>();
  for (let pfn = system.pages.allocPages(0); pfn >= 0; pfn = system.pages.allocPages(0)) got.add(pfn);
  return got;
}

describe.each(SYSTEMS.map((s) => [s.name, s] as const))("memory failure in %s", (_, def) => {
  test("a poisoned anon block reaches its owner with the block's range, and is quarantined when freed", () => {
    const system = buildSystem(def, { bytes: BYTES });
    const pfn = system.pages.allocPages(2);
    expect(system.machine.poison(pfn + 3)).toBe(true);
    expect(system.failureNotices).toEqual([{ pfn: pfn + 3, owner: "anon", type: "anon", firstPfn: pfn, lastPfn: pfn + 3 }]);
    system.pages.freePages(pfn, 2);
    expect(system.pages.quarantinedPages).toBe(4);
    expect(system.pages.quarantine).toEqual([{ pfn, order: 2 }]);
    expect(memdescType(system.table.get(pfn + 3))).toBe(MemdescType.HwPoison);
    expect(system.router.physToDesc((pfn + 3) * 4096)?.owner?.name).toBe("hwpoison quarantine");
    expect(() => system.pages.freePages(pfn, 2)).toThrow(expect.objectContaining({ code: "ERR_DOUBLE_FREE", message: expect.stringContaining(`pfn ${pfn} is quarantined`) }));
    expect(system.pages.quarantinedPages).toBe(4);
    const handedOut = drain(system);
    for (let p = pfn; p < pfn + 4; p++) expect(handedOut.has(p)).toBe(false);
    system.check();
  });

  test("a poisoned free page is told to nobody and never handed out: the allocator side takes it out when it comes up", () => {
    const system = buildSystem(def, { bytes: BYTES });
    const victim = 700;
    expect(system.table.get(victim)).toBe(-1);
    system.machine.poison(victim);
    expect(system.failureNotices).toEqual([]);
    expect(system.freePagesPoisoned).toBe(1);
    const handedOut = drain(system);
    expect(handedOut.has(victim)).toBe(false);
    expect(system.pages.quarantine.map((q) => q.pfn)).toEqual([victim]);
    expect(handedOut.size).toBeGreaterThan(1500);
    system.check();
  });

  test("the fragment cache and the PTE-mapped cache are told about their own memory, and stop handing it out", () => {
    const system = buildSystem(def, { bytes: BYTES });
    const frag = system.fragmentCache!.alloc(1500);
    const block = system.fragmentCache!.currentBlock()!.pfn;
    system.machine.poison(block + 2);
    expect(system.failureNotices).toEqual([{ pfn: block + 2, owner: "page_frag_cache", type: "net-pool", firstPfn: block, lastPfn: block + 7 }]);
    // The owner let go of the failed block: the next fragment comes from another one.
    expect(system.fragmentCache!.currentBlock()).toBeNull();
    const next = system.fragmentCache!.alloc(64);
    expect(Math.floor(next / 4096) - block >= 8 || Math.floor(next / 4096) < block).toBe(true);
    system.fragmentCache!.free(frag); // the last fragment: the block goes back to the face, which quarantines it
    expect(system.pages.quarantine).toEqual([{ pfn: block, order: 3 }]);

    const pte = system.allocPteMapped();
    const region = pte - (pte % 512);
    system.machine.poison(pte + 1); // a page still cached, not handed out yet
    expect(system.failureNotices[1]).toEqual({ pfn: pte + 1, owner: "pte-mapped cache", type: "page-table", firstPfn: region, lastPfn: region + 511 });
    const more = Array.from({ length: 511 }, () => system.allocPteMapped());
    expect(more.includes(pte + 1)).toBe(false);
    system.check();
  });
});

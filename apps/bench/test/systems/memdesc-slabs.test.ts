import { MemdescType, encodeMemdesc, memdescHandle, memdescType } from "@mmkit/memdesc-lookup";
import { MiB } from "@mmkit/physmem";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { buildSystem, memdescFigures, metadataFigures, systemNamed, type MemorySystem } from "../../src/systems/index.js";

const memdesc = systemNamed("memdesc")!;

/** Every slab page of the memdesc slabs is in the table under its own slab descriptor, and nothing else is typed slab. */
function slabPagesRecorded(system: MemorySystem): number {
  const md = system.memdescSlabs!;
  let slabPages = 0;
  for (let pfn = 0; pfn < system.managedPages; pfn++) {
    const m = system.table.get(pfn);
    if (m < 0 || memdescType(m) !== MemdescType.Slab) continue;
    expect(m).toBe(encodeMemdesc(MemdescType.Slab, md.slab.descriptorOf(pfn * system.pageSize)));
    slabPages++;
  }
  return slabPages;
}

describe("memdescs from slab caches (seed 001) in the memdesc system", () => {
  test("a folio's memdesc comes from folio_cache before its pages; slab pages are recorded under their slab descriptors; the recursion stops at depth 2", () => {
    const system = buildSystem(memdesc, { bytes: 8 * MiB });
    expect(memdescFigures(system)).toEqual({ bytesPerPage: 0, slabPages: 0, memdescs: 0, maxDepth: 0, slabsAtDepth: [0, 0] });
    const pfn = system.pages.allocPages(0);
    // Pfn 0: the folio cache's first slab (its memdesc the folio at address 0); pfn 1: the slab
    // cache's first slab, holding its own descriptor (4096) and then the folio slab's (4160).
    expect(pfn).toBe(2);
    expect(system.table.get(pfn)).toBe(encodeMemdesc(MemdescType.Anon, 0));
    expect(system.table.get(0)).toBe(encodeMemdesc(MemdescType.Slab, 4160));
    expect(system.table.get(1)).toBe(encodeMemdesc(MemdescType.Slab, 4096));
    expect(system.router.physToDesc(0)?.typeName).toBe("slab");
    // A page table's memdesc is 64 bytes, as large as a slab descriptor: its slab (pfn 3) hosts its own.
    const pt = system.pages.allocPages(2, MemdescType.PageTable);
    expect([pt, system.table.get(pt), system.table.get(3)]).toEqual([4, encodeMemdesc(MemdescType.PageTable, 12352), encodeMemdesc(MemdescType.Slab, 12288)]);
    expect(memdescFigures(system)).toEqual({ bytesPerPage: 12288 / 8, slabPages: 3, memdescs: 2, maxDepth: 2, slabsAtDepth: [2, 1] });
    expect(system.memdescSlabs!.pageBytes!.heldBytes).toBe(12288);
    // The slab pages are descriptor metadata, beside the table's and the slab allocator's arrays.
    const meta = metadataFigures(system);
    expect(meta.byComponent.descriptors).toBe((system.arenas.descriptors as unknown as { bytes: number }).bytes + 12288);
    system.pages.freePages(pfn, 0);
    system.pages.freePages(pt, 2);
    expect(system.memdescSlabs!.figures().memdescs).toBe(0);
    system.drain();
    system.check();
    // Drained, every slab went back (the slab cache's own slab last) and every page is free.
    expect([system.memdescSlabs!.figures().slabBytes, system.pages.livePages, system.potad!.stats(system.ramSpace).allocatedBytes]).toEqual([0, 0, 0]);
  });

  test("the slab pages' packed buffer doubles under live slabs without losing a free pointer", () => {
    const system = buildSystem(memdesc, { bytes: 16 * MiB });
    const bytes = system.memdescSlabs!.pageBytes!;
    const first = bytes.whole();
    const pfns: number[] = [];
    // 2040 folios: 40 slabs of 51 memdescs, plus the descriptor slab; the buffer starts at 16 pages.
    for (let i = 0; i < 2040; i++) pfns.push(system.pages.allocPages(0));
    expect([system.memdescSlabs!.figures().slabBytes, bytes.heldBytes, bytes.capacityBytes]).toEqual([41 * 4096, 41 * 4096, 64 * 4096]);
    expect(bytes.whole()).not.toBe(first);
    // Every other folio freed, then as many allocated: the free lists threaded before the doublings still hold.
    for (let i = 0; i < pfns.length; i += 2) system.pages.freePages(pfns[i]!, 0);
    system.check();
    const memdescs = new Set<number>();
    for (let i = 0; i < pfns.length; i += 2) pfns[i] = system.pages.allocPages(0);
    for (const pfn of pfns) memdescs.add(memdescHandle(system.table.get(pfn)));
    expect([memdescs.size, system.memdescSlabs!.figures().slabBytes]).toEqual([2040, 41 * 4096]);
    system.check();
  });

  test("random allocations of every covered type against a model: one live memdesc each, of the right cache, slab pages recorded; check() after every step", () => {
    const cacheOf = (type: number): string => (type === MemdescType.PageTable ? "ptdesc" : type === MemdescType.NetPool ? "netpool" : "folio");
    const op = fc.oneof(
      fc.record({ kind: fc.constant("alloc" as const), order: fc.integer({ min: 0, max: 3 }), type: fc.constantFrom(MemdescType.Anon, MemdescType.PageTable, MemdescType.NetPool, MemdescType.File) }),
      fc.record({ kind: fc.constant("range" as const), pages: fc.integer({ min: 1, max: 40 }) }),
      fc.record({ kind: fc.constant("free" as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant("poison" as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        // 1 MiB: small enough to run out (a failed allocation must give its memdesc back).
        const system = buildSystem(memdesc, { bytes: 1 * MiB });
        const md = system.memdescSlabs!;
        const live: { pfn: number; pages: number; type: number; range: boolean }[] = [];
        for (const o of ops) {
          if (o.kind === "alloc" || o.kind === "range") {
            const range = o.kind === "range";
            const pages = range ? o.pages : 2 ** o.order;
            const type = range ? MemdescType.Movable : o.type;
            const pfn = range ? system.pages.allocRange(pages, 1) : system.pages.allocPages(o.order, type);
            if (pfn >= 0) live.push({ pfn, pages, type, range });
          } else if (live.length > 0) {
            const [a] = live.splice(o.pick % live.length, 1);
            if (o.kind === "poison") system.machine.poison(a!.pfn + (o.pick % a!.pages));
            if (a!.range) system.pages.freeRange(a!.pfn, a!.pages);
            else system.pages.freePages(a!.pfn, Math.log2(a!.pages));
          }
          system.check();
          expect(md.figures().memdescs).toBe(live.length);
          expect(md.figures().maxDepth).toBeLessThanOrEqual(2);
          for (const a of live) {
            const m = system.table.get(a.pfn);
            expect(memdescType(m)).toBe(a.type);
            const object = memdescHandle(m);
            expect(md.slab.cacheOf(object)?.name).toBe(cacheOf(a.type));
            expect(md.slab.isAllocatedObject(object)).toBe(true);
          }
          expect(slabPagesRecorded(system) * system.pageSize).toBe(md.figures().slabBytes);
        }
        for (const a of live.splice(0)) {
          if (a.range) system.pages.freeRange(a.pfn, a.pages);
          else system.pages.freePages(a.pfn, Math.log2(a.pages));
        }
        system.drain();
        system.check();
        expect([md.figures().memdescs, md.figures().slabBytes, system.pages.livePages]).toEqual([0, 0, 0]);
        // Every page is free or quarantined.
        expect(system.potad!.stats(system.ramSpace).allocatedBytes / system.pageSize).toBe(system.pages.quarantinedPages);
      }),
      { numRuns: 40 },
    );
  });
});

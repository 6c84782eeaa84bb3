import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ErrorCode, MemoryFailure, MemoryMap, MetadataArena, MmkitError, ProbingArena } from "@mmkit/physmem";
import {
  DescriptorRouter,
  MapleDescriptorTable,
  MemdescType,
  MemmapTable,
  encodeMemdesc,
  physToDesc,
  type DescriptorTable,
  type PfnRange,
  type PhysDesc,
} from "@mmkit/memdesc-lookup";

const PAGES = 4096;
const tables = (): DescriptorTable[] => [
  new MapleDescriptorTable(),
  new MemmapTable({ pages: PAGES, bytesPerPage: 64 }),
  new MemmapTable({ pages: PAGES, bytesPerPage: 16 }),
  new MemmapTable({ pages: PAGES, bytesPerPage: 8 }),
];

const rangeOf = (t: DescriptorTable, pfn: number): PfnRange | undefined => {
  const r = { firstPfn: -1, lastPfn: -1 };
  return t.range(pfn, r) ? r : undefined;
};

describe("the tables are interchangeable", () => {
  test("the same writes give the same answers in every table", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            { weight: 4, arbitrary: fc.record({ first: fc.nat(PAGES - 1), order: fc.nat(6), handle: fc.nat(1000) }) },
            { weight: 1, arbitrary: fc.nat(PAGES - 1) },
          ),
          { maxLength: 80 },
        ),
        (ops) => {
          const ts = tables();
          let serial = 0;
          for (const o of ops) {
            if (typeof o === "number") {
              // clear(pfn, out) reports the range it removed: the one range() gave just before.
              const before = rangeOf(ts[0]!, o);
              const got = ts.map((t) => {
                const r = { firstPfn: -1, lastPfn: -1 };
                const memdesc = t.clear(o, r);
                return { memdesc, range: memdesc < 0 ? undefined : r, untouched: memdesc >= 0 || (r.firstPfn === -1 && r.lastPfn === -1) };
              });
              for (const g of got) expect(g).toEqual({ memdesc: got[0]!.memdesc, range: before, untouched: true });
            } else {
              const last = Math.min(PAGES - 1, o.first + (1 << o.order) - 1);
              // Distinct handles, so the 8-byte table's runs of equal words are exact too.
              const desc = encodeMemdesc(MemdescType.File, (++serial * 1000 + o.handle) * 16);
              for (const t of ts) t.set(o.first, last, desc);
            }
            for (const t of ts) t.check();
          }
          for (let p = 0; p < PAGES; p += 7) {
            const [a, ...rest] = ts.map((t) => ({ get: t.get(p), range: rangeOf(t, p) }));
            for (const r of rest) expect(r).toEqual(a);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  test("a store cuts the descriptors it overlaps, in the memmap as in the tree", () => {
    for (const t of tables()) {
      t.set(0, 99, 16);
      t.set(40, 59, 32);
      t.check();
      expect([rangeOf(t, 10), rangeOf(t, 45), rangeOf(t, 70)]).toEqual([
        { firstPfn: 0, lastPfn: 39 },
        { firstPfn: 40, lastPfn: 59 },
        { firstPfn: 60, lastPfn: 99 },
      ]);
      expect(t.clear(45)).toBe(32);
      expect(t.get(45)).toBe(-1);
      expect(t.clear(45)).toBe(-1);
      expect(t.get(60)).toBe(16);
      t.check();
    }
  });
});

describe("metadata bytes", () => {
  test("memmaps cost their width per page; the tree costs per allocation", () => {
    const arena = new MetadataArena();
    const m64 = new MemmapTable({ pages: 262_144, bytesPerPage: 64, arena });
    const m8 = new MemmapTable({ pages: 262_144, bytesPerPage: 8, arena });
    const maple = new MapleDescriptorTable({ arena });
    expect(m64.metadataBytes).toBe(16 * 1024 * 1024); // 1 GiB of 4 KiB pages: 1.6 %
    expect(m8.metadataBytes).toBe(2 * 1024 * 1024); // 0.2 %
    expect(arena.labelBytes("memmap (64 B/page)")).toBe(16 * 1024 * 1024);
    // 512 2-MiB folios cover the same gigabyte with 512 entries.
    for (let i = 0; i < 512; i++) maple.set(i * 512, i * 512 + 511, encodeMemdesc(MemdescType.Anon, i * 16));
    maple.check();
    expect(maple.tree.nodeCount).toEqual({ leaves: 33, inner: 4 });
    expect(maple.tree.nodeBytes).toBe(33 * 262 + 4 * 646);
    expect(maple.metadataBytes).toBe(arena.bytes - 18 * 1024 * 1024);
  });

  test("lines per lookup: one for a memmap get, one or two for its range", () => {
    const arena = new ProbingArena();
    const m = new MemmapTable({ pages: 1024, bytesPerPage: 64, arena });
    m.set(512, 1023, 48);
    expect(arena.measure(() => m.get(700)).lines).toBe(1);
    const out = { firstPfn: 0, lastPfn: 0 };
    expect(arena.measure(() => m.range(700, out)).lines).toBe(2);
    expect(arena.measure(() => m.range(512, out)).lines).toBe(1);
  });
});

describe("physToDesc and routing a memory failure to the owner", () => {
  test("any address inside a descriptor resolves to its type, range and owner", () => {
    for (const table of tables()) {
      const slab = encodeMemdesc(MemdescType.Slab, 0x2000);
      const file = encodeMemdesc(MemdescType.File, 0x3000);
      table.set(256, 511, slab);
      table.set(512, 512, file);
      const router = new DescriptorRouter(table);
      const heard: PhysDesc[] = [];
      router.setOwner(MemdescType.Slab, { name: "slab", memoryFailure: (d) => heard.push(d) });
      router.setOwner(MemdescType.File, { name: "page cache" });
      const d = router.physToDesc(300 * 4096 + 17)!;
      expect(d).toMatchObject({ pfn: 300, memdesc: slab, type: 5, typeName: "slab", handle: 0x2000, firstPfn: 256, lastPfn: 511, first: 256 * 4096, last: 512 * 4096 - 1 });
      expect(d.owner?.name).toBe("slab");
      expect(physToDesc(table, 512 * 4096)?.typeName).toBe("file");
      expect(physToDesc(table, 513 * 4096)).toBeUndefined();
      // physmem's MemoryFailure events routed through the table.
      const failures = new MemoryFailure(MemoryMap.uniform(PAGES * 4096));
      failures.subscribe((e) => router.memoryFailure(e.pfn));
      failures.poison(400);
      failures.poison(512); // page cache has no handler: resolved, nobody called
      failures.poison(600); // no descriptor
      expect(heard.map((h) => [h.pfn, h.firstPfn, h.lastPfn, h.owner?.name])).toEqual([[400, 256, 511, "slab"]]);
      expect(router.memoryFailure(512)?.owner?.name).toBe("page cache");
    }
  });

  test("misuse", () => {
    const table = new MemmapTable({ pages: 16 });
    const cases: Array<[() => unknown, string, string]> = [
      [() => physToDesc(table, -1), ErrorCode.InvalidArgument, "-1"],
      [() => physToDesc(table, 1.5), ErrorCode.InvalidArgument, "1.5"],
      [() => table.get(16), ErrorCode.OutOfRange, "16"],
      [() => table.get(0.5), ErrorCode.InvalidArgument, "0.5"],
      [() => table.set(3, 2, 0), ErrorCode.InvalidArgument, "firstPfn 3 must not exceed lastPfn 2"],
      [() => table.set(0, 2, -16), ErrorCode.InvalidArgument, "-16"],
      [() => table.set(0, 2, 1.5), ErrorCode.InvalidArgument, "1.5"],
      [() => new MemmapTable({ pages: 0 }), ErrorCode.InvalidArgument, "0"],
      [() => new MemmapTable({ pages: 8, bytesPerPage: 12 }), ErrorCode.InvalidArgument, "12"],
      [() => new MapleDescriptorTable().set(0, 1, NaN), ErrorCode.InvalidArgument, "NaN"],
      [() => new DescriptorRouter(table).setOwner(16, { name: "x" }), ErrorCode.OutOfRange, "16"],
      [() => new DescriptorRouter(table, { pageSize: 1000 }), ErrorCode.InvalidArgument, "1000"],
      [() => new DescriptorRouter(table).memoryFailure(-1), ErrorCode.InvalidArgument, "-1"],
    ];
    table.set(4, 7, 32);
    for (const [fn, code, text] of cases) {
      let caught: unknown;
      try {
        fn();
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(MmkitError);
      expect((caught as MmkitError).code).toBe(code);
      expect((caught as MmkitError).message).toContain(text);
      expect(rangeOf(table, 5)).toEqual({ firstPfn: 4, lastPfn: 7 });
      table.check();
    }
  });
});

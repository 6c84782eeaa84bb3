import { MigrateType } from "@mmkit/buddy";
import { MemdescType, memdescType } from "@mmkit/memdesc-lookup";
import { MiB } from "@mmkit/physmem";
import { describe, expect, test } from "vitest";
import { compareContiguous, Q7_NAMES, q7Contenders, seedsFrom } from "../../src/suites/contiguous-comparison.js";
import { buildSystem } from "../../src/systems/build.js";
import { systemNamed } from "../../src/systems/definition.js";
import { contiguousOnFragmented, fragmentSystem, Q7_SHAPE } from "../../src/workloads/contiguous.js";

const SEED = 0x6d6d6b74;

describe("Q7: contiguous 8 MiB@1 MiB requests on a fragmented machine", () => {
  test("fragmentSystem keeps exactly 1/1024 of each kind; the slab pages sit in Unmovable pageblocks of a buddy system", () => {
    const system = buildSystem(systemNamed("classic")!, { bytes: 128 * MiB });
    const kept = fragmentSystem(system, SEED, Q7_SHAPE);
    expect([kept.anon.live, kept.anon.livePages, kept.unmovable.length, kept.unmovablePages]).toEqual([7, 21, 1, 8]);
    for (const b of kept.unmovable) expect(memdescType(system.table.get(b.pfn))).toBe(MemdescType.Slab);
    for (const b of kept.unmovable) expect(system.buddy!.pageblockMigratetype(b.pfn)).toBe(MigrateType.Unmovable);
    kept.anon.check();
    system.check();
  });

  test("on a fixed seed of 128 MiB: exact requests served and pages migrated by each contender", () => {
    const r = compareContiguous(q7Contenders(), 128 * MiB, [SEED]);
    const row = (name: string): number[] => [r.get(name)!.served, r.get(name)!.attempts, r.get(name)!.perSeed[0]!.migratedPages];
    expect(row(Q7_NAMES.potad)).toEqual([10, 16, 0]);
    expect(row(Q7_NAMES.contigRange)).toEqual([15, 16, 20]);
    expect(row(Q7_NAMES.cma)).toEqual([15, 16, 23]);
    expect(row(Q7_NAMES.compaction)).toEqual([14, 16, 13]);
    expect(row(Q7_NAMES.order11)).toEqual([9, 16, 0]);
    expect([...r.keys()]).toEqual([Q7_NAMES.potad, Q7_NAMES.contigRange, Q7_NAMES.cma, Q7_NAMES.compaction, Q7_NAMES.order11]);
    // The buddy at its default max order (4 MiB blocks) has no 8 MiB block: none served, by construction.
    expect(contiguousOnFragmented(systemNamed("classic")!, { bytes: 128 * MiB }, SEED, Q7_SHAPE).served).toBe(0);
    expect(r.get(Q7_NAMES.compaction)!.migratedPerRequest).toBe(13 / 16);
  });

  test("a contig-range buddy system serves any count at the alignment by moving anon blocks out, and takes the range back", () => {
    const system = buildSystem(systemNamed("classic")!, { bytes: 32 * MiB, contiguous: "contig-range" });
    const blocks = system.anonBlocks(4096);
    const slots = Array.from({ length: 1600 }, (_, i) => blocks.alloc(i % 4));
    expect(slots.includes(-1)).toBe(false);
    slots.forEach((slot, i) => i % 2 === 1 && blocks.free(slot));
    system.drain();
    const free = system.buddy!.freePageCount();
    const pfn = system.allocContiguous(6 * MiB, MiB);
    expect([pfn, pfn % 256, system.mover.movedPages]).toEqual(CONTIG_RANGE);
    expect(memdescType(system.table.get(pfn))).toBe(MemdescType.Movable);
    const r = { firstPfn: 0, lastPfn: 0 };
    expect(system.table.range(pfn + 1000, r) && [r.firstPfn, r.lastPfn]).toEqual([pfn, pfn + 1535]);
    blocks.check();
    system.check();
    system.freeContiguous(pfn, 6 * MiB, MiB);
    system.drain();
    expect(system.buddy!.freePageCount()).toBe(free);
    system.check();
  });

  test("the descriptor table alone does not change where POTAD places blocks: memdesc (memdescs as counted handles) serves what potad+memdesc8 serves", () => {
    // With memdescs from slab caches (the memdesc system's default) the slabs' pages come from the same
    // POTAD space, so the fill ends elsewhere: that is the memdescs' own footprint, not the table's.
    const memdesc = contiguousOnFragmented({ ...systemNamed("memdesc")!, memdescsFromSlab: false }, { bytes: 128 * MiB }, SEED, Q7_SHAPE);
    const potad8 = contiguousOnFragmented(systemNamed("potad+memdesc8")!, { bytes: 128 * MiB }, SEED, Q7_SHAPE);
    expect([memdesc.served, memdesc.anonPages, memdesc.unmovablePages]).toEqual([potad8.served, potad8.anonPages, potad8.unmovablePages]);
  });

  test("seeds follow the run's seed; a bad shape, policy or CMA size is refused naming the value; a CMA area never holds a slab page", () => {
    expect(seedsFrom(0xffffffff, 3)).toEqual([0xffffffff, 0, 1]);
    const system = buildSystem(systemNamed("classic")!, { bytes: 8 * MiB });
    expect(() => fragmentSystem(system, SEED, { keepShare: 2, unmovableShare: 0 })).toThrow(/keepShare must be a share in \[0, 1\], got 2/);
    expect(() => fragmentSystem(system, SEED, { keepShare: 0.5, unmovableShare: Number.NaN })).toThrow(/unmovableShare .* got NaN/);
    expect(system.pages.allocs).toBe(0);
    expect(() => buildSystem(systemNamed("classic")!, { bytes: 8 * MiB, contiguous: "migrate" as never })).toThrow(/contiguous must be one of block, compaction, contig-range, got "migrate"/);
    expect(() => buildSystem(systemNamed("classic")!, { bytes: 8 * MiB, cmaBytes: 16 * MiB })).toThrow(/cmaBytes must be a positive integer of bytes up to the RAM's 8388608, got 16777216/);
    // A CMA area: its pageblocks are CMA for good, and the kept slab pages never land there.
    const cma = buildSystem(systemNamed("classic")!, { bytes: 32 * MiB, cmaBytes: 8 * MiB });
    expect(cma.buddy!.pageblockMigratetype(8191)).toBe(MigrateType.Cma);
    expect(cma.buddy!.pageblockMigratetype(6143)).not.toBe(MigrateType.Cma);
    const kept = fragmentSystem(cma, SEED, { keepShare: 1 / 4, unmovableShare: 1 / 8 });
    for (const b of kept.unmovable) expect(b.pfn < 6144).toBe(true);
    cma.check();
  });
});

/** First pfn, its offset from a 1 MiB boundary, and pages moved (the orders 0 and 2 kept there: a third of 1536 pages), of the contig-range case above. */
const CONTIG_RANGE = [0, 0, 512];

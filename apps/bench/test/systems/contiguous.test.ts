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
    expect(row(Q7_NAMES.compaction)).toEqual([14, 16, 13]);
    expect(row(Q7_NAMES.order11)).toEqual([9, 16, 0]);
    expect([...r.keys()]).toEqual([Q7_NAMES.potad, Q7_NAMES.compaction, Q7_NAMES.order11]);
    // The buddy at its default max order (4 MiB blocks) has no 8 MiB block: none served, by construction.
    expect(contiguousOnFragmented(systemNamed("classic")!, { bytes: 128 * MiB }, SEED, Q7_SHAPE).served).toBe(0);
    expect(r.get(Q7_NAMES.compaction)!.migratedPerRequest).toBe(13 / 16);
  });

  test("the descriptor table alone does not change where POTAD places blocks: memdesc (memdescs as counted handles) serves what potad+memdesc8 serves", () => {
    // With memdescs from slab caches (the memdesc system's default) the slabs' pages come from the same
    // POTAD space, so the fill ends elsewhere: that is the memdescs' own footprint, not the table's.
    const memdesc = contiguousOnFragmented({ ...systemNamed("memdesc")!, memdescsFromSlab: false }, { bytes: 128 * MiB }, SEED, Q7_SHAPE);
    const potad8 = contiguousOnFragmented(systemNamed("potad+memdesc8")!, { bytes: 128 * MiB }, SEED, Q7_SHAPE);
    expect([memdesc.served, memdesc.anonPages, memdesc.unmovablePages]).toEqual([potad8.served, potad8.anonPages, potad8.unmovablePages]);
  });

  test("seeds follow the run's seed, and a bad shape is refused naming the value", () => {
    expect(seedsFrom(0xffffffff, 3)).toEqual([0xffffffff, 0, 1]);
    const system = buildSystem(systemNamed("classic")!, { bytes: 8 * MiB });
    expect(() => fragmentSystem(system, SEED, { keepShare: 2, unmovableShare: 0 })).toThrow(/keepShare must be a share in \[0, 1\], got 2/);
    expect(() => fragmentSystem(system, SEED, { keepShare: 0.5, unmovableShare: Number.NaN })).toThrow(/unmovableShare .* got NaN/);
    expect(system.pages.allocs).toBe(0);
    expect(() => buildSystem(systemNamed("classic")!, { bytes: 8 * MiB, contiguous: "migrate" as never })).toThrow(/contiguous must be one of block, compaction, got "migrate"/);
  });
});

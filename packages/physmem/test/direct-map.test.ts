import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { DirectMap, ErrorCode, GiB, MemoryMap, MetadataArena, MiB, ProbingArena, Protection } from "../src/index.js";

const PAGES_2M = 512;
const PAGES_1G = 512 * 512;

describe("DirectMap", () => {
  test("initial mapping uses the largest aligned leaves, edges in smaller ones", () => {
    // 1 MiB..(2 GiB + 6 MiB): a partial first 2 MiB, a partial first GiB, one whole GiB, a 6 MiB tail.
    const map = new MemoryMap({ ranges: [{ base: MiB, size: 2 * GiB + 5 * MiB }] });
    const arena = new MetadataArena();
    const dm = new DirectMap(map, { arena });
    const c = dm.counters();
    expect(c.directMap4k).toBe(MiB); // pages 256..511
    expect(c.directMap2M).toBe(GiB - 2 * MiB + 6 * MiB);
    expect(c.directMap1G).toBe(GiB);
    expect(c.directMap4k + c.directMap2M + c.directMap1G).toBe(map.presentBytes);
    expect(c.level2Splits + c.level3Splits).toBe(0);
    expect(dm.leafPages(256)).toBe(1);
    expect(dm.leafPages(512)).toBe(PAGES_2M);
    expect(dm.leafPages(PAGES_1G)).toBe(PAGES_1G);
    expect(dm.leafPages(100)).toBe(0);
    expect(dm.protection(100)).toBe(-1);
    // Tables: 3 PUD entries, 2 PMD tables (first and last GiB), 1 PTE table (first 2 MiB).
    expect(arena.byLabel()).toEqual({ "direct-map pud": 24, "direct-map pmd": 8192, "direct-map pte": 4096 });
    expect(c.pageTableBytes).toBe(12288);
    dm.check();
  });

  test("changing one page of a 1 GiB leaf splits twice; the rest of the region is untouched", () => {
    const dm = new DirectMap(MemoryMap.uniform(2 * GiB));
    expect(dm.setReadOnly(PAGES_1G + 1000)).toBe(2);
    const c = dm.counters();
    expect(c).toMatchObject({ level3Splits: 1, level2Splits: 1, directMap1G: GiB, directMap2M: GiB - 2 * MiB, directMap4k: 2 * MiB });
    expect(dm.protection(PAGES_1G + 1000)).toBe(Protection.ReadOnly);
    expect(dm.protection(PAGES_1G + 1001)).toBe(Protection.Default);
    // A second page in the same 2 MiB region splits nothing more.
    expect(dm.setInvalid(PAGES_1G + 1001)).toBe(0);
    // Setting a page to the protection its leaf already has splits nothing.
    expect(dm.setDefault(5)).toBe(0);
    expect(dm.counters().level3Splits).toBe(1);
    dm.check();
  });

  test("a change that covers whole leaves changes them without splitting", () => {
    const dm = new DirectMap(MemoryMap.uniform(2 * GiB));
    expect(dm.setReadOnly(0, PAGES_1G)).toBe(0);
    expect(dm.leafPages(0)).toBe(PAGES_1G);
    expect(dm.protection(7)).toBe(Protection.ReadOnly);
    // Two whole 2 MiB leaves inside the second GiB: one 1 GiB split, no 2 MiB split.
    expect(dm.setReadOnly(PAGES_1G + PAGES_2M, 2 * PAGES_2M)).toBe(1);
    expect(dm.counters()).toMatchObject({ level3Splits: 1, level2Splits: 0, directMap4k: 0 });
    dm.check();
  });

  test("splitToPages is set_memory_4k: splits regardless of protection, once", () => {
    const dm = new DirectMap(MemoryMap.uniform(GiB));
    expect(dm.splitToPages(PAGES_2M * 3, PAGES_2M)).toBe(2);
    expect(dm.splitToPages(PAGES_2M * 3, PAGES_2M)).toBe(0);
    expect(dm.leafPages(PAGES_2M * 3 + 7)).toBe(1);
    expect(dm.protection(PAGES_2M * 3 + 7)).toBe(Protection.Default);
  });

  test("collapse folds a region back once its pages agree, up to 1 GiB", () => {
    const arena = new MetadataArena();
    const dm = new DirectMap(MemoryMap.uniform(GiB), { arena });
    const before = dm.counters();
    dm.setReadOnly(10);
    expect(dm.collapse(10)).toBe(false); // page 10 still differs
    dm.setDefault(10);
    expect(dm.collapse(10)).toBe(true);
    const after = dm.counters();
    expect(after).toMatchObject({ directMap1G: before.directMap1G, directMap4k: 0, collapses2M: 1, collapses1G: 1, pageTableBytes: 0 });
    expect(arena.byLabel()).toEqual({ "direct-map pud": 8 });
    dm.check();
  });

  test("auto-collapse restores leaves as soon as pages agree", () => {
    const dm = new DirectMap(MemoryMap.uniform(GiB), { collapse: true });
    dm.setReadOnly(100, 3);
    expect(dm.counters().directMap4k).toBe(2 * MiB);
    dm.setDefault(100, 3);
    expect(dm.counters()).toMatchObject({ directMap4k: 0, directMap2M: 0, directMap1G: GiB, collapses2M: 1, collapses1G: 1 });
  });

  test("largestLeaf limits the initial mapping", () => {
    expect(new DirectMap(MemoryMap.uniform(GiB), { largestLeaf: "2M" }).counters().directMap2M).toBe(GiB);
    expect(new DirectMap(MemoryMap.uniform(4 * MiB), { largestLeaf: "4K" }).counters().directMap4k).toBe(4 * MiB);
  });

  test("meminfo prints the kernel's lines", () => {
    const dm = new DirectMap(MemoryMap.uniform(2 * GiB));
    dm.setReadOnly(0);
    expect(dm.meminfo()).toBe(["DirectMap4k:        2048 kB", "DirectMap2M:     1046528 kB", "DirectMap1G:     1048576 kB"].join("\n"));
  });

  test("the probe counts the lines a protection change touches", () => {
    const arena = new ProbingArena();
    const dm = new DirectMap(MemoryMap.uniform(2 * GiB), { arena });
    dm.setReadOnly(1000);
    // Changing a page inside a split table: the PUD entry, the PMD entry, the PTE entry.
    const r = arena.measure(() => dm.setReadOnly(1001));
    expect(r.lines).toBe(3);
    expect(r.linesByLabel).toEqual({ "direct-map pud": 1, "direct-map pmd": 1, "direct-map pte": 1 });
  });

  test("bad input is a typed error and changes nothing", () => {
    const map = new MemoryMap({ ranges: [{ base: 0, size: 4 * MiB }, { base: 8 * MiB, size: 4 * MiB }] });
    const dm = new DirectMap(map);
    const before = JSON.stringify(dm.counters());
    const cases: [() => unknown, string, RegExp][] = [
      [() => dm.setReadOnly(1000, 100), ErrorCode.NotRam, /pfn 1000, count 100/],
      [() => dm.setReadOnly(1020, 10), ErrorCode.NotRam, /1020/],
      [() => dm.setReadOnly(-1), ErrorCode.OutOfRange, /-1/],
      [() => dm.setReadOnly(1.5), ErrorCode.InvalidArgument, /1.5/],
      [() => dm.setReadOnly(0, 0), ErrorCode.OutOfRange, /count/],
      [() => dm.setProtection(0, 1, 8), ErrorCode.OutOfRange, /protection.*8/],
      [() => dm.setProtection(0, 1, Number.NaN), ErrorCode.InvalidArgument, /NaN/],
      [() => dm.collapse(1500), ErrorCode.NotRam, /1500/],
      [() => new DirectMap(map, { largestLeaf: "512G" as never }), ErrorCode.InvalidArgument, /512G/],
    ];
    for (const [fn, code, message] of cases) {
      expect(fn).toThrowError(expect.objectContaining({ code, message: expect.stringMatching(message) }));
    }
    expect(JSON.stringify(dm.counters())).toBe(before);
    dm.check();
  });

  test("property: any sequence of changes keeps DirectMap4k + 2M + 1G equal to RAM, counters equal to leaves broken", () => {
    // 2 GiB + 8 MiB with a hole: whole 1 GiB leaves, 2 MiB leaves and page edges all exist.
    const map = new MemoryMap({
      ranges: [
        { base: 0, size: GiB },
        { base: GiB, size: GiB, node: 1 },
        { base: 2 * GiB + 2 * MiB, size: 3 * MiB },
      ],
    });
    const total = map.presentPages;
    const ramPfn = (i: number) => {
      let k = i % total;
      for (const r of map.ranges) {
        if (k < r.endPfn - r.startPfn) return r.startPfn + k;
        k -= r.endPfn - r.startPfn;
      }
      throw new Error("unreachable");
    };
    const op = fc.record({
      at: fc.nat(),
      count: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 1100 }), fc.constant(PAGES_2M), fc.constant(PAGES_1G)),
      prot: fc.constantFrom(0, 1, 4, 5),
      kind: fc.constantFrom("set", "set", "set", "split4k", "collapse"),
    });
    fc.assert(
      fc.property(fc.boolean(), fc.array(op, { maxLength: 25 }), (auto, ops) => {
        const dm = new DirectMap(map, { collapse: auto });
        const initial = dm.counters();
        const model = new Map<number, number>(); // pfn -> protection, for pages changed
        for (const o of ops) {
          const pfn = ramPfn(o.at);
          const ri = map.rangeIndexOf(pfn);
          const count = Math.min(o.count, map.ranges[ri]!.endPfn - pfn);
          if (o.kind === "set") {
            dm.setProtection(pfn, count, o.prot);
            for (const p of model.keys()) if (p >= pfn && p < pfn + count) model.set(p, o.prot);
            for (let p = pfn; p < pfn + count; p += count > 2048 ? 97 : 1) model.set(p, o.prot);
            model.set(pfn + count - 1, o.prot);
          } else if (o.kind === "split4k") {
            dm.splitToPages(pfn, count);
            expect(dm.leafPages(pfn)).toBe(1);
          } else {
            dm.collapse(pfn);
          }
          dm.check();
          const c = dm.counters();
          expect(c.directMap4k + c.directMap2M + c.directMap1G).toBe(map.presentBytes);
          // Every 1 GiB split made 512 2 MiB leaves of one; every 2 MiB split 512 pages of one.
          expect(c.directMap1G).toBe(initial.directMap1G + (c.collapses1G - c.level3Splits) * GiB);
          expect(c.directMap4k).toBe(initial.directMap4k + (c.level2Splits - c.collapses2M) * 2 * MiB);
        }
        for (const [p, prot] of model) expect(dm.protection(p)).toBe(prot);
      }),
      { numRuns: 60 },
    );
  });
});

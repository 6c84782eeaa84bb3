import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { MetadataArena } from "@mmkit/physmem";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { DEFAULT_TRACE, buildSystem } from "../../src/systems/index.js";
import { allSystems } from "../../src/systems/definition.js";
import { setSystemSelection, selectedSystems } from "../../src/systems/selection.js";
import { loadSystemFile } from "../../src/systems/system-file.js";
import { replayMachineBytes, replayOnSystems, scanTrace, traceSpec } from "../../src/workloads/trace-replay.js";

const EXAMPLE = fileURLToPath(new URL("../../examples/first-fit.mjs", import.meta.url));

interface FirstFit {
  allocPages(order: number): number;
  freePages(pfn: number, order: number): void;
  check(): void;
  freeBlocksPerOrder(): number[];
  stats(): { extents: number; largestExtentPages: number; allocatedPages: number };
}

describe("--system-file: the first-fit example", () => {
  test("adds its system beside the shipped ones, and a trace replays on it exactly", async () => {
    const added = await loadSystemFile(EXAMPLE);
    expect(added.map((d) => d.name)).toEqual(["first-fit"]);
    expect(await loadSystemFile(EXAMPLE)).toBe(added); // once per process
    expect(allSystems().map((s) => s.name).slice(-1)).toEqual(["first-fit"]);
    setSystemSelection({ systems: ["first-fit"], traces: [], traceFormat: "auto", traceLenient: false });
    expect(selectedSystems().map((s) => s.name)).toEqual(["first-fit"]);

    const spec = traceSpec(DEFAULT_TRACE);
    const scan = await scanTrace(spec, 1000);
    const { replays } = await replayOnSystems(spec, (cpus) => [buildSystem(added[0]!, { bytes: replayMachineBytes(scan), cpus })], { scan, samples: 10 });
    const [r] = replays;
    const report = r!.report!;
    expect(report.allocsByOrder).toEqual([12267, 341, 7, 1, 0, 0, 0, 0, 0, 1]);
    expect([report.freesMatched, report.freesUnmatched, report.liveAllocationsAtEnd, report.livePagesAtEnd, report.peakLivePages, report.sutFailures]).toEqual([12564, 514, 53, 83, 2153, 0]);
    const system = r!.system;
    system.check();
    const allocator = system.custom as unknown as FirstFit;
    expect(allocator.stats().allocatedPages).toBe(83);
    let described = 0;
    for (let pfn = 0; pfn < system.managedPages; pfn++) if (system.table.get(pfn) >= 0) described++;
    expect(described).toBe(83);
    // Its metadata comes from the system's arena, so it is counted: two Float64Arrays of pages/2 + 1.
    expect((system.arenas.allocator as MetadataArena).bytes).toBe(2 * 8 * (system.managedPages / 2 + 1));
    // The time series read its own buddyinfo: free pages + live pages = all pages.
    expect(r!.samples.value(r!.samples.length - 1, 1) + 83).toBe(system.managedPages);
  });

  test("model-based: random allocations and frees match a page-set model, check() after every step", async () => {
    const { FirstFitPages } = (await import(EXAMPLE)) as { FirstFitPages: new (m: { pages: number; arena: MetadataArena }) => FirstFit };
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 4 }), fc.nat()), { maxLength: 120 }), (ops) => {
        const pages = 64;
        const ff = new FirstFitPages({ pages, arena: new MetadataArena() });
        const used = new Uint8Array(pages);
        const live: [number, number][] = [];
        for (const [alloc, order, pick] of ops) {
          if (alloc || live.length === 0) {
            const pfn = ff.allocPages(order);
            // First fit: the lowest pfn starting a run of 2^order free pages in the model.
            let expected = -1;
            for (let p = 0; p + 2 ** order <= pages && expected === -1; p++) {
              let ok = true;
              for (let q = p; q < p + 2 ** order; q++) if (used[q] === 1) ok = false;
              if (ok) expected = p;
            }
            expect(pfn).toBe(expected);
            if (pfn >= 0) {
              used.fill(1, pfn, pfn + 2 ** order);
              live.push([pfn, order]);
            }
          } else {
            const [pfn, o] = live.splice(pick % live.length, 1)[0]!;
            ff.freePages(pfn, o);
            used.fill(0, pfn, pfn + 2 ** o);
          }
          ff.check();
          expect(ff.stats().allocatedPages).toBe(used.reduce((a, b) => a + b, 0));
        }
      }),
      { numRuns: 200 },
    );
  });

  test("misuse is a typed error that changes nothing: a double free, an order it does not have", async () => {
    const { FirstFitPages } = (await import(EXAMPLE)) as { FirstFitPages: new (m: { pages: number; arena: MetadataArena }) => FirstFit };
    const ff = new FirstFitPages({ pages: 16, arena: new MetadataArena() });
    const a = ff.allocPages(1);
    ff.freePages(a, 1);
    expect(() => ff.freePages(a, 1)).toThrow(expect.objectContaining({ code: "ERR_DOUBLE_FREE" }));
    expect(() => ff.allocPages(5)).toThrow(expect.objectContaining({ code: "ERR_OUT_OF_RANGE" }));
    ff.check();
    expect(ff.stats()).toEqual({ extents: 1, largestExtentPages: 16, allocatedPages: 0 });
  });

  test("a file that is not a system file is an error naming it and the field", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mmkit-sysfile-"));
    const empty = join(dir, "empty.mjs");
    writeFileSync(empty, "export const nothing = 1;\n");
    await expect(loadSystemFile(empty)).rejects.toThrow(`${empty}: exports no "systems" and no "allocators"`);
    const bad = join(dir, "bad.mjs");
    writeFileSync(bad, 'export const systems = [{ name: "x", pageAllocator: "buddy", perCpuLists: false, descriptors: "memmap-32", fragmentCache: true, pteCache: true, shrinker: true }];\n');
    await expect(loadSystemFile(bad)).rejects.toThrow(`${bad}: system "x": descriptors must be one of memmap-64, memdesc-8, maple, got "memmap-32"`);
    const clash = join(dir, "clash.mjs");
    writeFileSync(clash, 'export const allocators = [{ name: "classic", create: () => ({ allocPages: () => -1, freePages() {} }) }];\n');
    await expect(loadSystemFile(clash)).rejects.toThrow(`${clash}: a system named "classic" exists already`);
  });
});

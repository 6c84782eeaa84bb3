import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, test } from "vitest";
import { BuddyAllocator, MIGRATE_TYPE_NAMES, MigrateType } from "@mmkit/buddy";
import { TraceEventKind } from "../../src/trace/events.js";
import { MemoryMap } from "@mmkit/physmem";
import {
  SnapshotError,
  TraceFootprint,
  buildKernelStart,
  checkSnapshot,
  compareTables,
  parseBuddyinfo,
  parsePagetypeinfo,
  parseZoneinfo,
  runKernelComparison,
  startDistance,
} from "../../src/trace/snapshot/index.js";
import { fixture } from "./helpers.js";

const DIR = fixture("linux-6.1-small");
const TRACE = join(DIR, "trace.txt.gz");
const scratch = mkdtempSync(join(tmpdir(), "mmkit-snapshot-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of the fixture's snapshots in a scratch directory, with `trace` as its trace file. */
function scratchCopy(name: string, trace: string): string {
  const dir = join(scratch, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  for (const kind of ["buddyinfo", "pagetypeinfo", "zoneinfo", "vmstat", "meminfo"]) {
    for (const moment of ["before", "after"]) writeFileSync(join(dir, `${kind}-${moment}.txt`), readFileSync(join(DIR, `${kind}-${moment}.txt`)));
  }
  writeFileSync(join(dir, "trace.txt"), trace);
  return dir;
}

const line = (n: number, event: string): string => `   init-1 [000] ..... 3.${String(n).padStart(6, "0")}: ${event}`;

describe("the Linux 6.1 fixture, replayed from its before-snapshot", async () => {
  const run = await runKernelComparison(TRACE, DIR, {}, [0, 1]);
  const first = run.replays[0]!;

  test("the start is the snapshot exactly, with the trace's pre-capture blocks at their pfns", () => {
    expect(first.startDistance).toBe(0);
    expect(run.footprint.precapture.length / 2).toBe(376);
    expect(run.footprint.precapturePages).toEqual([0, 377]);
    const fresh = buildKernelStart(run.before, run.footprint, 0);
    const pre = run.footprint.precapture;
    for (let i = 0; i < pre.length; i += 2) expect(fresh.buddy.blockOf(pre[i]!)).toMatchObject({ pfn: pre[i], order: pre[i + 1], state: "allocated" });
    expect(fresh.buddy.perCpuPageCount(1)).toBe(531 + 339);
    expect(fresh.buddy.buddyinfo().map((r) => r.freeBlocks)).toEqual(run.before.zones.map((z) => z.buddyinfo.freeBlocks));
    expect(first.replay.preludeAllocs).toBe(376);
    // Every free of a pre-capture block found it live: the only unmatched frees are of pages the trace had freed already.
    expect(first.replay.report.freesUnmatched).toBe(run.footprint.untracedAllocFrees);
    expect(run.footprint.untracedAllocFrees).toBe(138);
    expect(first.replay.report.sutFailures).toBe(0);
  });

  test("the trace held in memory for the seeds (it has under HOLD_EVENTS events) replays as the file streamed again for each", async () => {
    const streamed = await runKernelComparison(TRACE, DIR, {}, [0, 1], 0);
    expect(streamed.verdict).toBe(run.verdict);
    expect(streamed.replays.map((r) => r.replay.report)).toEqual(run.replays.map((r) => r.replay.report));
    expect(streamed.allFree.replay.report).toEqual(run.allFree.replay.report);
    expect(streamed.replays.map((r) => r.replay.face.pgalloc)).toEqual(run.replays.map((r) => r.replay.face.pgalloc));
    expect(run.replays[0]!.replay.report.events.alloc).toBe(12_617 + 376);
  });

  test("the end beside the after-snapshot: exact distances for layout seed 0", () => {
    const c = first.comparison!;
    expect([c.buddyinfo.distancePages, c.freeByType.distancePages, c.pageblocks.distancePages, c.freePages.distancePages]).toEqual([3220, 4000, 0, 1100]);
    expect(c.kernelFreePages).toBe(224803);
    expect(c.buddyinfo.rows[1]).toEqual({ label: "DMA32", kernel: [1, 1, 2, 1, 3, 2, 1, 1, 2, 2, 214], model: [1, 1, 1, 3, 1, 3, 2, 1, 2, 0, 216] });
    expect(c.freePages.rows[1]).toEqual({ label: "DMA32", kernel: [220995, 5160], model: [222095, 4422] });
    expect(run.counters).toEqual([
      { name: "pgalloc_dma", kernelDelta: 0, model: 0, traced: 0 },
      { name: "pgalloc_dma32", kernelDelta: 13741, model: 13497, traced: 13497 },
      { name: "pgfree", kernelDelta: 13672, model: 13791, traced: 13929 },
    ]);
    expect(run.warnings).toEqual(["zoneinfo-before.txt line 1: zone DMA (3840 managed pages) is never touched by the trace: it only changes by what the trace cannot show"]);
    expect(run.causes[0]).toContain("the kernel ends with 5160 pages on them, the model with 4422");
    expect(run.causes[0]).toContain("(52 refills, 0 drains); the trace shows the kernel's only as 3229 mm_page_alloc_zone_locked and 0 mm_page_pcpu_drain events");
    expect(run.causes[1]).toBe(
      "migratetype fallbacks: the kernel took 1 block(s) from another migratetype's pageblock (mm_page_alloc_extfrag), the model 1 (2 pageblock(s) retyped); a different fallback moves free pages between the migratetypes' lists (free pages by migratetype distance 4000).",
    );
    expect(run.causes[2]).toBe(
      "compaction and migration: none during the capture (pgmigrate_success, compact_isolated, compact_migrate_scanned, compact_free_scanned, compact_stall, thp_migration_success unchanged).",
    );
    expect(run.verdict).toContain("the buddy model ends buddyinfo 3,220 pages (1.43%), free pages by migratetype 4,000 pages (1.78%), pageblock types 0 pages (0.00%) and nr_free_pages 1,100 pages (0.49%)");
    expect(run.verdict).toContain(
      "; its pgalloc_dma, pgalloc_dma32, pgfree counts are 363 pages from vmstat's; over 2 layout seeds the buddyinfo distance ran 3,220..3,287 pages; from an all-free machine of the same zones it would end buddyinfo 33,699 pages (14.99%) away.",
    );
  });

  test("the baseline: the same replay from an all-free machine ends ten times farther", () => {
    const c = run.allFree.comparison!;
    expect([c.buddyinfo.distancePages, c.freeByType.distancePages, c.pageblocks.distancePages, c.freePages.distancePages]).toEqual([33699, 34933, 61440, 33443]);
    // Every pre-capture free finds nothing to free there.
    expect(run.allFree.replay.report.freesUnmatched).toBe(514);
    expect(run.allFree.replay.report.sutFailures).toBe(0);
  });

  test("another layout seed starts exactly too, at other pfns", () => {
    const other = run.replays[1]!;
    expect(other.startDistance).toBe(0);
    expect(other.comparison!.buddyinfo.distancePages).toBe(3287);
    expect(other.start.buddy.freeLists()).not.toEqual(first.start.buddy.freeLists());
  });
});

describe("a trace that disagrees with its snapshots", () => {
  test("a pfn outside every zone names the trace line", async () => {
    const dir = scratchCopy("outside", `${line(1, "mm_page_alloc: page=0 pfn=0x4000 order=0 migratetype=1 gfp_flags=GFP_KERNEL")}\n${line(2, "mm_page_free: page=0 pfn=0x7fffff order=0")}\n`);
    await expect(runKernelComparison(join(dir, "trace.txt"), dir, {}, [0])).rejects.toThrow(
      new SnapshotError("ERR_SNAPSHOT_MISMATCH", "trace.txt", 2, "pfn 0x7fffff (order 0) lies outside the zones of the snapshot (DMA 1..4095, DMA32 4096..262105): the snapshot is not of the traced machine"),
    );
  });

  test("more pre-capture pages than the snapshot leaves allocated", async () => {
    // DMA: 3998 present - 3808 free - 0 per-CPU = 190 allocated pages; the trace frees 256 it never allocated.
    const dir = scratchCopy("precapture", `${line(1, "mm_page_free: page=0 pfn=0x100 order=8")}\n`);
    await expect(runKernelComparison(join(dir, "trace.txt"), dir, {}, [0])).rejects.toThrow("zoneinfo-before.txt line 1: the trace frees 256 pages of zone DMA it never allocated, but the snapshot leaves only 190 pages of it allocated");
  });
});

/** /proc text of a buddy allocator whose nodes are zones named `names`: buddyinfo, pagetypeinfo, zoneinfo. */
function procText(b: BuddyAllocator, names: string[], spans: [number, number][], counts: number[]): { buddyinfo: string; pagetypeinfo: string; zoneinfo: string } {
  const info = b.buddyinfo();
  const types = b.pagetypeinfo();
  const buddyinfo = info.map((r, n) => `Node 0, zone ${names[n]!.padStart(8)} ${r.freeBlocks.map((c) => String(c).padStart(6)).join(" ")}`).join("\n");
  const orders = info[0]!.freeBlocks.map((_, o) => String(o).padStart(6)).join(" ");
  const pt = [`Page block order: ${b.pageblockOrder}`, `Pages per block:  ${2 ** b.pageblockOrder}`, "", `Free pages count per migrate type at order ${orders}`];
  types.forEach((t, n) => t.freeBlocks.forEach((row, m) => pt.push(`Node    0, zone ${names[n]!.padStart(8)}, type ${MIGRATE_TYPE_NAMES[m]!.padStart(12)} ${row.map((c) => String(c).padStart(6)).join(" ")}`)));
  pt.push("", `Number of blocks type ${MIGRATE_TYPE_NAMES.map((x) => x.padStart(12)).join(" ")}`);
  types.forEach((t, n) => pt.push(`Node 0, zone ${names[n]!.padStart(8)} ${t.pageblocks.map((c) => String(c).padStart(12)).join(" ")}`));
  const zi: string[] = [];
  names.forEach((name, n) => {
    const w = b.watermarks(n);
    const [start, spanned] = spans[n]!;
    zi.push(`Node 0, zone ${name.padStart(8)}`, `  pages free     ${b.freePageCount(n)}`, `        min      ${w.min}`, `        low      ${w.low}`, `        high     ${w.high}`);
    zi.push(`        spanned  ${spanned}`, `        present  ${b.managedPages(n)}`, `        managed  ${b.managedPages(n)}`, "  pagesets");
    for (let c = 0; c < b.cpus; c++) {
      const l = b.perCpuLimits(c, n);
      zi.push(`    cpu: ${c}`, `              count: ${counts[c * names.length + n]}`, `              high:  ${l.high}`, `              batch: ${l.batch}`);
    }
    zi.push(`  start_pfn:           ${start}`);
  });
  return { buddyinfo: `${buddyinfo}\n`, pagetypeinfo: `${pt.join("\n")}\n`, zoneinfo: `${zi.join("\n")}\n` };
}

describe("model: any buddy state, written as /proc text and read back, is laid out exactly", () => {
  test("random states of a two-zone machine with holes", () => {
    type Op = { alloc: boolean; order: number; mt: number; cpu: number; pick: number };
    const opArb = fc.record({ alloc: fc.boolean(), order: fc.nat(4), mt: fc.nat(2), cpu: fc.integer({ min: -1, max: 1 }), pick: fc.nat() });
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), fc.nat(3), (ops: Op[], layoutSeed) => {
        // Zone DMA: pfns 4..63; zone Normal: 64..159 with a 2-page hole at 100 and a hole of two whole
        // pageblocks at 120..127 (pagetypeinfo does not count those, as the kernel skips offline memory).
        const map = new MemoryMap({
          ranges: [
            { base: 4 * 4096, size: 60 * 4096, node: 0 },
            { base: 64 * 4096, size: 36 * 4096, node: 1 },
            { base: 102 * 4096, size: 18 * 4096, node: 1 },
            { base: 128 * 4096, size: 32 * 4096, node: 1 },
          ],
        });
        const b = new BuddyAllocator(map, { maxOrder: 4, pageblockOrder: 2, cpus: 2, cpuNodes: [1, 1], pcpBatch: 2, pcpHigh: 1000, minFreeKbytes: 0 });
        const live: [number, number][] = [];
        for (const op of ops) {
          if (op.alloc || live.length === 0) {
            const options = { migratetype: op.mt as MigrateType };
            const pfn = op.cpu < 0 ? b.allocPages(op.order, options) : b.cpu(op.cpu).allocPages(op.order, options);
            if (pfn >= 0) live.push([pfn, op.order]);
          } else {
            const [pfn, order] = live.splice(op.pick % live.length, 1)[0]!;
            if (op.cpu < 0) b.freePages(pfn, order);
            else b.cpu(op.cpu).freePages(pfn, order);
          }
        }
        // Per-CPU pages per zone, all printed under CPU 0 (below its high mark, so laying them out drains nothing).
        const counts = [b.perCpuPageCount(0), b.perCpuPageCount(1), 0, 0];
        const text = procText(b, ["DMA", "Normal"], [[4, 60], [64, 96]], counts);
        const checked = checkSnapshot({ buddyinfo: parseBuddyinfo(text.buddyinfo, "buddyinfo"), pagetypeinfo: parsePagetypeinfo(text.pagetypeinfo, "pagetypeinfo"), zoneinfo: parseZoneinfo(text.zoneinfo, "zoneinfo") });
        const footprint = new TraceFootprint(checked.zones.map((z) => ({ name: z.name, startPfn: z.zoneinfo.startPfn, endPfn: z.zoneinfo.startPfn + z.zoneinfo.spanned })), "none");
        const start = buildKernelStart(checked, footprint, layoutSeed);
        start.buddy.check();
        expect(start.unplaced).toEqual([]);
        expect(startDistance(checked, start.buddy)).toBe(0);
        const c = compareTables(checked, start.buddy);
        expect(c.buddyinfo.rows.map((r) => r.model)).toEqual(b.buddyinfo().map((r) => r.freeBlocks));
        expect(start.buddy.watermarks(1)).toEqual(b.watermarks(1));
      }),
      { numRuns: 120 },
    );
  });

  test("with pre-capture blocks: they are allocated at their pfns, and the start is exact or its gap is named", () => {
    type Op = { alloc: boolean; order: number; mt: number; pick: number };
    const opArb = fc.record({ alloc: fc.boolean(), order: fc.nat(3), mt: fc.nat(2), pick: fc.nat() });
    let exact = 0;
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), fc.array(fc.boolean(), { maxLength: 40 }), fc.nat(3), (ops: Op[], freed: boolean[], layoutSeed) => {
        const map = new MemoryMap({ ranges: [{ base: 4 * 4096, size: 60 * 4096, node: 0 }, { base: 64 * 4096, size: 96 * 4096, node: 1 }] });
        const b = new BuddyAllocator(map, { maxOrder: 4, pageblockOrder: 2, cpus: 1, cpuNodes: [1], minFreeKbytes: 0 });
        const live: [number, number][] = [];
        for (const op of ops) {
          if (op.alloc || live.length === 0) {
            const pfn = b.allocPages(op.order, { migratetype: op.mt as MigrateType });
            if (pfn >= 0) live.push([pfn, op.order]);
          } else {
            const [pfn, order] = live.splice(op.pick % live.length, 1)[0]!;
            b.freePages(pfn, order);
          }
        }
        const text = procText(b, ["DMA", "Normal"], [[4, 60], [64, 96]], [0, 0]);
        const checked = checkSnapshot({ buddyinfo: parseBuddyinfo(text.buddyinfo, "buddyinfo"), pagetypeinfo: parsePagetypeinfo(text.pagetypeinfo, "pagetypeinfo"), zoneinfo: parseZoneinfo(text.zoneinfo, "zoneinfo") });
        const footprint = new TraceFootprint(checked.zones.map((z) => ({ name: z.name, startPfn: z.zoneinfo.startPfn, endPfn: z.zoneinfo.startPfn + z.zoneinfo.spanned })), "t");
        // The trace frees some of the live blocks first: pages of "before the capture".
        const pre = live.filter((_, i) => freed[i] === true);
        pre.forEach(([pfn, order], i) => footprint.apply({ kind: TraceEventKind.Free, line: i + 1, pfn, id: -1, order, count: 1, text: "" }));
        expect(footprint.precapture).toEqual(pre.flat());
        const start = buildKernelStart(checked, footprint, layoutSeed);
        start.buddy.check();
        for (const [pfn, order] of pre) expect(start.buddy.blockOf(pfn)).toMatchObject({ pfn, order, state: "allocated" });
        const distance = startDistance(checked, start.buddy);
        if (distance === 0) exact++;
        // Never a silently wrong start: any gap comes with the blocks it could not place, in a warning.
        else expect(start.unplaced.length > 0 && start.warnings.some((w) => w.message.startsWith("the layout could not place"))).toBe(true);
      }),
      { numRuns: 120 },
    );
    expect(exact).toBeGreaterThan(60);
  });
});

import type { BuddyAllocator } from "@mmkit/buddy";
import type { KernelReplay } from "./kernel-replay.js";
import type { KernelStart } from "./kernel-start.js";
import { MODEL_TYPES, type CheckedSnapshot } from "./snapshot-set.js";
import type { TraceFootprint } from "./trace-footprint.js";

/**
 * The model beside the kernel: the tables of one moment (the kernel's snapshot and the model's
 * state), a distance per table in pages, and the counters vmstat keeps. Pure functions of their
 * inputs; each costs O(zones x orders x types).
 */

/** One row of a side-by-side table: a label, the kernel's numbers and the model's. */
export interface ComparedRow {
  label: string;
  kernel: number[];
  model: number[];
}

/** A compared table and its distance. */
export interface ComparedTable {
  title: string;
  /** Column headings of the numbers (orders, migratetypes...). */
  columns: string[];
  rows: ComparedRow[];
  /** Sum of |kernel - model| in pages (blocks weighted by their pages). */
  distancePages: number;
}

/** Everything compared at one moment. */
export interface KernelComparison {
  /** Free blocks per order and zone (buddyinfo). */
  buddyinfo: ComparedTable;
  /** Free pages per migratetype and order, per zone (pagetypeinfo, blocks x 2^order). */
  freeByType: ComparedTable;
  /** Pageblocks per migratetype, per zone; distance in pages (pageblocks x pages per block). */
  pageblocks: ComparedTable;
  /** Free pages per zone (nr_free_pages) and pages on per-CPU lists per zone. */
  freePages: ComparedTable;
  /** Kernel free pages (nr_free_pages over the zones): the base of every share. */
  kernelFreePages: number;
}

/** The model's state as the same tables, zone by zone (node i = zone i). */
function modelTables(buddy: BuddyAllocator, zones: number): { blocks: number[][]; byType: number[][][]; pageblocks: number[][]; free: number[]; pcp: number[] } {
  const info = buddy.buddyinfo();
  const types = buddy.pagetypeinfo();
  const out = { blocks: [] as number[][], byType: [] as number[][][], pageblocks: [] as number[][], free: [] as number[], pcp: [] as number[] };
  for (let n = 0; n < zones; n++) {
    out.blocks.push([...info[n]!.freeBlocks]);
    out.byType.push(types[n]!.freeBlocks.map((row) => row.map((b, o) => b * 2 ** o)));
    // The model's pagetypeinfo also has CMA and Isolate columns; the comparison is over the kernel's three.
    out.pageblocks.push(types[n]!.pageblocks.slice(0, MODEL_TYPES.length));
    out.free.push(buddy.freePageCount(n));
    out.pcp.push(buddy.perCpuPageCount(n));
  }
  return out;
}

function distance(rows: ComparedRow[], weight: (column: number) => number): number {
  let d = 0;
  for (const r of rows) r.kernel.forEach((k, c) => (d += Math.abs(k - r.model[c]!) * weight(c)));
  return d;
}

/**
 * Compares the model `buddy` with the kernel's snapshot `kernel` (the zones in the same order as
 * the model's nodes): buddyinfo, free pages per migratetype and order, pageblocks per migratetype,
 * free and per-CPU pages per zone, each with its distance in pages.
 *
 * @example
 * ```ts
 * const c = compareTables(after, model.buddy);
 * c.buddyinfo.distancePages / c.kernelFreePages; // the share of free memory placed differently
 * ```
 */
export function compareTables(kernel: CheckedSnapshot, buddy: BuddyAllocator): KernelComparison {
  const m = modelTables(buddy, kernel.zones.length);
  const orders = Array.from({ length: kernel.orders }, (_, o) => String(o));
  const blocksRows = kernel.zones.map((z, n) => ({ label: z.label, kernel: [...z.buddyinfo.freeBlocks], model: m.blocks[n]! }));
  const typeRows = kernel.zones.flatMap((z, n) => MODEL_TYPES.map((t, k) => ({ label: `${z.label} ${t}`, kernel: z.freeByType[k]!.map((b, o) => b * 2 ** o), model: m.byType[n]![k]! })));
  const pbRows = kernel.zones.map((z, n) => ({ label: z.label, kernel: [...z.pageblocksByType], model: m.pageblocks[n]! }));
  const freeRows = kernel.zones.map((z, n) => ({ label: z.label, kernel: [z.zoneinfo.free, z.zoneinfo.pagesets.reduce((a, p) => a + p.count, 0)], model: [m.free[n]!, m.pcp[n]!] }));
  return {
    buddyinfo: { title: "free blocks per order (buddyinfo)", columns: orders, rows: blocksRows, distancePages: distance(blocksRows, (o) => 2 ** o) },
    freeByType: { title: "free pages per migratetype and order (pagetypeinfo)", columns: orders, rows: typeRows, distancePages: distance(typeRows, () => 1) },
    pageblocks: { title: "pageblocks per migratetype", columns: [...MODEL_TYPES], rows: pbRows, distancePages: distance(pbRows, () => 2 ** kernel.pageblockOrder) },
    freePages: { title: "free pages (nr_free_pages) and per-CPU pages", columns: ["free", "per-CPU"], rows: freeRows, distancePages: distance(freeRows, (c) => (c === 0 ? 1 : 0)) },
    kernelFreePages: kernel.zones.reduce((a, z) => a + z.zoneinfo.free, 0),
  };
}

/** One vmstat counter's change over the capture beside the model's count and the trace's. */
export interface CounterRow {
  name: string;
  /** after - before in vmstat; null when vmstat is missing or lacks the counter. */
  kernelDelta: number | null;
  model: number;
  /** Pages the trace's events account for. */
  traced: number;
}

/**
 * `pgalloc_<zone>` and `pgfree` over the capture: the kernel's (vmstat after - before), the model's
 * (pages it allocated per zone and freed while replaying), and the trace's own page counts.
 *
 * @example
 * ```ts
 * counterRows(before, after, replay, footprint); // [{ name: "pgalloc_dma32", kernelDelta: 13741, model: 13497, traced: 13497 }, ...]
 * ```
 */
export function counterRows(before: CheckedSnapshot, after: CheckedSnapshot, replay: KernelReplay, footprint: TraceFootprint): CounterRow[] {
  const delta = (name: string): number | null => {
    const a = after.snapshot.vmstat?.values.get(name);
    const b = before.snapshot.vmstat?.values.get(name);
    return a === undefined || b === undefined ? null : a - b;
  };
  // vmstat counts per zone type (pgalloc_normal sums every node's Normal zone): so do the rows.
  const rows: CounterRow[] = [];
  before.zones.forEach((z, n) => {
    const name = `pgalloc_${z.name.toLowerCase()}`;
    let row = rows.find((r) => r.name === name);
    if (row === undefined) rows.push((row = { name, kernelDelta: delta(name), model: 0, traced: 0 }));
    row.model += replay.face.pgalloc[n]!;
    row.traced += footprint.allocPages[n]!;
  });
  rows.push({ name: "pgfree", kernelDelta: delta("pgfree"), model: replay.face.pgfree, traced: footprint.freePages.reduce((a, b) => a + b, 0) });
  return rows;
}

/**
 * Sum over the counter rows of |vmstat's change - the model's count|, in pages (rows without
 * vmstat count 0). O(rows).
 *
 * @example
 * ```ts
 * counterDistance([{ name: "pgfree", kernelDelta: 13672, model: 13791, traced: 13929 }]); // 119
 * ```
 */
export function counterDistance(rows: readonly CounterRow[]): number {
  return rows.reduce((a, r) => a + (r.kernelDelta === null ? 0 : Math.abs(r.kernelDelta - r.model)), 0);
}

/**
 * The counter rows as text lines: vmstat's change over the capture, the model's count and the
 * trace's, per counter, then the distance.
 *
 * @example
 * ```ts
 * renderCounters(run.counters).join("\n");
 * ```
 */
export function renderCounters(rows: readonly CounterRow[]): string[] {
  const name = Math.max(7, ...rows.map((r) => r.name.length));
  const num = (v: number | null): string => (v === null ? "-" : String(v)).padStart(8);
  return [
    `vmstat counters over the capture (pages): distance ${n(counterDistance(rows))} pages`,
    `${"".padEnd(name)}   vmstat    model    trace`,
    ...rows.map((r) => `${r.name.padEnd(name)} ${num(r.kernelDelta)} ${num(r.model)} ${num(r.traced)}`),
  ];
}

/**
 * vmstat counters of the kernel's own page moving (compaction, migration), whose change over the
 * capture says whether pages moved that the trace shows only as ordinary allocations and frees.
 *
 * @example
 * ```ts
 * MIGRATION_COUNTERS.map((name) => after.values.get(name)! - before.values.get(name)!);
 * ```
 */
export const MIGRATION_COUNTERS = ["pgmigrate_success", "compact_isolated", "compact_migrate_scanned", "compact_free_scanned", "compact_stall", "thp_migration_success"] as const;

/**
 * Lines naming which differences come from what the trace cannot show: the per-CPU lists, the
 * kernel's compaction and migration, events outside the trace (vmstat counts the trace does not
 * hold), blocks the layout could not place, and frees whose allocation was not traced.
 *
 * @example
 * ```ts
 * for (const line of unseenCauses(before, after, start, replay, footprint, comparison)) console.log(line);
 * ```
 */
export function unseenCauses(before: CheckedSnapshot, after: CheckedSnapshot, start: KernelStart, replay: KernelReplay, footprint: TraceFootprint, c: KernelComparison): string[] {
  const lines: string[] = [];
  const kernelPcp = c.freePages.rows.reduce((a, r) => a + r.kernel[1]!, 0);
  const modelPcp = c.freePages.rows.reduce((a, r) => a + r.model[1]!, 0);
  const ev = replay.report.events;
  const mc = start.buddy.counters();
  lines.push(
    `per-CPU lists: the kernel ends with ${kernelPcp} pages on them, the model with ${modelPcp}; per-CPU pages are neither free (buddyinfo, nr_free_pages) nor allocated. The model fills and drains its lists by its own batch and high (${mc.pcpRefills} refills, ${mc.pcpDrains} drains); the trace shows the kernel's only as ${ev.zoneLocked} mm_page_alloc_zone_locked and ${ev.pcpuDrain} mm_page_pcpu_drain events, not which pages stay on a list, so up to ${Math.abs(kernelPcp - modelPcp)} pages of the free-page difference (${c.freePages.distancePages}) are this.`,
  );
  lines.push(
    `migratetype fallbacks: the kernel took ${ev.extfrag} block(s) from another migratetype's pageblock (mm_page_alloc_extfrag), the model ${mc.fallbacks} (${mc.pageblockSteals} pageblock(s) retyped); a different fallback moves free pages between the migratetypes' lists (free pages by migratetype distance ${c.freeByType.distancePages}).`,
  );
  const moved = MIGRATION_COUNTERS.map((name) => {
    const a = after.snapshot.vmstat?.values.get(name);
    const b = before.snapshot.vmstat?.values.get(name);
    return a === undefined || b === undefined ? null : ([name, a - b] as const);
  }).filter((x) => x !== null);
  if (moved.length === 0) lines.push("compaction and migration: no vmstat beside the trace, so unknown.");
  else if (moved.every(([, d]) => d === 0)) lines.push(`compaction and migration: none during the capture (${moved.map(([n]) => n).join(", ")} unchanged).`);
  else lines.push(`compaction and migration: ${moved.filter(([, d]) => d !== 0).map(([n, d]) => `${n} +${d}`).join(", ")}; migrated pages appear in the trace as ordinary allocations and frees, replayed as such without the compaction that chose them.`);
  for (const r of counterRows(before, after, replay, footprint)) {
    if (r.kernelDelta !== null && r.kernelDelta !== r.traced) {
      lines.push(`${r.name}: vmstat moved by ${r.kernelDelta} pages, the trace holds ${r.traced} (${r.kernelDelta - r.traced > 0 ? "+" : ""}${r.kernelDelta - r.traced} outside the trace window, or per-CPU vmstat deltas not yet folded in).`);
    }
  }
  if (start.unplaced.length > 0) lines.push(`layout: ${start.unplaced.join("; ")} could not be placed at the start.`);
  if (footprint.untracedAllocFrees > 0 || replay.report.allocsOverLive > 0) {
    lines.push(`untraced events: ${footprint.untracedAllocFrees} frees of pages freed before without a traced allocation, ${replay.report.allocsOverLive} allocations of pages the trace still held.`);
  }
  return lines;
}

/** Thousands separators, for tables and the verdict. */
function n(value: number): string {
  return value.toLocaleString("en-US");
}

/**
 * A percentage of `base` with two decimals ("0.00%" for a zero base). O(1).
 *
 * @example
 * ```ts
 * share(3220, 224803); // "1.43%"
 * ```
 */
export function share(value: number, base: number): string {
  return `${base === 0 ? "0.00" : ((100 * value) / base).toFixed(2)}%`;
}

/**
 * A compared table as text lines: one line per row with the kernel's and the model's numbers
 * (`DMA32  kernel 1 1 2 ... | model 0 3 1 ...`), then the distance.
 *
 * @example
 * ```ts
 * renderCompared(c.buddyinfo, c.kernelFreePages).join("\n");
 * ```
 */
export function renderCompared(t: ComparedTable, freeBase: number): string[] {
  // Each column as wide as its widest figure, so an order-10 column of 200,000 pages leaves the others narrow.
  const widths = t.columns.map((h, c) => 1 + Math.max(h.length, ...t.rows.flatMap((r) => [String(r.kernel[c]).length, String(r.model[c]).length])));
  const label = Math.max(...t.rows.map((r) => r.label.length), 6);
  const cols = (vals: readonly (number | string)[]): string => vals.map((v, c) => String(v).padStart(widths[c]!)).join("");
  const lines = [`${t.title}: distance ${n(t.distancePages)} pages (${share(t.distancePages, freeBase)} of the kernel's free memory)`];
  lines.push(`${"".padEnd(label)}        ${cols(t.columns)}`);
  for (const r of t.rows) {
    lines.push(`${r.label.padEnd(label)} kernel ${cols(r.kernel)}`);
    lines.push(`${"".padEnd(label)} model  ${cols(r.model)}`);
  }
  return lines;
}

/** Distances of one replay, for the seed spread and the verdict. */
export interface DistanceSet {
  buddyinfo: number;
  freeByType: number;
  pageblocks: number;
  freePages: number;
}

/**
 * The four distances of a comparison, in pages. O(1).
 *
 * @example
 * ```ts
 * distances(run.replays[0].comparison!); // { buddyinfo: 3220, freeByType: 4000, pageblocks: 0, freePages: 1100 }
 * ```
 */
export function distances(c: KernelComparison): DistanceSet {
  return { buddyinfo: c.buddyinfo.distancePages, freeByType: c.freeByType.distancePages, pageblocks: c.pageblocks.distancePages, freePages: c.freePages.distancePages };
}

/**
 * The verdict line a researcher can quote: the model's distance from the kernel at the end in
 * buddyinfo, free pages per migratetype, pageblocks and free pages, each as pages and as a share
 * of the kernel's free memory; the start distance (0 when the snapshot was laid out exactly); how
 * far the model's pgalloc/pgfree counts are from vmstat's; how far the layout seeds moved the
 * buddyinfo distance; and where the same replay from an all-free machine would have ended.
 *
 * @example
 * ```ts
 * verdict("trace.txt.gz", c, 0, [d0, d1, d2], counterRows(before, after, replay, footprint));
 * ```
 */
export function verdict(traceName: string, c: KernelComparison, startDistance: number, seeds: readonly DistanceSet[], counters: readonly CounterRow[] = [], allFree: KernelComparison | null = null): string {
  const base = c.kernelFreePages;
  const part = (label: string, pages: number): string => `${label} ${n(pages)} pages (${share(pages, base)})`;
  const bi = seeds.map((d) => d.buddyinfo);
  const spread = seeds.length > 1 ? `; over ${seeds.length} layout seeds the buddyinfo distance ran ${n(Math.min(...bi))}..${n(Math.max(...bi))} pages` : "";
  return (
    `Verdict (${traceName}): started from the kernel's before-snapshot (start distance ${n(startDistance)} pages), the buddy model ends ` +
    `${part("buddyinfo", c.buddyinfo.distancePages)}, ${part("free pages by migratetype", c.freeByType.distancePages)}, ` +
    `${part("pageblock types", c.pageblocks.distancePages)} and ${part("nr_free_pages", c.freePages.distancePages)} from the kernel's after-snapshot ` +
    `(shares of its ${n(base)} free pages)` +
    (counters.some((r) => r.kernelDelta !== null) ? `; its ${counters.map((r) => r.name).join(", ")} counts are ${n(counterDistance(counters))} pages from vmstat's` : "") +
    `${spread}` +
    (allFree === null ? "" : `; from an all-free machine of the same zones it would end ${part("buddyinfo", allFree.buddyinfo.distancePages)} away`) +
    "."
  );
}

/**
 * How far a freshly built start is from the snapshot it was built from, in pages: the buddyinfo,
 * free-by-type, pageblock, free-page and per-CPU distances added up (0 when every block was
 * placed). O(zones x orders x types).
 *
 * @example
 * ```ts
 * startDistance(before, buildKernelStart(before, footprint, 0).buddy); // 0 for the 6.1 fixture
 * ```
 */
export function startDistance(before: CheckedSnapshot, buddy: BuddyAllocator): number {
  const c = compareTables(before, buddy);
  return c.buddyinfo.distancePages + c.freeByType.distancePages + c.pageblocks.distancePages + c.freePages.distancePages + distance(c.freePages.rows, (col) => (col === 1 ? 1 : 0));
}

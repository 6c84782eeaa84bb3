import { GiB, MiB } from "@mmkit/physmem";
import { churnFloor, churnSlots } from "../floors/index.js";
import type { Contender, Suite, SuiteContext, TimingResult } from "../harness/types.js";
import { systemNamed } from "../systems/definition.js";
import { randomIndices } from "../workloads/random.js";
import {
  DESCRIPTOR_TABLES,
  FLAT_LOOKUP,
  PAGE_ALLOCATORS,
  buildTable,
  flatTableLookup,
  pageAllocatorChurn,
  pageAllocatorLines,
  scaleMachineBytes,
  tableChurn,
  tableLines,
  tableLookup,
  tablePfns,
} from "../workloads/scale.js";
import { buildSystem } from "../systems/build.js";
import { imixChurnOn, imixSizes, pageChurnOn, probeLinesPerOp } from "../workloads/system-churn.js";

/**
 * Cost as the work grows: ns/op and cache lines/op of every page allocator, descriptor table and of
 * the `classic` and `memdesc` systems against the live-set size, the machine growing with it up to
 * 16 GiB. Every point is recorded with `at` = live pages, so the JSON holds the curves and the HTML
 * report draws them as line charts; the terminal gets a compact table of the curves' points.
 */

const SEQUENCE = 1 << 16;
const FLOOR = "Int32Array stack";

/** The curves' workloads (one line chart each per metric). */
export const SCALE_WORKLOADS = {
  allocators: "page allocators: order-0 churn",
  tables: "descriptor tables: erase+store",
  lookups: "descriptor tables: lookup",
  systems: "systems: order-0 churn",
  imix: "systems: IMIX fragments",
} as const;

/** Live-set sizes (pages) a run measures, and up to which size it probes cache lines. */
export interface ScalePlan {
  sizes: number[];
  /** Largest size whose lines/op are probed: `ProbingArena` builds cost about 30x a plain build. */
  linesUpTo: number;
  /** Probed steps per point (after as many uncounted). */
  probeOps: number;
  rounds: number;
  targetMs: number;
}

/**
 * The sizes of a run. The default run measures the curves' ends, 1k and 1M live pages (16 MiB and
 * 16 GiB machines; about 15 s on an idle 2-core machine), and probes lines at 1k; the opt-in
 * `scale-full` adds 10k and 100k and probes every size (minutes); `--quick` takes 1k and 10k.
 *
 * @example
 * ```ts
 * scalePlan(false, false).sizes;   // [1000, 1000000]
 * ```
 */
export function scalePlan(quick: boolean, full: boolean): ScalePlan {
  if (quick) return { sizes: [1_000, 10_000], linesUpTo: 1_000, probeOps: 200, rounds: 10, targetMs: 2 };
  if (!full) return { sizes: [1_000, 1_000_000], linesUpTo: 1_000, probeOps: 500, rounds: 10, targetMs: 3 };
  return { sizes: [1_000, 10_000, 100_000, 1_000_000], linesUpTo: 1_000_000, probeOps: 500, rounds: 15, targetMs: 8 };
}

/**
 * A live-set size as the reports print it. O(1).
 *
 * @example
 * ```ts
 * [1_000, 10_000, 1_000_000].map(liveLabel);   // ["1k", "10k", "1M"]
 * ```
 */
export function liveLabel(live: number): string {
  return live >= 1_000_000 ? `${live / 1_000_000}M` : live >= 1000 ? `${live / 1000}k` : String(live);
}

/** One curve point: ns/op with its ratio, lines/op where probed. */
export interface CurvePointFigures {
  ns?: number;
  ratio?: number;
  lines?: number;
}

/** workload -> system -> live -> point, in the order things were first seen. */
export type Curves = Map<string, Map<string, Map<number, CurvePointFigures>>>;

function point(curves: Curves, workload: string, system: string, live: number): CurvePointFigures {
  let bySystem = curves.get(workload);
  if (bySystem === undefined) curves.set(workload, (bySystem = new Map()));
  let byLive = bySystem.get(system);
  if (byLive === undefined) bySystem.set(system, (byLive = new Map()));
  let p = byLive.get(live);
  if (p === undefined) byLive.set(live, (p = {}));
  return p;
}

function timeAt(ctx: SuiteContext, curves: Curves, plan: ScalePlan, workload: string, live: number, contenders: Contender[], floor: string, note: string): TimingResult[] {
  const results = ctx.time(workload, contenders, { floor, at: live, rounds: plan.rounds, targetMs: plan.targetMs, note });
  for (const r of results) {
    const p = point(curves, workload, r.name, live);
    p.ns = r.nsPerOp;
    if (r.ratio !== undefined) p.ratio = r.ratio;
  }
  return results;
}

function linesAt(ctx: SuiteContext, curves: Curves, workload: string, system: string, live: number, lines: number, note: string): void {
  ctx.record({ system, workload, metric: "lines/op", value: lines, unit: "lines", at: live, note });
  point(curves, workload, system, live).lines = lines;
}

const nsText = (v: number): string => (v >= 1000 ? `${(v / 1000).toPrecision(3)} µs` : `${v.toPrecision(v < 10 ? 2 : 3)} ns`);

/**
 * The compact terminal table of the curves: per workload, one row per system, one column per size,
 * "ns/op (x floor) lines" in each cell ("-" where a figure was not taken). At most 98 columns.
 *
 * @example
 * ```ts
 * curveTable(curves, [1000, 1000000]);   // [heading, "page allocators: order-0 churn", "  buddy per-CPU     8.1 ns 4.2x 3.0l  ...", ...]
 * ```
 */
export function curveTable(curves: Curves, sizes: readonly number[]): string[] {
  const nameWidth = 20;
  const cellWidth = Math.floor((96 - nameWidth) / sizes.length);
  const out = [`ns/op (x the floor of the same rounds) and lines/op, by live pages: ${sizes.map(liveLabel).join(", ")}`];
  for (const [workload, bySystem] of curves) {
    out.push(`${workload}`);
    for (const [system, byLive] of bySystem) {
      const cells = sizes.map((live) => {
        const p = byLive.get(live);
        if (p === undefined) return "-";
        const ns = p.ns === undefined ? "-" : `${nsText(p.ns)}${p.ratio !== undefined && p.ratio !== 1 ? ` ${p.ratio < 10 ? p.ratio.toFixed(1) : p.ratio.toFixed(0)}x` : ""}`;
        return p.lines === undefined ? ns : `${ns} ${p.lines.toFixed(1)}l`;
      });
      // A space between cells even when one fills its column.
      out.push(`  ${system.slice(0, nameWidth - 2).padEnd(nameWidth - 2)}${cells.map((c) => c.padEnd(cellWidth - 1)).join(" ").trimEnd()}`);
    }
  }
  return out;
}

/**
 * Runs every point of `plan` (each size: build, time, probe, drop) and logs the compact table;
 * exported for the opt-in `scale-full` suite. Cost: dominated by the builds and fills of the largest
 * size (1M pages through each allocator, table and system).
 *
 * @example
 * ```ts
 * run(ctx) { runScale(ctx, scalePlan(ctx.quick, true)); }
 * ```
 */
export function runScale(ctx: SuiteContext, plan: ScalePlan): void {
  const seed = ctx.seed;
  const classic = systemNamed("classic")!;
  const memdesc = systemNamed("memdesc")!;
  const curves: Curves = new Map();
  // Every timing first, every probe after: a probe builds its structures over ProbingArena's proxy
  // arrays, and once the library's code has seen a proxy, V8's feedback for it stays generic for the
  // rest of the process (the maple tree's churn read 382 ns before a probe and 2,089 ns after one).
  const probed = plan.sizes.filter((live) => live <= plan.linesUpTo);
  const steps = plan.sizes.length * 3 + probed.length * 3;
  let step = 0;
  const progress = (): void => ctx.progress("scale", ++step, steps);
  const inputs = (live: number) => {
    const bytes = scaleMachineBytes(live);
    return {
      bytes,
      machine: bytes >= GiB ? `${bytes / GiB} GiB` : `${bytes / MiB} MiB`,
      slots: churnSlots(seed, live, SEQUENCE),
      // Order 0 for every slot of the fill (a system fills slot i with order orders[i]).
      zeros: new Int32Array(Math.max(SEQUENCE, live)),
      pfns: tablePfns(bytes, seed),
      queries: randomIndices(seed, "scale/lookups", SEQUENCE, live),
    };
  };
  for (const live of plan.sizes) {
    const { bytes, machine, slots, zeros, pfns, queries } = inputs(live);
    const sizes = imixSizes(seed, Math.max(SEQUENCE, live));
    const floor = (): Contender => churnFloor(live, { seed, sequence: SEQUENCE });

    // Page allocators.
    timeAt(ctx, curves, plan, SCALE_WORKLOADS.allocators, live, [floor(), ...PAGE_ALLOCATORS.map((name) => pageAllocatorChurn(name, bytes, live, slots))], FLOOR, `${machine} machine`);
    progress();

    // Descriptor tables: one build each, churned and looked up.
    const tables = DESCRIPTOR_TABLES.map((name) => buildTable(name, bytes, live, slots, pfns));
    timeAt(ctx, curves, plan, SCALE_WORKLOADS.tables, live, [floor(), ...tables.map(tableChurn)], FLOOR, "single-page records at random pfns");
    timeAt(ctx, curves, plan, SCALE_WORKLOADS.lookups, live, [flatTableLookup(bytes, tables[0]!.state.held, queries), ...tables.map((t) => tableLookup(t, queries))], FLAT_LOOKUP, "random live pfns");
    progress();

    // The whole systems: page churn through the face, and IMIX fragments through page_frag_cache.
    // One build per system serves both (the page churn's live pages stay while the fragments churn).
    const built = [classic, memdesc].map((def) => buildSystem(def, { bytes }));
    timeAt(ctx, curves, plan, SCALE_WORKLOADS.systems, live, [floor(), ...built.map((system) => pageChurnOn(system.name, () => system, live, slots, zeros))], FLOOR, "alloc+free through the system's face");
    timeAt(ctx, curves, plan, SCALE_WORKLOADS.imix, live, [floor(), ...built.map((system) => imixChurnOn(system.name, () => system, live, slots, sizes))], FLOOR, `${liveLabel(live)} fragments live beside as many pages`);
    for (const system of built) system.dispose();
    progress();
  }
  const probeNote = `probe: ${plan.probeOps} steps after as many uncounted`;
  for (const live of probed) {
    const { bytes, slots, zeros, pfns, queries } = inputs(live);
    for (const name of PAGE_ALLOCATORS) linesAt(ctx, curves, SCALE_WORKLOADS.allocators, name, live, pageAllocatorLines(name, bytes, live, slots, plan.probeOps, plan.probeOps).op, probeNote);
    progress();
    for (const name of DESCRIPTOR_TABLES) {
      const lines = tableLines(name, bytes, live, slots, pfns, queries, plan.probeOps);
      linesAt(ctx, curves, SCALE_WORKLOADS.lookups, name, live, lines.lookup, `probe: ${plan.probeOps} lookups`);
      linesAt(ctx, curves, SCALE_WORKLOADS.tables, name, live, lines.churn.op, `probe: ${plan.probeOps} erase+store`);
    }
    progress();
    for (const def of [classic, memdesc]) linesAt(ctx, curves, SCALE_WORKLOADS.systems, def.name, live, probeLinesPerOp(def, { bytes }, live, plan.probeOps, slots, zeros, plan.probeOps).total, `${probeNote}; allocator + descriptor table`);
    progress();
  }
  for (const line of curveTable(curves, plan.sizes)) ctx.log(line);
}

/**
 * The default scale suite: the curves from 1k to 1M live pages (lines/op probed at 1k; the
 * opt-in `scale-full` probes every size).
 */
const suite: Suite = {
  name: "scale",
  description: "Cost as the live set grows (1k..1M pages, machines to 16 GiB): ns/op and lines/op of buddy per-CPU and free lists, POTAD and its page face, maple/memmap-64/memdesc-8 tables, classic and memdesc",
  default: true,
  run(ctx) {
    runScale(ctx, scalePlan(ctx.quick, false));
  },
};

export default suite;

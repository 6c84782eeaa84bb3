import { MiB } from "@mmkit/physmem";
import type { SuiteContext } from "../harness/types.js";
import type { BuildOptions } from "../systems/build.js";
import { systemNamed, type SystemDefinition } from "../systems/definition.js";
import { contiguousOnFragmented, Q7_SHAPE, type ContiguousResult, type FragmentShape } from "../workloads/contiguous.js";

/** One way of serving a contiguous request: a system and how its buddy (if any) serves ranges. */
export interface ContiguousContender {
  /** Row name in the tables. */
  name: string;
  def: SystemDefinition;
  build: BuildOptions;
  /** A CMA area of this share of RAM (`BuildOptions.cmaBytes`), when set. */
  cmaShare?: number;
}

/** The buddy with its largest order raised to 11, so 8 MiB is one block (the kernel's MAX_PAGE_ORDER is a build option). */
const classicOrder11 = (): SystemDefinition => ({ ...systemNamed("classic")!, name: "classic, max order 11", maxOrder: 11 });

/**
 * Q7's contenders, in the order the answer names them. POTAD is `potad+memdesc8`: the descriptor
 * table alone does not change where POTAD puts blocks (memdesc with memdescs as counted handles
 * serves the same requests; a test checks it), and it fills a machine about twice as fast as the
 * maple tree. POTAD has no migration.
 * The buddy at its default max order (10, 4 MiB) is not run: it has no 8 MiB block, so it serves
 * none by construction (the `systems` suite shows it, and a test checks it).
 *
 * @example
 * ```ts
 * q7Contenders().map((c) => c.name); // ["POTAD (halving fallback)", "buddy, direct compaction (max order 11)", ...]
 * ```
 */
export function q7Contenders(): ContiguousContender[] {
  return [
    { name: Q7_NAMES.potad, def: systemNamed("potad+memdesc8")!, build: {} },
    { name: Q7_NAMES.contigRange, def: systemNamed("classic")!, build: { contiguous: "contig-range" } },
    { name: Q7_NAMES.cma, def: systemNamed("classic")!, build: { contiguous: "contig-range" }, cmaShare: 1 / 4 },
    { name: Q7_NAMES.compaction, def: classicOrder11(), build: { contiguous: "compaction" } },
    { name: Q7_NAMES.order11, def: classicOrder11(), build: {} },
  ];
}

/** The contenders' row names. */
export const Q7_NAMES = {
  potad: "POTAD (halving fallback)",
  contigRange: "buddy, alloc_contig_range + migration",
  cma: "buddy, CMA area (1/4 of RAM) + alloc_contig_range",
  compaction: "buddy, direct compaction (max order 11)",
  order11: "buddy, neither (max order 11)",
} as const;

/** Q7's machine and seeds: 512 MiB (64 requests) over 3 seeds; quick: 256 MiB (32) over 2. */
export function q7Size(quick: boolean): { bytes: number; seeds: number } {
  return quick ? { bytes: 256 * MiB, seeds: 2 } : { bytes: 512 * MiB, seeds: 3 };
}

/** One contender's figures over all seeds. */
export interface ContiguousSummary {
  served: number;
  attempts: number;
  /** Served share of the worst and the best seed, in %. */
  minPct: number;
  maxPct: number;
  /** Pages moved per request, over all seeds. */
  migratedPerRequest: number;
  /** Median over the seeds of the wall-clock ns per request, and (max - min) / median of them. */
  nsPerRequest: number;
  spread: number;
  perSeed: ContiguousResult[];
}

/** The seeds of a comparison: `seed`, `seed + 1`, ... (32-bit). */
export function seedsFrom(seed: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => (seed + i) >>> 0);
}

/**
 * Runs every contender on the same fragmented machines (one per seed, `bytes` of RAM, `shape`)
 * and sums up served requests (and the worst and best seed), pages moved per request and time
 * per request. Pure figures; see {@link recordContiguousComparison} for the measurements.
 *
 * @example
 * ```ts
 * compareContiguous(q7Contenders(), 256 * MiB, [1, 2], Q7_SHAPE).get("POTAD (halving fallback)")!.served;
 * ```
 */
export function compareContiguous(contenders: readonly ContiguousContender[], bytes: number, seeds: readonly number[], shape: FragmentShape = Q7_SHAPE): Map<string, ContiguousSummary> {
  const out = new Map<string, ContiguousSummary>();
  for (const c of contenders) {
    const perSeed = seeds.map((seed) => contiguousOnFragmented(c.def, { ...c.build, bytes, ...(c.cmaShare !== undefined ? { cmaBytes: bytes * c.cmaShare } : {}) }, seed, shape));
    const pct = perSeed.map((r) => (100 * r.served) / r.attempts);
    const ns = perSeed.map((r) => (r.ms * 1e6) / r.attempts).sort((a, b) => a - b);
    const median = ns[ns.length >> 1]!;
    const served = perSeed.reduce((n, r) => n + r.served, 0);
    const attempts = perSeed.reduce((n, r) => n + r.attempts, 0);
    out.set(c.name, {
      served,
      attempts,
      minPct: Math.min(...pct),
      maxPct: Math.max(...pct),
      migratedPerRequest: perSeed.reduce((n, r) => n + r.migratedPages, 0) / attempts,
      nsPerRequest: median,
      spread: median > 0 ? (ns[ns.length - 1]! - ns[0]!) / median : 0,
      perSeed,
    });
  }
  return out;
}

/** The workload name of a comparison on `bytes` of RAM over `seeds` seeds. */
export function contiguousWorkload(bytes: number, seeds: number): string {
  return `8 MiB@1 MiB, ${bytes / MiB} MiB, 1/1024 kept (1 in 8 slab), ${seeds} seeds`;
}

/**
 * Records {@link compareContiguous}'s figures: per contender `served` (%, all seeds), `served,
 * worst seed` and `served, best seed` (%), `migrated/request` (pages) and `ns/op` (wall clock per
 * request, the median of the seeds, spread over them; taken once per seed, so under load it is
 * only a rough figure). Returns the summaries.
 */
export function recordContiguousComparison(ctx: SuiteContext, contenders: readonly ContiguousContender[], bytes: number, seeds: readonly number[]): Map<string, ContiguousSummary> {
  const workload = contiguousWorkload(bytes, seeds.length);
  const out = compareContiguous(contenders, bytes, seeds);
  for (const [system, s] of out) {
    ctx.record({ system, workload, metric: "served", value: (100 * s.served) / s.attempts, unit: "%", note: `${s.served} of ${s.attempts} over ${seeds.length} seeds` });
    ctx.record({ system, workload, metric: "served, worst seed", value: s.minPct, unit: "%" });
    ctx.record({ system, workload, metric: "served, best seed", value: s.maxPct, unit: "%" });
    ctx.record({ system, workload, metric: "migrated/request", value: s.migratedPerRequest, unit: "pages" });
    ctx.record({ system, workload, metric: "ns/op", value: s.nsPerRequest, unit: "ns", spread: s.spread, note: `per request, wall clock, median of ${seeds.length} seeds` });
  }
  return out;
}

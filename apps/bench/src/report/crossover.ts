import type { Measurement } from "../harness/types.js";

/** Two designs' figures at one point of a curve (`at`, e.g. live pages). */
export interface CurvePoint {
  at: number;
  a: number;
  b: number;
}

/** Where one design overtakes the other: between two measured points, and which one leads after. */
export interface Crossover {
  /** Last point before the lead changes, and the first after. */
  from: number;
  to: number;
  /** Which design has the lower figure from `to` on. */
  lower: "a" | "b";
}

/**
 * The points where curve `a` and curve `b` swap which is lower, in order of `at` (empty when one
 * stays lower over the whole range). A tie counts as no change. O(points log points).
 *
 * @example
 * ```ts
 * crossovers([{ at: 1e3, a: 5, b: 8 }, { at: 1e4, a: 7, b: 8 }, { at: 1e5, a: 20, b: 9 }]);
 * // [{ from: 10000, to: 100000, lower: "b" }]
 * ```
 */
export function crossovers(points: readonly CurvePoint[]): Crossover[] {
  const sorted = points.slice().sort((p, q) => p.at - q.at);
  const out: Crossover[] = [];
  let lead: "a" | "b" | undefined;
  let leadAt = 0;
  for (const p of sorted) {
    const now = p.a < p.b ? "a" : p.b < p.a ? "b" : undefined;
    if (now === undefined) continue;
    if (lead !== undefined && now !== lead) out.push({ from: leadAt, to: p.at, lower: now });
    lead = now;
    leadAt = p.at;
  }
  return out;
}

/**
 * The curve of two systems' `metric` in one suite and workload: their values at every `at` both
 * have, in order of `at`. O(measurements).
 *
 * @example
 * ```ts
 * curveOf(ctx.earlier, "scale", "systems: order-0 churn", "ns/op", "memdesc", "classic");
 * ```
 */
export function curveOf(measurements: readonly Measurement[], suite: string, workload: string, metric: string, a: string, b: string): CurvePoint[] {
  const values = (system: string): Map<number, number> => {
    const out = new Map<number, number>();
    for (const m of measurements) if (m.suite === suite && m.workload === workload && m.metric === metric && m.system === system && m.at !== undefined) out.set(m.at, m.value);
    return out;
  };
  const av = values(a);
  const bv = values(b);
  return [...av.keys()]
    .filter((at) => bv.has(at))
    .sort((x, y) => x - y)
    .map((at) => ({ at, a: av.get(at)!, b: bv.get(at)! }));
}

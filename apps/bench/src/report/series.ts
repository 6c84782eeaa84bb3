import type { Measurement } from "../harness/types.js";

/**
 * The key a measurement is matched on across reports and within a series: suite, system, workload
 * and metric (joined with a character no name contains).
 *
 * @example
 * ```ts
 * measurementKey({ suite: "buddy", system: "classic", workload: "churn", metric: "ns/op", value: 3, unit: "ns" });
 * // "buddy\u0000classic\u0000churn\u0000ns/op"
 * ```
 */
export function measurementKey(m: Pick<Measurement, "suite" | "system" | "workload" | "metric">): string {
  return `${m.suite}\u0000${m.system}\u0000${m.workload}\u0000${m.metric}`;
}

/** One series: the points of one suite/system/workload/metric that carry `at`, in increasing `at`. */
export interface Series {
  suite: string;
  system: string;
  workload: string;
  metric: string;
  unit: string;
  /** Sorted by `at` (stable: points with equal `at` keep their recorded order). */
  points: Measurement[];
}

/**
 * Every series in `measurements` (records that carry `at`, grouped by suite, system, workload and
 * metric), in order of first appearance. O(n log n).
 *
 * @example
 * ```ts
 * seriesOf(report.measurements).map((s) => s.points.length);   // [12] for one 12-point series
 * ```
 */
export function seriesOf(measurements: readonly Measurement[]): Series[] {
  const byKey = new Map<string, Series>();
  for (const m of measurements) {
    if (m.at === undefined) continue;
    const key = measurementKey(m);
    let s = byKey.get(key);
    if (s === undefined) byKey.set(key, (s = { suite: m.suite, system: m.system, workload: m.workload, metric: m.metric, unit: m.unit, points: [] }));
    s.points.push(m);
  }
  for (const s of byKey.values()) s.points.sort((a, b) => a.at! - b.at!);
  return [...byKey.values()];
}

/**
 * `measurements` with every series collapsed to its last point (the greatest `at`; the last one
 * recorded among equals), placed where the series first appeared; measurements without `at` pass
 * through in order. This is what tables, bar charts and `--compare` read. O(n).
 *
 * @example
 * ```ts
 * latestPoints([{ ...m, at: 0, value: 1 }, { ...m, at: 10, value: 4 }]);   // [{ ...m, at: 10, value: 4 }]
 * ```
 */
export function latestPoints(measurements: readonly Measurement[]): Measurement[] {
  const last = new Map<string, Measurement>();
  for (const m of measurements) {
    if (m.at === undefined) continue;
    const key = measurementKey(m);
    const prev = last.get(key);
    if (prev === undefined || m.at >= prev.at!) last.set(key, m);
  }
  const out: Measurement[] = [];
  const placed = new Set<string>();
  for (const m of measurements) {
    if (m.at === undefined) {
      out.push(m);
      continue;
    }
    const key = measurementKey(m);
    if (placed.has(key)) continue;
    placed.add(key);
    out.push(last.get(key)!);
  }
  return out;
}

/**
 * How many points each series has, by {@link measurementKey}. O(n).
 *
 * @example
 * ```ts
 * seriesCounts(report.measurements).get(measurementKey(m));   // 12
 * ```
 */
export function seriesCounts(measurements: readonly Measurement[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of measurements) {
    if (m.at === undefined) continue;
    const key = measurementKey(m);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

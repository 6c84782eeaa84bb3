import type { Measurement } from "../harness/types.js";
import { formatRatio, formatSpread, formatValue, isNotApplicable } from "./format.js";
import { latestPoints, seriesOf } from "./series.js";
import { ANSWER_METRIC, wrap } from "./table.js";

/** The sections of the HTML report's charts, in the order they appear. */
export const CHART_SECTIONS = {
  time: "Time per operation",
  lines: "Cache lines per operation",
  metadata: "Metadata",
  splits: "Direct-map splits",
  fragmentation: "Fragmentation",
  histograms: "Free blocks per order: kernel and model",
  series: "Over time",
} as const;

/**
 * Metric of a buddyinfo histogram: a series whose `at` is the order and whose value is the free
 * blocks of that order; drawn as bars per order, one colour per system (the kernel's snapshot and
 * the model side by side), not as a line over time.
 */
export const HISTOGRAM_METRIC = "free blocks";

export type ChartSection = keyof typeof CHART_SECTIONS;

/** One line (series chart) or one colour of bars (bar chart): a system. */
export interface ChartDataset {
  /** The system (contender or composition). */
  label: string;
  /** Bar charts: one value per category, `null` where this system has none. Line charts: unused (empty). */
  values: (number | null)[];
  /** Line charts: the points, in increasing `x` (= `at`). Bar charts: unused (empty). */
  points: { x: number; y: number }[];
  /** The tooltip of each value or point: "12.3 ns, spread 4.1%, 2.5x Int32Array stack". */
  tips: (string | null)[];
  /**
   * Palette index (of {@link PALETTE_SIZE}): a system keeps the colour of its first appearance in
   * the report unless another system of the same chart has it already, then it takes the next free one.
   */
  colour: number;
}

/**
 * A chart of the HTML report, computed from measurements alone (so it can be tested without a
 * browser): the page's script hands it to Chart.js as it is.
 */
export interface ChartSpec {
  /** `chart-<n>`, the canvas id. */
  id: string;
  section: ChartSection;
  title: string;
  kind: "bar" | "line";
  /** Unit of the values (ticks are formatted in it). */
  unit: string;
  /** A logarithmic value axis (positive values spanning more than 20x). */
  log: boolean;
  /** Lower end of a logarithmic axis: the power of ten below the smallest value, so every bar has a length. */
  min?: number;
  /** Line charts: a logarithmic `at` axis (positive positions spanning more than 20x, e.g. live-set sizes 1k..1M). */
  logX?: boolean;
  /** Bar charts: the category labels (workload, or "workload · metric"), each wrapped into lines. */
  categories: string[][];
  datasets: ChartDataset[];
  /** Pixel height of the chart's box. */
  height: number;
  /** Line charts over trace time: the trace's markers (`tracing_mark_write`), drawn as labelled vertical lines. */
  markers?: { x: number; label: string }[];
  /** Line charts: the x axis title when it is not the generic "at" (e.g. "trace time (s)"). */
  xTitle?: string;
  /**
   * Present when there is nothing to draw (every value is 0, or not applicable): what the page
   * says instead of drawing an empty chart.
   */
  empty?: string;
}

/**
 * The metric of a trace marker measurement: `value` is its trace time (unit "s") and `note` its
 * text; series charts of the same suite and workload draw it as a vertical line.
 */
export const MARKER_METRIC = "marker";

/**
 * Which bar-chart section a measurement belongs to, or undefined (tables only). First rule wins.
 *
 * @example
 * ```ts
 * chartSection({ metric: "2M splits", unit: "count" });   // "splits"
 * chartSection({ metric: "served", unit: "%" });          // undefined
 * ```
 */
export function chartSection(m: Pick<Measurement, "metric" | "unit">): Exclude<ChartSection, "series" | "histograms"> | undefined {
  // Answers, trace markers and a trace's event counts ("events: extfrag" counts events, it measures no fragmentation).
  if (m.metric === ANSWER_METRIC || m.metric === MARKER_METRIC || m.metric.startsWith("events: ")) return undefined;
  if (m.metric === "ns/op") return "time";
  if (m.unit === "lines") return "lines";
  if (/\bsplits$/i.test(m.metric)) return "splits";
  if (/frag|unusable|extfrag|largest free/i.test(m.metric)) return "fragmentation";
  if (/metadata|bytes\/page|descriptor/i.test(m.metric)) return "metadata";
  return undefined;
}

function tip(m: Measurement): string {
  const parts = [formatValue(m.value, m.unit)];
  if (m.spread !== undefined) parts.push(`spread ${formatSpread(m.spread)}`);
  if (m.ratio !== undefined) parts.push(`${formatRatio(m.ratio)} ${m.ratioTo}`);
  if (m.at !== undefined) parts.push(`at ${m.at}`);
  return parts.join(", ");
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const g = groups.get(k);
    if (g === undefined) groups.set(k, [item]);
    else g.push(item);
  }
  return groups;
}

/** Colours in the page's palette. */
export const PALETTE_SIZE = 10;

const useLog = (values: readonly number[]): boolean => {
  if (values.length < 2 || values.some((v) => v <= 0)) return false;
  return Math.max(...values) / Math.min(...values) > 20;
};

/** The power of ten strictly below the smallest value. */
const logMin = (values: readonly number[]): number => 10 ** (Math.ceil(Math.log10(Math.min(...values))) - 1);

/** Gives each dataset of one chart a colour no other dataset of the chart has (while the palette lasts). */
function distinctColours(datasets: ChartDataset[]): ChartDataset[] {
  const taken = new Set<number>();
  for (const d of datasets) {
    let c = d.colour % PALETTE_SIZE;
    for (let i = 0; i < PALETTE_SIZE && taken.has(c); i++) c = (c + 1) % PALETTE_SIZE;
    taken.add(c);
    d.colour = c;
  }
  return datasets;
}

/** The value-axis fields of a spec: logarithmic when the values span more than 20x, with its lower end. */
function valueAxis(values: readonly number[]): { log: boolean; min?: number } {
  return useLog(values) ? { log: true, min: logMin(values) } : { log: false };
}

/**
 * One bar chart: categories are the workloads in order of first appearance (with the metric when
 * the chart holds several, and the note when measurements of one system would otherwise share a
 * category), one dataset per system; a system absent from a category, or whose value there is not
 * applicable (a fragmentation index of -1000), has `null` there (Chart.js skips it), and the
 * category's label says "n/a: <systems>".
 */
function barChart(section: ChartSection, title: string, unit: string, rows: readonly Measurement[], colour: (system: string) => number): Omit<ChartSpec, "id"> {
  const manyMetrics = new Set(rows.map((m) => m.metric)).size > 1;
  const plain = (m: Measurement): string => (manyMetrics ? `${m.workload} · ${m.metric}` : m.workload);
  // Measurements of one system that differ only by their note: the note tells their bars apart.
  const seen = new Map<string, number>();
  for (const m of rows) seen.set(`${m.system}\u0000${plain(m)}`, (seen.get(`${m.system}\u0000${plain(m)}`) ?? 0) + 1);
  const ambiguous = new Set(rows.filter((m) => seen.get(`${m.system}\u0000${plain(m)}`)! > 1).map(plain));
  const category = (m: Measurement): string => (ambiguous.has(plain(m)) && m.note !== undefined && m.note !== "" ? `${plain(m)} · ${m.note}` : plain(m));
  const categories = [...new Set(rows.map(category))];
  const systems = [...new Set(rows.map((m) => m.system))];
  const datasets: ChartDataset[] = systems.map((system) => ({ label: system, values: categories.map(() => null), points: [], tips: categories.map(() => null), colour: colour(system) }));
  for (const m of rows) {
    const d = datasets[systems.indexOf(m.system)]!;
    const c = categories.indexOf(category(m));
    // A repeated system/category keeps its first value (the table shows every row).
    if (d.values[c] !== null || d.tips[c] !== null) continue;
    d.values[c] = isNotApplicable(m.value, m.unit) ? null : m.value;
    d.tips[c] = tip(m);
  }
  const notApplicable = categories.map((_, c) => datasets.filter((d) => d.values[c] === null && d.tips[c] !== null).map((d) => d.label));
  const wrapped = categories.map((c, i) => [...wrap(c, 30), ...(notApplicable[i]!.length > 0 ? wrap(`n/a: ${notApplicable[i]!.join(", ")}`, 30) : [])]);
  // Each category gets room for its bars and for its label's lines; then the axis and the legend.
  const rowsHeight = wrapped.reduce((h, label, c) => h + 10 + Math.max(16 * datasets.filter((d) => d.values[c] !== null).length, 16 * label.length), 0);
  const height = Math.max(160, 100 + rowsHeight + Math.ceil(systems.length / 3) * 18);
  const values = datasets.flatMap((d) => d.values.filter((v): v is number => v !== null));
  const spec: Omit<ChartSpec, "id"> = { section, title, kind: "bar", unit, ...valueAxis(values), categories: wrapped, datasets: distinctColours(datasets), height };
  const empty = emptyChart(values, rows.length);
  if (empty !== undefined) spec.empty = empty;
  return spec;
}

/** What a chart whose `values` (of `count` measurements) leave nothing to draw says instead, or undefined. */
function emptyChart(values: readonly number[], count: number): string | undefined {
  if (values.length === 0) return `Nothing to draw: ${count === 1 ? "the value is" : `all ${count} values are`} not applicable.`;
  if (values.every((v) => v === 0)) return `Nothing to draw: ${values.length === 1 ? "the value is" : `all ${values.length} values are`} 0.`;
  return undefined;
}

/**
 * The charts of a report, built from whatever measurements it has, so new suites get charts without
 * touching this file:
 *
 * - **time**: every `ns/op`, one chart per suite (workloads by system, logarithmic when they span > 20x);
 * - **lines**: every measurement in unit `lines`, one chart per suite;
 * - **splits**: metrics ending in "splits" (direct-map 2M/1G splits), one chart per suite and unit;
 * - **fragmentation**: metrics naming fragmentation, unusable free space or the largest free block;
 * - **histograms**: series of metric {@link HISTOGRAM_METRIC} (`at` = order), one bar chart per suite and workload, a bar per system and order;
 * - **metadata**: metrics naming metadata, bytes/page or a descriptor, one chart per suite and unit;
 * - **series**: measurements that carry `at`, one line chart per suite, workload and metric, a line per system
 *   (the `at` axis logarithmic when the positions span more than 20x, as the scale suite's live-set sizes do);
 *   {@link MARKER_METRIC} measurements of the same suite and workload become its labelled vertical lines.
 *
 * Bar charts read the last point of a series (as the tables do); answers are never charted; a
 * not-applicable value (a fragmentation index of -1000) has no bar and its category says "n/a"; a
 * chart with nothing to draw (all values 0) carries `empty`, the sentence the page shows instead.
 * Cost: O(n log n) in the measurements.
 *
 * @example
 * ```ts
 * chartSpecs(report.measurements).map((c) => c.title);   // ["floors: ns/op", ...]
 * ```
 */
export function chartSpecs(measurements: readonly Measurement[]): ChartSpec[] {
  const palette = new Map<string, number>();
  const colour = (system: string): number => {
    let c = palette.get(system);
    if (c === undefined) palette.set(system, (c = palette.size));
    return c;
  };
  for (const m of measurements) colour(m.system);
  const specs: Omit<ChartSpec, "id">[] = [];
  const latest = latestPoints(measurements);
  const sections = Object.keys(CHART_SECTIONS) as ChartSection[];
  for (const section of sections) {
    if (section === "histograms") {
      const points = measurements.filter((m) => m.metric === HISTOGRAM_METRIC && m.at !== undefined);
      for (const group of groupBy(points, (m) => `${m.suite}\u0000${m.workload}`).values()) {
        const first = group[0]!;
        const rows = [...group].sort((a, b) => a.at! - b.at!).map((m) => ({ ...m, workload: `order ${m.at}`, at: undefined }));
        specs.push(barChart(section, `${first.suite}: free blocks per order, ${first.workload}`, first.unit, rows, colour));
      }
      continue;
    }
    if (section === "series") {
      const bySuiteWorkloadMetric = groupBy(
        seriesOf(measurements).filter((s) => s.metric !== HISTOGRAM_METRIC),
        (s) => `${s.suite}\u0000${s.workload}\u0000${s.metric}\u0000${s.unit}`,
      );
      for (const group of bySuiteWorkloadMetric.values()) {
        const first = group[0]!;
        // Not-applicable points (a fragmentation index of -1000) are left out of the line.
        const drawable = (s: (typeof group)[number]) => s.points.filter((p) => !isNotApplicable(p.value, p.unit));
        const datasets: ChartDataset[] = group.map((s) => ({ label: s.system, values: [], points: drawable(s).map((p) => ({ x: p.at!, y: p.value })), tips: drawable(s).map(tip), colour: colour(s.system) }));
        const values = group.flatMap((s) => drawable(s).map((p) => p.value));
        const positions = group.flatMap((s) => s.points.map((p) => p.at!));
        const markers = measurements.filter((m) => m.metric === MARKER_METRIC && m.unit === "s" && m.at === undefined && m.suite === first.suite && m.workload === first.workload).map((m) => ({ x: m.value, label: m.note ?? "" }));
        const overTraceTime = markers.length > 0 ? { markers, xTitle: "trace time (s)" } : {};
        const spec: Omit<ChartSpec, "id"> = { section, title: `${first.suite}: ${first.metric} during ${first.workload}`, kind: "line", unit: first.unit, ...valueAxis(values), ...(useLog(positions) ? { logX: true } : {}), categories: [], datasets: distinctColours(datasets), height: 280 + Math.ceil(group.length / 3) * 18, ...overTraceTime };
        const empty = emptyChart(values, group.reduce((n, s) => n + s.points.length, 0));
        if (empty !== undefined) spec.empty = empty;
        specs.push(spec);
      }
      continue;
    }
    const rows = latest.filter((m) => chartSection(m) === section);
    const perSuite = section === "time" || section === "lines";
    for (const group of groupBy(rows, (m) => (perSuite ? m.suite : `${m.suite}\u0000${m.unit}`)).values()) {
      const first = group[0]!;
      const metrics = [...new Set(group.map((m) => m.metric))];
      const title = `${first.suite}: ${metrics.length === 1 ? metrics[0] : section === "lines" ? "cache lines" : metrics.join(", ")}`;
      specs.push(barChart(section, title, first.unit, group, colour));
    }
  }
  return specs.map((s, i) => ({ id: `chart-${i}`, ...s }));
}

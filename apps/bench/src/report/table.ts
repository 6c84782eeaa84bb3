import Table from "cli-table3";
import type { SuiteResult } from "../harness/runner.js";
import type { Measurement } from "../harness/types.js";
import { formatNumber, formatRatio, formatSpread, formatValue } from "./format.js";
import { latestPoints, measurementKey, seriesCounts } from "./series.js";

/** Widest a printed table may be, in columns. */
export const TABLE_WIDTH = 100;

export const HEAD = ["system", "metric", "median", "spread", "ratio", "note"] as const;
/** Widest each column may get (cell padding included). */
const MAX = [32, 26, 12, 8, 9, 60];
/** Narrowest the metric and note columns are squeezed to. */
const MIN_METRIC = 10;
const MIN_NOTE = 16;

/**
 * Column widths within {@link TABLE_WIDTH}: median, spread and ratio keep their natural width; the
 * rest goes first to the system column (it names the row), then to the metric, and the note takes
 * what is left and wraps.
 *
 * @example
 * ```ts
 * columnWidths([25, 22, 10, 8, 7, 60]);   // [25, 22, 10, 8, 7, 21]
 * ```
 */
export function columnWidths(natural: readonly number[]): number[] {
  const widths = natural.map((w, c) => Math.min(MAX[c]!, w));
  const budget = TABLE_WIDTH - (widths.length + 1) - widths[2]! - widths[3]! - widths[4]!;
  widths[0] = Math.max(MIN_METRIC, Math.min(widths[0]!, budget - MIN_METRIC - MIN_NOTE));
  widths[1] = Math.max(MIN_METRIC, Math.min(widths[1]!, budget - widths[0]! - MIN_NOTE));
  widths[5] = Math.max(MIN_METRIC, Math.min(widths[5]!, budget - widths[0]! - widths[1]!));
  return widths;
}

/**
 * Splits `text` into lines of at most `width` characters, at spaces where it can. O(text).
 *
 * @example
 * ```ts
 * wrap("one two three", 7);   // ["one two", "three"]
 * ```
 */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let rest = text;
  while (rest.length > width) {
    let cut = rest.lastIndexOf(" ", width);
    if (cut <= 0) cut = width;
    lines.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  lines.push(rest);
  return lines;
}

/** Measurements grouped by workload, workloads in order of first appearance, rows in recorded order. */
function byWorkload(measurements: readonly Measurement[]): Map<string, Measurement[]> {
  const groups = new Map<string, Measurement[]>();
  for (const m of measurements) {
    const group = groups.get(m.workload);
    if (group === undefined) groups.set(m.workload, [m]);
    else group.push(m);
  }
  return groups;
}

/** The metric of a measurement that answers one of the design questions (the question and answer are its `note`). */
export const ANSWER_METRIC = "answer";

/** A row of a suite's table: its measurement, its six cells, and whether it is an answer (a row across the table). */
export interface TableRow {
  measurement: Measurement;
  /** system, metric, median, spread, ratio, note. */
  cells: string[];
  answer: boolean;
}

/**
 * The rows of a suite's table grouped by workload (workloads in order of first appearance): every
 * series collapsed to its last point, whose note then says "last of 12 points, at 50,000"; a
 * measurement with metric {@link ANSWER_METRIC} and a note is an answer row. The terminal table
 * and the HTML report both print these. O(n).
 *
 * @example
 * ```ts
 * tableRows(result.measurements).get("alloc+free pairs")![0]!.cells;   // ["Int32Array stack", "ns/op", "0.99 ns", "217%", "1x", ""]
 * ```
 */
export function tableRows(measurements: readonly Measurement[]): Map<string, TableRow[]> {
  const counts = seriesCounts(measurements);
  const note = (m: Measurement): string => {
    if (m.at === undefined) return m.note ?? "";
    const where = `last of ${counts.get(measurementKey(m))} points, at ${formatNumber(m.at)}`;
    return m.note === undefined || m.note === "" ? where : `${m.note}; ${where}`;
  };
  const groups = new Map<string, TableRow[]>();
  for (const [workload, rows] of byWorkload(latestPoints(measurements))) {
    groups.set(
      workload,
      rows.map((m) => ({
        measurement: m,
        cells: [m.system, m.metric, formatValue(m.value, m.unit), formatSpread(m.spread), formatRatio(m.ratio), note(m)],
        answer: m.metric === ANSWER_METRIC && m.note !== undefined && m.note !== "",
      })),
    );
  }
  return groups;
}

/**
 * One suite's table. Each workload is a heading row, followed by one row per measurement: system,
 * metric, median (the value; for timings the median of the rounds), spread ((p90 - p10) / median),
 * ratio to the floor measured in the same run, note. A series (measurements that carry `at`) shows
 * only its last point, its note saying so ("last of 12 points, at 50,000"); an answer (metric
 * `"answer"` with a note) is a row of its own, and a table with answers is the whole width. Never wider than
 * {@link TABLE_WIDTH} columns (long cells wrap at spaces), and no colours, so it reads the same in a
 * log file.
 *
 * Cost: O(measurements).
 *
 * @example
 * ```ts
 * console.log(renderTable(await runSuite(suite, { quick: true, seed: DEFAULT_SEED })));
 * ```
 */
export function renderTable(result: Pick<SuiteResult, "measurements">): string {
  const groups = tableRows(result.measurements);
  const all = [...groups.values()].flat().filter((r) => !r.answer).map((r) => r.cells);
  const widths = columnWidths(HEAD.map((h, c) => Math.max(h.length, ...all.map((r) => r[c]!.length)) + 2));
  // Answers are sentences: give them the whole width (the note column takes the difference).
  if ([...groups.values()].some((rows) => rows.some((r) => r.answer))) widths[5]! += TABLE_WIDTH - widths.reduce((a, b) => a + b, widths.length + 1);
  const inner = widths.reduce((a, b) => a + b, widths.length - 1);
  const table = new Table({
    head: [...HEAD],
    colWidths: widths,
    style: { head: [], border: [], compact: true, "padding-left": 1, "padding-right": 1 },
  });
  for (const [workload, rows] of groups) {
    table.push([{ colSpan: HEAD.length, content: wrap(`» ${workload}`, inner - 2).join("\n") }]);
    for (const row of rows) {
      if (row.answer) table.push([{ colSpan: HEAD.length, content: row.measurement.note!.split("\n").flatMap((line) => wrap(line, inner - 2)).join("\n") }]);
      else table.push(row.cells.map((cell, c) => wrap(cell, widths[c]! - 2).join("\n")));
    }
  }
  return table.toString();
}

import Table from "cli-table3";
import type { SuiteResult } from "../harness/runner.js";
import type { Measurement } from "../harness/types.js";
import { formatNumber, formatRatio, formatSpread, formatValue } from "./format.js";
import { latestPoints, measurementKey, seriesCounts } from "./series.js";

/** Width of a printed table when the output is not a terminal (a pipe, a file, a test), in columns. */
export const TABLE_WIDTH = 100;
/** Narrowest width the table is laid out for; a narrower terminal wraps its lines. */
export const MIN_TABLE_WIDTH = 60;

/**
 * The width to lay text out in: `COLUMNS` when it is a whole number, else the terminal's width when
 * `stream` is one, else {@link TABLE_WIDTH}; never below {@link MIN_TABLE_WIDTH}. O(1).
 *
 * @example
 * ```ts
 * outputWidth({ COLUMNS: "80" }, process.stdout);        // 80
 * outputWidth({}, { isTTY: false });                      // 100 (piped)
 * outputWidth({}, { isTTY: true, columns: 200 });         // 200
 * ```
 */
export function outputWidth(env: Readonly<Record<string, string | undefined>>, stream: { isTTY?: boolean; columns?: number }): number {
  const fromEnv = env.COLUMNS !== undefined && /^\d+$/.test(env.COLUMNS.trim()) ? Number(env.COLUMNS) : undefined;
  const fromTerminal = stream.isTTY === true && Number.isSafeInteger(stream.columns) && stream.columns! > 0 ? stream.columns : undefined;
  return Math.max(MIN_TABLE_WIDTH, fromEnv ?? fromTerminal ?? TABLE_WIDTH);
}

export const HEAD = ["system", "metric", "median", "spread", "ratio", "note"] as const;
/** Narrowest the note column is squeezed to before the system and metric columns give way. */
const MIN_NOTE = 16;

/**
 * Length of the longest word (run of non-spaces) in `cells`, plus the 2 columns of cell padding:
 * the narrowest a column can be without breaking a word. O(characters).
 *
 * @example
 * ```ts
 * longestWord(["lines/op allocator", "ns/op"]);   // 11
 * ```
 */
export function longestWord(cells: readonly string[]): number {
  let longest = 0;
  for (const cell of cells) for (const word of cell.split(/\s+/)) longest = Math.max(longest, word.length);
  return longest + 2;
}

/**
 * Column widths (cell padding included) of a table at most `width` columns wide, borders counted:
 * median, spread and ratio keep their natural width; when the rest does not fit, the note gives way
 * first (down to 16), then the system column down to its longest word, then the metric down to its
 * longest word (so a metric name never breaks mid-word), then the note and system further. `natural`
 * has 6 widths (or 5: a table without a note column); `words` the narrowest each may get without
 * breaking a word. O(1).
 *
 * @example
 * ```ts
 * columnWidths([25, 22, 10, 8, 7, 60], [12, 10, 10, 8, 7, 12], 100);   // [25, 22, 10, 8, 7, 21]
 * ```
 */
export function columnWidths(natural: readonly number[], words: readonly number[] = natural, width = TABLE_WIDTH): number[] {
  const note = natural.length > 5 ? 5 : -1;
  return fitColumns(natural, width, [
    [note, Math.min(natural[5] ?? 0, MIN_NOTE)],
    [0, words[0]!],
    [1, words[1]!],
    [note, 6],
    [0, 6],
    [1, 6],
  ]);
}

/**
 * Narrows `natural` column widths until the table (borders counted) fits `width`: each step
 * `[column, floor]` in turn takes what it can from that column down to `floor` (a column of -1 is
 * skipped). When the steps run out the table may still be wider. O(columns x steps).
 *
 * @example
 * ```ts
 * fitColumns([30, 30], 43, [[1, 10], [0, 10]]);   // [30, 10]
 * ```
 */
export function fitColumns(natural: readonly number[], width: number, steps: readonly (readonly [number, number])[]): number[] {
  const widths = [...natural];
  const over = (): number => widths.reduce((a, b) => a + b, widths.length + 1) - width;
  for (const [c, floor] of steps) {
    if (c < 0 || c >= widths.length || over() <= 0) continue;
    widths[c] = Math.max(Math.min(widths[c]!, floor), widths[c]! - over());
  }
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
 * The note every row of a group shares, when there are two rows or more and it is not empty: the
 * table prints it once, beside the group's heading. O(rows).
 */
function sharedNote(rows: readonly TableRow[]): string | undefined {
  const plain = rows.filter((r) => !r.answer);
  if (plain.length < 2) return undefined;
  const note = plain[0]!.cells[5]!;
  return note !== "" && plain.every((r) => r.cells[5] === note) ? note : undefined;
}

/**
 * One suite's table. Each workload is a heading row, followed by one row per measurement: system,
 * metric, median (the value; for timings the median of the rounds), spread ((p90 - p10) / median),
 * ratio to the floor measured in the same run, note. A note that every row of a workload shares is
 * printed once in its heading ("» churn, 10k live: same slot sequence"), and a table with no notes
 * left has no note column; when the width leaves the note column under 16 columns (or would break
 * a system or metric name inside a word), each note is a line of its own under its row. A series (measurements that carry `at`) shows only its last point, its
 * note saying so ("last of 12 points, at 50,000"); an answer (metric `"answer"` with a note) is a row
 * of its own, and a table with answers is the whole width. Never wider than `width` columns (long
 * cells wrap at spaces; metric names are never broken inside a word unless the width is below
 * {@link MIN_TABLE_WIDTH}), and no colours, so it reads the same in a log file.
 *
 * Cost: O(measurements).
 *
 * @example
 * ```ts
 * console.log(renderTable(await runSuite(suite, { quick: true, seed: DEFAULT_SEED }), outputWidth(process.env, process.stdout)));
 * ```
 */
export function renderTable(result: Pick<SuiteResult, "measurements">, width = TABLE_WIDTH): string {
  const groups = tableRows(result.measurements);
  const shared = new Map<string, string | undefined>([...groups].map(([workload, rows]) => [workload, sharedNote(rows)]));
  const rowCells = (workload: string, row: TableRow): string[] => (shared.get(workload) === undefined ? row.cells : [...row.cells.slice(0, 5), ""]);
  const all = [...groups].flatMap(([workload, rows]) => rows.filter((r) => !r.answer).map((r) => rowCells(workload, r)));
  const natural = HEAD.map((h, c) => Math.max(h.length, ...all.map((r) => r[c]!.length)) + 2);
  const words = HEAD.map((h, c) => longestWord([h, ...all.map((r) => r[c]!)]));
  const anyNote = all.some((cells) => cells[5] !== "");
  let widths = columnWidths(anyNote ? natural : natural.slice(0, 5), words, width);
  // Too narrow for a note column of MIN_NOTE beside whole words: each note goes on a line of its own under its row.
  const notesBelow = anyNote && (widths[5]! < Math.min(natural[5]!, MIN_NOTE) || widths[0]! < words[0]! || widths[1]! < words[1]!);
  if (notesBelow) widths = columnWidths(natural.slice(0, 5), words, width);
  const head = HEAD.slice(0, widths.length);
  // Answers are sentences: give them the whole width (the last column takes the difference).
  if ([...groups.values()].some((rows) => rows.some((r) => r.answer))) widths[head.length - 1]! += width - widths.reduce((a, b) => a + b, widths.length + 1);
  const inner = widths.reduce((a, b) => a + b, widths.length - 1);
  const table = new Table({
    head,
    colWidths: widths,
    style: { head: [], border: [], compact: true, "padding-left": 1, "padding-right": 1 },
  });
  const across = (text: string, indent = ""): void => {
    const lines = text.split("\n").flatMap((line) => wrap(line, inner - 2 - indent.length).map((l) => `${indent}${l}`));
    table.push([{ colSpan: head.length, content: lines.join("\n") }]);
  };
  for (const [workload, rows] of groups) {
    const note = shared.get(workload);
    across(`» ${workload}${note === undefined ? "" : `: ${note}`}`);
    for (const row of rows) {
      if (row.answer) {
        across(row.measurement.note!);
        continue;
      }
      const cells = rowCells(workload, row);
      table.push(cells.slice(0, head.length).map((cell, c) => wrap(cell, widths[c]! - 2).join("\n")));
      if (notesBelow && cells[5] !== "") across(cells[5]!, "  ");
    }
  }
  return table.toString();
}

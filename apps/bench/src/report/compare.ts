import { readFileSync } from "node:fs";
import Table from "cli-table3";
import type { Measurement } from "../harness/types.js";
import { formatNumber, formatRatio, formatSpread, formatValue } from "./format.js";
import { validateReport, type BenchReport } from "./json.js";
import { latestPoints, measurementKey } from "./series.js";
import { ANSWER_METRIC, TABLE_WIDTH, fitColumns, longestWord, wrap } from "./table.js";

/**
 * Reads and validates an earlier run's `--json` file. Throws an `Error` naming the file and every
 * problem when it cannot be read, is not JSON, or is not a report of this schema version.
 *
 * @example
 * ```ts
 * const old = readReport("before.json");
 * ```
 */
export function readReport(file: string): BenchReport {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file} is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const problems = validateReport(value);
  if (problems.length > 0) throw new Error(`${file} is not an mmkit bench report: ${problems.slice(0, 5).join("; ")}${problems.length > 5 ? `; and ${problems.length - 5} more` : ""}`);
  return value as BenchReport;
}

/** How a figure moved between two runs. */
export type Verdict =
  /** ns/op up, and the two runs' p10..p90 ranges do not overlap. */
  | "slower"
  /** ns/op down, and the ranges do not overlap. */
  | "faster"
  /** ns/op moved, but within the spreads (noise, as far as this run can tell). */
  | "within spread"
  /** A deterministic figure (count, lines, bytes...) changed. */
  | "changed"
  /** The same value. */
  | "same";

/** One measurement present in both runs. */
export interface ComparedMeasurement {
  old: Measurement;
  new: Measurement;
  /** (new - old) / |old| * 100; `null` when old is 0 and new is not. */
  changePct: number | null;
  verdict: Verdict;
}

/** What {@link compareMeasurements} found. */
export interface Comparison {
  /** In the new run's order. */
  matched: ComparedMeasurement[];
  /** In the new run only. */
  added: Measurement[];
  /** In the old run only, among the suites the new run ran. */
  removed: Measurement[];
  /** Suites of the old run the new run did not run (their measurements are not compared). */
  notRun: string[];
}

/**
 * The verdict on one figure. A timing (`ns/op` with spreads on both sides) is flagged "slower" or
 * "faster" only when the runs' ranges median × (1 ± spread / 2), about p10..p90, do not overlap;
 * any other figure is deterministic for a seed, so any difference is "changed".
 *
 * @example
 * ```ts
 * verdict({ ...m, value: 10, spread: 0.1 }, { ...m, value: 12, spread: 0.1 });   // "slower"
 * verdict({ ...m, value: 10, spread: 0.5 }, { ...m, value: 12, spread: 0.5 });   // "within spread"
 * ```
 */
export function verdict(old: Measurement, now: Measurement): Verdict {
  if (old.value === now.value) return "same";
  if (old.metric !== "ns/op" || old.spread === undefined || now.spread === undefined) return "changed";
  const oldHigh = old.value * (1 + old.spread / 2);
  const oldLow = old.value * (1 - old.spread / 2);
  const newHigh = now.value * (1 + now.spread / 2);
  const newLow = now.value * (1 - now.spread / 2);
  if (newLow > oldHigh) return "slower";
  if (newHigh < oldLow) return "faster";
  return "within spread";
}

/**
 * Matches the measurements of two runs on suite, system, workload and metric (the n-th
 * occurrence of a key with the n-th; a series by its last point; answers are not compared) and says
 * how each moved. Only the suites the new run ran are compared; the others are listed in `notRun`.
 * O(n).
 *
 * @example
 * ```ts
 * const c = compareMeasurements(readReport("before.json").measurements, report.measurements);
 * c.matched.filter((x) => x.verdict === "slower").length;
 * ```
 */
export function compareMeasurements(oldMeasurements: readonly Measurement[], newMeasurements: readonly Measurement[]): Comparison {
  const keyed = (list: readonly Measurement[]): [string, Measurement][] => {
    const seen = new Map<string, number>();
    return latestPoints(list)
      .filter((m) => m.metric !== ANSWER_METRIC)
      .map((m) => {
        const key = measurementKey(m);
        const n = seen.get(key) ?? 0;
        seen.set(key, n + 1);
        return [`${key}\u0000${n}`, m];
      });
  };
  const newSuites = new Set(newMeasurements.map((m) => m.suite));
  const oldByKey = new Map(keyed(oldMeasurements));
  const matched: ComparedMeasurement[] = [];
  const added: Measurement[] = [];
  for (const [key, now] of keyed(newMeasurements)) {
    const old = oldByKey.get(key);
    if (old === undefined) {
      added.push(now);
      continue;
    }
    oldByKey.delete(key);
    const changePct = old.value === 0 ? (now.value === 0 ? 0 : null) : ((now.value - old.value) / Math.abs(old.value)) * 100;
    matched.push({ old, new: now, changePct, verdict: verdict(old, now) });
  }
  const removed = [...oldByKey.values()].filter((m) => newSuites.has(m.suite));
  const notRun = [...new Set(oldMeasurements.map((m) => m.suite))].filter((s) => !newSuites.has(s));
  return { matched, added, removed, notRun };
}

/**
 * A change in percent with its sign: "+12.3%", "-4%", "0%"; "new" when the old value was 0.
 *
 * @example
 * ```ts
 * formatChange(12.345);   // "+12.3%"
 * ```
 */
export function formatChange(pct: number | null): string {
  if (pct === null) return "new";
  if (pct === 0) return "0%";
  const abs = Math.abs(pct);
  const text = formatNumber(abs, abs >= 100 ? 0 : abs >= 10 ? 1 : 2);
  return text === "0" ? "0%" : `${pct > 0 ? "+" : "-"}${text}%`;
}

const HEAD = ["system", "metric", "old", "new", "change", "spreads", "note"] as const;

/** "7.5%/283%": the old and new spreads of a timing; empty for other figures. */
function spreads(c: ComparedMeasurement): string {
  return c.old.spread === undefined || c.new.spread === undefined ? "" : `${formatSpread(c.old.spread)}/${formatSpread(c.new.spread)}`;
}

/** The verdict in a word (SLOWER/FASTER stand out; "noise" for a timing that moved within its spreads), then the ratio's move. */
function noteOf(c: ComparedMeasurement): string {
  const word = { slower: "SLOWER", faster: "FASTER", "within spread": "noise", changed: "changed", same: "" }[c.verdict];
  const ratio = c.old.ratio !== undefined && c.new.ratio !== undefined && c.old.ratioTo === c.new.ratioTo && c.old.system !== c.old.ratioTo ? `ratio ${formatRatio(c.old.ratio)}->${formatRatio(c.new.ratio)}` : "";
  return [word, ratio].filter((p) => p !== "").join("; ");
}

/**
 * Column widths within `width`: the figures keep theirs; when the rest does not fit, the note gives
 * way first (down to 14), then the system and metric down to their longest words, then anything.
 */
function compareWidths(natural: readonly number[], words: readonly number[], width: number): number[] {
  return fitColumns(natural, width, [
    [6, Math.min(natural[6]!, 14)],
    [0, words[0]!],
    [1, words[1]!],
    [6, 6],
    [5, words[5]!],
    [0, 6],
    [1, 6],
  ]);
}

function describe(m: Measurement): string {
  return `${m.suite} » ${m.workload} » ${m.system} » ${m.metric}: ${formatValue(m.value, m.unit)}`;
}

/**
 * The comparison as text at most `width` columns wide (default {@link TABLE_WIDTH}): a summary line, then per suite a
 * table (workload heading rows; system, metric, old, new, change, spreads, note), then the added
 * and removed measurements. Timings that moved beyond both runs' spreads say SLOWER or FASTER in the
 * note, those that moved within them "noise"; deterministic figures that differ say "changed"; a
 * timing with a floor also shows how its ratio to the floor moved.
 *
 * @example
 * ```ts
 * console.log(renderComparison(compareMeasurements(old.measurements, report.measurements), "before.json", old, report));
 * ```
 */
export function renderComparison(c: Comparison, oldName: string, old: Pick<BenchReport, "date" | "seed" | "quick" | "node">, now: Pick<BenchReport, "seed" | "quick" | "node">, width = TABLE_WIDTH): string {
  const count = (v: Verdict) => c.matched.filter((x) => x.verdict === v).length;
  const out: string[] = [];
  out.push(
    ...wrap(
      `compared with ${oldName} (${old.date}): ${c.matched.length} matched; ${count("slower")} slower and ${count("faster")} faster beyond their spreads, ${count("within spread")} within them; ${count("changed")} other figures changed; ${c.added.length} added, ${c.removed.length} removed`,
      width,
    ),
  );
  const differences: string[] = [];
  if (old.seed !== now.seed) differences.push(`seed 0x${old.seed.toString(16)} then, 0x${now.seed.toString(16)} now`);
  if (old.quick !== now.quick) differences.push(`${old.quick ? "quick" : "full"} run then, ${now.quick ? "quick" : "full"} now`);
  if (old.node !== now.node) differences.push(`node ${old.node} then, ${now.node} now`);
  if (differences.length > 0) out.push(...wrap(`caution: ${differences.join("; ")}: counts differ for that reason alone`, width));
  if (c.notRun.length > 0) out.push(...wrap(`not compared (not run this time): ${c.notRun.join(", ")}`, width));
  const suites = [...new Set(c.matched.map((x) => x.new.suite))];
  for (const suite of suites) {
    const rows = c.matched.filter((x) => x.new.suite === suite);
    const cells = (x: ComparedMeasurement): string[] => [x.new.system, x.new.metric, formatValue(x.old.value, x.old.unit), formatValue(x.new.value, x.new.unit), formatChange(x.changePct), spreads(x), noteOf(x)];
    const all = rows.map(cells);
    const widths = compareWidths(HEAD.map((h, i) => Math.max(h.length, ...all.map((r) => r[i]!.length)) + 2), HEAD.map((h, i) => longestWord([h, ...all.map((r) => r[i]!)])), width);
    const inner = widths.reduce((a, b) => a + b, widths.length - 1);
    const table = new Table({ head: [...HEAD], colWidths: widths, style: { head: [], border: [], compact: true, "padding-left": 1, "padding-right": 1 } });
    let workload: string | undefined;
    for (const x of rows) {
      if (x.new.workload !== workload) {
        workload = x.new.workload;
        table.push([{ colSpan: HEAD.length, content: wrap(`» ${workload}`, inner - 2).join("\n") }]);
      }
      table.push(cells(x).map((cell, i) => wrap(cell, widths[i]! - 2).join("\n")));
    }
    out.push("", `${suite}:`, table.toString());
  }
  for (const [title, mark, list] of [
    ["added (not in the old run)", "+", c.added],
    ["removed (in the old run only)", "-", c.removed],
  ] as const) {
    if (list.length === 0) continue;
    out.push("", `${title}:`);
    for (const m of list) out.push(...wrap(describe(m), width - 4).map((l, i) => `${i === 0 ? `  ${mark} ` : "    "}${l}`));
  }
  return out.join("\n");
}

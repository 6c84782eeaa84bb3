import { describe, expect, test } from "vitest";
import type { SuiteResult } from "../src/harness/runner.js";
import type { Measurement } from "../src/harness/types.js";
import { formatNumber, formatRatio, formatSpread, formatValue } from "../src/report/format.js";
import { readFileSync } from "node:fs";
import { REPORT_SCHEMA, REPORT_SCHEMA_FILE, REPORT_VERSION, buildReport, validateReport, type RunMetadata } from "../src/report/json.js";
import { MIN_TABLE_WIDTH, TABLE_WIDTH, columnWidths, fitColumns, longestWord, outputWidth, renderTable, wrap } from "../src/report/table.js";

const metadata: RunMetadata = { date: "2026-01-02T03:04:05.000Z", node: "v20.0.0", v8: "11", platform: "linux", arch: "x64", cpuModel: "cpu", cpuCount: 2, argv: ["--quick"], quick: true, seed: 1 };
const m = (over: Partial<Measurement> = {}): Measurement => ({ suite: "s", system: "sys", workload: "w", metric: "ns/op", value: 12.345, unit: "ns", ...over });
const result = (measurements: Measurement[]): SuiteResult => ({ name: "s", description: "d", seconds: 1.5, measurements, log: ["a line"] });

describe("format", () => {
  test("values in their units", () => {
    expect(formatValue(3.271, "ns")).toBe("3.27 ns");
    expect(formatValue(12.345, "ns")).toBe("12.3 ns");
    expect(formatValue(200, "ns")).toBe("200 ns");
    expect(formatValue(1323, "ns")).toBe("1.32 µs");
    expect(formatValue(15_800, "ns")).toBe("15.8 µs");
    expect(formatValue(2_500_000, "ns")).toBe("2.5 ms");
    expect(formatValue(2 * 1024 * 1024, "bytes")).toBe("2 MiB");
    expect(formatValue(3_934_008, "count")).toBe("3,934,008");
    expect(formatValue(0.78, "count")).toBe("0.78");
    expect(formatValue(67.0625, "lines")).toBe("67.1 lines");
    expect(formatValue(3, "lines")).toBe("3 lines");
    expect(formatValue(12.5, "%")).toBe("12.5%");
    expect(formatNumber(1000)).toBe("1,000");
    expect(formatNumber(100)).toBe("100");
    expect(formatRatio(undefined)).toBe("");
    expect(formatRatio(1)).toBe("1x");
    expect(formatRatio(72.2222)).toBe("72.2x");
    expect(formatRatio(3581.2)).toBe("3,581x");
    expect(formatSpread(0.0412)).toBe("4.1%");
    expect(formatSpread(1.43)).toBe("143%");
    expect(formatSpread(188.24)).toBe(">999%");
  });
});

describe("table", () => {
  test(`is at most ${TABLE_WIDTH} columns even with long cells, and wraps them`, () => {
    const long = "a rather long description of what was measured and why it matters";
    const table = renderTable(result([m({ system: long, note: long, metric: "lines/ro change (splitting)" }), m({ workload: long, ratio: 2, ratioTo: "sys", spread: 0.1 })]));
    const lines = table.split("\n");
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(TABLE_WIDTH);
    expect(table).toContain("» w");
    expect(table).toContain("12.3 ns");
    expect(table).toContain("2x");
    expect(table).toContain("10%");
    expect(table).not.toMatch(/\u001b\[/); // no colours
  });

  test("a short table keeps natural widths", () => {
    const table = renderTable(result([m()]));
    expect(table.split("\n")[0]!.length).toBeLessThan(TABLE_WIDTH);
    expect(table.split("\n")[1]).toMatch(/│ system +│ metric +│ median +│ spread │ ratio │$/); // no notes: no note column
    expect(renderTable(result([m({ note: "n" })])).split("\n")[1]).toMatch(/│ system +│ metric +│ median +│ spread │ ratio │ note │$/);
  });

  test("columnWidths: the note gives way first, then system and metric down to their longest words", () => {
    expect(columnWidths([10, 10, 10, 8, 7, 10])).toEqual([10, 10, 10, 8, 7, 10]);
    // 100 - 7 borders - 10 - 8 - 7 = 68 for system, metric and note.
    expect(columnWidths([25, 22, 10, 8, 7, 60], [12, 10, 10, 8, 7, 12])).toEqual([25, 22, 10, 8, 7, 21]);
    // The note stops at 16, the system at its longest word (12), the metric gives the last 4.
    expect(columnWidths([60, 40, 10, 8, 7, 60], [12, 10, 10, 8, 7, 12])).toEqual([12, 40, 10, 8, 7, 16]);
    expect(columnWidths([30, 30, 10, 8, 7, 60], [12, 14, 10, 8, 7, 12], 80)).toEqual([12, 20, 10, 8, 7, 16]);
    // At 200 nothing is squeezed.
    expect(columnWidths([30, 30, 10, 8, 7, 90], [12, 14, 10, 8, 7, 12], 200)).toEqual([30, 30, 10, 8, 7, 90]);
    // Without a note column (5 widths).
    expect(columnWidths([60, 40, 10, 8, 7], [12, 10, 10, 8, 7], 80)).toEqual([12, 37, 10, 8, 7]);
    for (const w of [columnWidths([25, 22, 10, 8, 7, 60]), columnWidths([60, 40, 12, 8, 9, 60])]) {
      expect(w.reduce((a, b) => a + b, w.length + 1)).toBeLessThanOrEqual(TABLE_WIDTH);
    }
    expect(fitColumns([30, 30], 43, [[1, 10], [0, 10]])).toEqual([30, 10]);
    expect(fitColumns([30, 30], 23, [[-1, 0], [1, 10], [0, 10]])).toEqual([10, 10]);
    expect(longestWord(["lines/op allocator", "ns/op"])).toBe(11);
  });

  test("outputWidth: COLUMNS, else the terminal's width, else 100; never below 60", () => {
    expect(outputWidth({ COLUMNS: "80" }, { isTTY: true, columns: 120 })).toBe(80);
    expect(outputWidth({ COLUMNS: " 200 " }, {})).toBe(200);
    expect(outputWidth({}, { isTTY: true, columns: 132 })).toBe(132);
    expect(outputWidth({}, { isTTY: false, columns: 132 })).toBe(TABLE_WIDTH);
    expect(outputWidth({ COLUMNS: "wide" }, {})).toBe(TABLE_WIDTH);
    expect(outputWidth({ COLUMNS: "" }, {})).toBe(TABLE_WIDTH);
    expect(outputWidth({ COLUMNS: "20" }, {})).toBe(MIN_TABLE_WIDTH);
  });

  const wide = [
    m({ system: "Int32Array stack", workload: "churn", note: "alloc+free through the system's face (allocator + descriptor table)" }),
    m({ system: "classic", workload: "churn", note: "alloc+free through the system's face (allocator + descriptor table)" }),
    m({ system: "classic", workload: "probe", metric: "lines/op descriptors", value: 4.25, unit: "lines", note: "probe, 200 frees + allocs after 4000 uncounted; worst op 12" }),
    m({ system: "DirectMap (collapse)", workload: "probe", metric: "unusable free (order 9)", value: 14.9, unit: "%", note: "" }),
  ];

  test("a note every row of a workload shares is printed once, in its heading", () => {
    const table = renderTable(result(wide), 200);
    expect(table).toContain("» churn: alloc+free through the system's face (allocator + descriptor table)");
    expect(table.split("alloc+free through").length - 1).toBe(1);
    expect(table).toMatch(/│ probe, 200 frees \+ allocs after 4000 uncounted; worst op 12 +│/);
    // No notes left at all: no note column.
    const noNotes = renderTable(result([m({ note: "same" }), m({ system: "other", note: "same" })]));
    expect(noNotes.split("\n")[1]).toMatch(/│ system +│ metric +│ median +│ spread +│ ratio +│$/);
    expect(noNotes).toContain("» w: same");
  });

  test("at 80 columns no line is longer than 80 and no metric name breaks inside a word; at 200 the notes are not wrapped", () => {
    for (const width of [80, MIN_TABLE_WIDTH, 100]) {
      const lines = renderTable(result(wide), width).split("\n");
      for (const line of lines) expect([...line].length).toBeLessThanOrEqual(width);
      for (const word of ["descriptors", "lines/op", "unusable", "(order", "9)"]) expect(lines.some((l) => l.includes(`│ ${word}`) || l.includes(` ${word} `) || l.includes(` ${word}`))).toBe(true);
      const metricCells = lines.filter((l) => l.startsWith("│ ") && l.split("│").length > 6).map((l) => l.split("│")[2]!.trim());
      for (const cell of metricCells) for (const word of cell.split(" ").filter((w) => w !== "")) expect(["lines/op", "descriptors", "unusable", "free", "(order", "9)", "ns/op", "metric"]).toContain(word);
    }
    // Too narrow for a 16-column note beside whole words: notes go under their rows.
    const narrow = renderTable(result(wide), 60).split("\n");
    expect(narrow).toContain(`│   probe, 200 frees + allocs after 4000 uncounted; worst  │`);
    expect(narrow).toContain(`│   op 12${" ".repeat(50)}│`);
    expect(narrow[1]).toMatch(/│ ratio +│$/);
    const at200 = renderTable(result(wide), 200);
    expect(at200).toContain("│ probe, 200 frees + allocs after 4000 uncounted; worst op 12 │");
    expect(at200.split("\n")[0]!.length).toBeLessThan(200); // natural widths: no answer row stretches it
  });

  test("wrap cuts at spaces, and inside a word only when it must", () => {
    expect(wrap("one two three", 7)).toEqual(["one two", "three"]);
    expect(wrap("abcdefghij", 4)).toEqual(["abcd", "efgh", "ij"]);
  });
});

describe("JSON report", () => {
  test("holds the metadata, the suites and every measurement", () => {
    const report = buildReport(metadata, [result([m(), m({ metric: "lines/op", value: 3, unit: "lines" })])]);
    expect(report.schema).toBe(REPORT_SCHEMA);
    expect(report.version).toBe(REPORT_VERSION);
    expect(report.seed).toBe(1);
    expect(report.suites).toEqual([{ name: "s", description: "d", seconds: 1.5, log: ["a line"] }]);
    expect(report.measurements).toHaveLength(2);
    expect(validateReport(JSON.parse(JSON.stringify(report)))).toEqual([]);
  });

  test("the JSON Schema beside the bench names every field a report has, and the README documents each", () => {
    const schema = JSON.parse(readFileSync(REPORT_SCHEMA_FILE, "utf8"));
    expect(REPORT_SCHEMA_FILE.endsWith("/apps/bench/report.schema.json")).toBe(true);
    expect(schema.properties.schema.const).toBe(REPORT_SCHEMA);
    expect(schema.properties.version.const).toBe(REPORT_VERSION);
    const full = buildReport(metadata, [{ ...result([m({ spread: 0.1, ratio: 2, ratioTo: "f", note: "n", at: 3, alone: 12 })]), error: "boom" }]);
    expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(full).sort());
    expect(Object.keys(schema.$defs.measurement.properties).sort()).toEqual(Object.keys(full.measurements[0]!).sort());
    expect(Object.keys(schema.$defs.suite.properties).sort()).toEqual(Object.keys(full.suites[0]!).sort());
    expect(validateReport(JSON.parse(JSON.stringify(full)))).toEqual([]);
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    for (const key of [...Object.keys(schema.properties), ...Object.keys(schema.$defs.measurement.properties)]) expect(readme, key).toContain(`| \`${key}\` |`);
    expect(readme).toContain("[`report.schema.json`](report.schema.json)");
  });

  test("the validator names each broken field", () => {
    const good = JSON.parse(JSON.stringify(buildReport(metadata, [result([m()])])));
    const broken = (patch: (r: Record<string, any>) => void) => {
      const copy = JSON.parse(JSON.stringify(good));
      patch(copy);
      return validateReport(copy);
    };
    expect(validateReport(null)).toEqual(["report is not an object"]);
    expect(broken((r) => (r.version = 2))).toEqual(["version must be 1, got 2"]);
    expect(broken((r) => (r.seed = -1))).toEqual(["seed must be >= 0, got -1"]);
    expect(broken((r) => (r.seed = 2 ** 32))).toEqual(["seed must be <= 4294967295, got 4294967296"]);
    expect(broken((r) => (r.measurements[0].value = null))).toEqual(["measurements[0].value must be number, got null"]);
    expect(broken((r) => (r.measurements[0].ratio = 2))).toEqual(["measurements[0]: ratio and ratioTo come together"]);
    expect(broken((r) => (r.measurements[0].extra = 1))).toEqual(['measurements[0] has an unknown field "extra"']);
    expect(broken((r) => (r.measurements[0].suite = "other"))).toEqual(['measurements[0].suite "other" is not in suites']);
    expect(broken((r) => (r.suites[0].log = [1]))).toEqual(["suites[0].log[0] must be string, got 1"]);
    expect(broken((r) => (r.date = "yesterday"))).toEqual(['date "yesterday" is not an ISO 8601 time']);
    expect(broken((r) => delete r.node)).toEqual(["node is missing"]);
    expect(broken((r) => delete r.measurements[0].unit)).toEqual(["measurements[0].unit is missing"]);
    // Every problem, not just the first.
    expect(broken((r) => ((r.quick = "yes"), (r.measurements[0].metric = "")))).toEqual(['quick must be boolean, got "yes"', "measurements[0].metric must NOT have fewer than 1 characters"]);
  });
});

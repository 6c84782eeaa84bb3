import { describe, expect, test } from "vitest";
import type { SuiteResult } from "../../src/harness/runner.js";
import type { Measurement } from "../../src/harness/types.js";
import { buildReport, validateReport, type RunMetadata } from "../../src/report/json.js";
import { latestPoints, measurementKey, seriesCounts, seriesOf } from "../../src/report/series.js";
import { TABLE_WIDTH, renderTable, tableRows } from "../../src/report/table.js";

const m = (over: Partial<Measurement> = {}): Measurement => ({ suite: "s", system: "classic", workload: "replay", metric: "extfrag", value: 0, unit: "x1000", ...over });
const metadata: RunMetadata = { date: "2026-01-02T03:04:05.000Z", node: "v20.0.0", v8: "11", platform: "linux", arch: "x64", cpuModel: "cpu", cpuCount: 2, argv: [], quick: true, seed: 1 };
const result = (measurements: Measurement[]): SuiteResult => ({ name: "s", description: "d", seconds: 1, measurements, log: [] });

describe("series", () => {
  const points = [
    m({ at: 0, value: 10 }),
    m({ metric: "ns/op", value: 5, unit: "ns" }),
    m({ system: "memdesc", at: 0, value: 1 }),
    m({ at: 2000, value: 30 }),
    m({ at: 1000, value: 20 }),
    m({ system: "memdesc", at: 2000, value: 3 }),
    m({ system: "memdesc", at: 2000, value: 4 }),
  ];

  test("measurementKey joins suite, system, workload and metric", () => {
    expect(measurementKey(m())).toBe("s\u0000classic\u0000replay\u0000extfrag");
  });

  test("seriesOf groups the points that carry `at` and sorts each by `at` (stably)", () => {
    const series = seriesOf(points);
    expect(series.map((s) => [s.system, s.points.map((p) => `${p.at}:${p.value}`)])).toEqual([
      ["classic", ["0:10", "1000:20", "2000:30"]],
      ["memdesc", ["0:1", "2000:3", "2000:4"]],
    ]);
    expect([...seriesCounts(points).values()]).toEqual([3, 3]);
  });

  test("latestPoints keeps the greatest `at` (the last recorded among equals) where the series began", () => {
    expect(latestPoints(points).map((p) => `${p.system} ${p.metric} ${p.value}`)).toEqual(["classic extfrag 30", "classic ns/op 5", "memdesc extfrag 4"]);
    expect(latestPoints([m()])).toEqual([m()]);
  });

  test("the table shows the last point of a series, saying so, and only that", () => {
    const table = renderTable(result(points));
    expect(table).toContain("last of 3 points, at 2,000");
    expect(table).toMatch(/│ classic +│ extfrag +│ 30 x1000 /);
    expect(table).toMatch(/│ memdesc +│ extfrag +│ 4 x1000 /);
    expect(table).not.toMatch(/│ 10 x1000|│ 20 x1000|│ 3 x1000/);
    expect(table.split("\n").filter((l) => l.includes("extfrag"))).toHaveLength(2);
    const rows = tableRows([m({ at: 5, note: "after the replay" })]).get("replay")!;
    expect(rows.map((r) => r.cells)).toEqual([["classic", "extfrag", "0 x1000", "", "", "after the replay; last of 1 points, at 5"]]);
  });

  test("an answer is a row across a table of the full 100 columns, wrapped within it", () => {
    const answer = m({ suite: "s", system: "classic vs memdesc", workload: "the answers", metric: "answer", value: 1.38, unit: "ratio", note: "1. What does the memdesc design cost in CPU per operation, and what does it save in memory? memdesc takes 1.38x the time of classic per op and keeps 8 B of metadata per page instead of 64 B." });
    const table = renderTable(result([m({ metric: "ns/op", value: 5, unit: "ns", workload: "churn" }), answer]));
    const lines = table.split("\n");
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(TABLE_WIDTH);
    expect(lines[0]!.length).toBe(TABLE_WIDTH); // the answer stretches the table to the full width...
    expect(table).toContain("│ 1. What does the memdesc design cost in CPU per operation, and what does it save in memory?"); // ...and spans its columns
    expect(table).not.toContain("│ answer");
    expect(tableRows([answer]).get("the answers")![0]!.answer).toBe(true);
    const twoLines = renderTable(result([{ ...answer, note: "Is it fast enough?\nYes." }])).split("\n");
    expect(twoLines.slice(3, 6)).toEqual([`│ » the answers${" ".repeat(84)}│`, `│ Is it fast enough?${" ".repeat(79)}│`, `│ Yes.${" ".repeat(93)}│`]);
    expect(tableRows([{ ...answer, note: undefined }]).get("the answers")![0]!.answer).toBe(false);
  });

  test("the JSON validator accepts `at` and names a bad one", () => {
    const report = JSON.parse(JSON.stringify(buildReport(metadata, [result(points)])));
    expect(validateReport(report)).toEqual([]);
    report.measurements[0].at = "10";
    expect(validateReport(report)).toEqual(['measurements[0].at must be number, got "10"']);
  });
});

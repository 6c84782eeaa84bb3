import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { ExitCode, main } from "../../src/command.js";
import { silentProgress } from "../../src/harness/progress.js";
import { chartSpecs } from "../../src/report/charts.js";
import { validateReport, type BenchReport } from "../../src/report/json.js";
import { TABLE_WIDTH } from "../../src/report/table.js";

const tmp = mkdtempSync(join(tmpdir(), "mmkit-cli-reports-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function run(...args: string[]) {
  let out = "";
  let err = "";
  const code = await main(args, { out: (t) => (out += t), err: (t) => (err += t), progress: silentProgress });
  return { code, out, err };
}

describe("--html and --compare", () => {
  test("--html writes the page beside --json; --compare against it matches every figure and flags none that is exact", async () => {
    const json = join(tmp, "first.json");
    const html = join(tmp, "first.html");
    const first = await run("--suite", "direct-map", "--quick", "--json", json, "--html", html);
    expect(first.err).toBe("");
    expect(first.code).toBe(ExitCode.Ok);
    expect(first.out).toContain(`\nwrote ${json}\nwrote ${html}\n`);
    const report = JSON.parse(readFileSync(json, "utf8")) as BenchReport;
    expect(validateReport(report)).toEqual([]);
    const page = readFileSync(html, "utf8");
    expect([...page.matchAll(/<canvas id="chart-\d+"/g)]).toHaveLength(chartSpecs(report.measurements).length);

    const second = await run("--suite", "direct-map", "--quick", "--compare", json);
    expect(second.err).toBe("");
    expect(second.code).toBe(ExitCode.Ok);
    const comparison = second.out.slice(second.out.indexOf("compared with "));
    const timed = report.measurements.filter((m) => m.metric === "ns/op").length;
    expect(comparison).toMatch(new RegExp(`^compared with ${json.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(${report.date}\\): ${report.measurements.length} matched;`));
    expect(comparison).toMatch(/0 other figures changed; 0 added, 0 removed\n/); // same seed: every count, line and byte is identical
    expect(comparison).not.toContain("caution:");
    expect(comparison).toContain("\ndirect-map:\n┌");
    // every exact figure is unchanged: its row ends in "0%", an empty spreads cell and an empty note
    const unchanged = comparison.split("\n").filter((l) => /│ 0% +│ +│ +│$/.test(l));
    expect(unchanged).toHaveLength(report.measurements.length - timed);
    for (const line of second.out.split("\n")) expect(line.length).toBeLessThanOrEqual(TABLE_WIDTH);
  });

  test("--compare with a file that is missing or not a report: exit 2 before running anything, naming the file", async () => {
    const missing = await run("--suite", "direct-map", "--quick", "--compare", join(tmp, "nope.json"));
    expect(missing.code).toBe(ExitCode.Usage);
    expect(missing.out).toBe("");
    expect(missing.err).toMatch(new RegExp(`^error: --compare: cannot read ${join(tmp, "nope.json")}: ENOENT`));
    const bad = join(tmp, "bad.json");
    writeFileSync(bad, JSON.stringify({ schema: "something else" }));
    const invalid = await run("--suite", "direct-map", "--compare", bad);
    expect(invalid.code).toBe(ExitCode.Usage);
    expect(invalid.err).toMatch(new RegExp(`^error: --compare: ${bad} is not an mmkit bench report: schema must be "mmkit-bench-report", got "something else"; version is missing; date is missing`));
  });

  test("--help documents both flags", async () => {
    const { out } = await run("--help");
    expect(out).toContain("--html <file>");
    expect(out).toContain("--compare <old.json>");
  });

  test("the README documents --html, --compare and the `at` field", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    for (const text of ["`--html <file>`", "`--compare <old.json>`", "| `at`", "### The HTML report", "### Comparing runs"]) expect(readme).toContain(text);
  });
});

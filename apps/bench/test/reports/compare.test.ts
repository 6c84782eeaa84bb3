import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import type { Measurement } from "../../src/harness/types.js";
import { compareMeasurements, formatChange, readReport, renderComparison, verdict } from "../../src/report/compare.js";
import { buildReport, type RunMetadata } from "../../src/report/json.js";
import { TABLE_WIDTH } from "../../src/report/table.js";

const tmp = mkdtempSync(join(tmpdir(), "mmkit-compare-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const m = (over: Partial<Measurement> = {}): Measurement => ({ suite: "s", system: "a", workload: "w", metric: "lines/op", value: 4, unit: "lines", ...over });
const t = (value: number, spread: number, over: Partial<Measurement> = {}): Measurement => m({ metric: "ns/op", unit: "ns", value, spread, ...over });
const metadata: RunMetadata = { date: "2026-01-02T03:04:05.000Z", node: "v20.0.0", v8: "11", platform: "linux", arch: "x64", cpuModel: "cpu", cpuCount: 2, argv: [], quick: true, seed: 1 };

describe("verdict", () => {
  test("a timing is slower or faster only when the ranges median x (1 +- spread/2) do not overlap", () => {
    expect(verdict(t(10, 0.1), t(12, 0.1))).toBe("slower"); // 9.5..10.5 vs 11.4..12.6
    expect(verdict(t(12, 0.1), t(10, 0.1))).toBe("faster");
    expect(verdict(t(10, 0.2), t(11, 0.2))).toBe("within spread"); // 9..11 vs 9.9..12.1
    expect(verdict(t(10, 0), t(10.5, 0))).toBe("slower");
    expect(verdict(t(10, 0.1), t(10, 0.5))).toBe("same");
    expect(verdict(m({ metric: "ns/op", unit: "ns", value: 10 }), t(20, 0.1))).toBe("changed"); // no spread: exact figure
  });

  test("any other figure is exact for a seed: any difference is a change", () => {
    expect(verdict(m({ value: 4 }), m({ value: 4.5 }))).toBe("changed");
    expect(verdict(m({ value: 4 }), m({ value: 4 }))).toBe("same");
  });
});

describe("compareMeasurements", () => {
  test("matches on suite/system/workload/metric, in the new run's order; lists added, removed and suites not run", () => {
    const old = [t(10, 0.1), m({ value: 4 }), m({ system: "gone", value: 1 }), m({ suite: "other", value: 1 }), m({ metric: "2M splits", unit: "count", value: 0 })];
    const now = [m({ value: 5 }), t(13, 0.1), m({ system: "new", value: 2 }), m({ metric: "2M splits", unit: "count", value: 3 })];
    const c = compareMeasurements(old, now);
    expect(c.matched.map((x) => [x.new.metric, x.old.value, x.new.value, x.changePct, x.verdict])).toEqual([
      ["lines/op", 4, 5, 25, "changed"],
      ["ns/op", 10, 13, 30, "slower"],
      ["2M splits", 0, 3, null, "changed"],
    ]);
    expect(c.added.map((x) => x.system)).toEqual(["new"]);
    expect(c.removed.map((x) => x.system)).toEqual(["gone"]);
    expect(c.notRun).toEqual(["other"]);
  });

  test("a repeated key matches occurrence by occurrence; a series by its last point; answers are not compared", () => {
    const old = [m({ value: 1 }), m({ value: 2 }), m({ metric: "extfrag", unit: "x1000", at: 0, value: 0 }), m({ metric: "extfrag", unit: "x1000", at: 9, value: 90 }), m({ metric: "answer", unit: "ratio", value: 1, note: "Q? A." })];
    const now = [m({ value: 1 }), m({ value: 3 }), m({ metric: "extfrag", unit: "x1000", at: 0, value: 0 }), m({ metric: "extfrag", unit: "x1000", at: 9, value: 99 }), m({ metric: "answer", unit: "ratio", value: 2, note: "Q? B." })];
    const c = compareMeasurements(old, now);
    expect(c.matched.map((x) => `${x.new.metric} ${x.old.value}->${x.new.value} ${x.verdict}`)).toEqual(["lines/op 1->1 same", "lines/op 2->3 changed", "extfrag 90->99 changed"]);
    expect([c.added, c.removed, c.notRun]).toEqual([[], [], []]);
  });

  test("formatChange: signed, three significant figures, 'new' from zero", () => {
    expect([formatChange(25), formatChange(-3.3149), formatChange(763.4), formatChange(0), formatChange(0.0001), formatChange(null)]).toEqual(["+25%", "-3.31%", "+763%", "0%", "0%", "new"]);
  });
});

describe("renderComparison", () => {
  test("a summary, a table per suite within 100 columns, SLOWER/FASTER beyond the spreads, then added and removed", () => {
    const old = buildReport(metadata, [{ name: "s", description: "d", seconds: 1, log: [], measurements: [t(2, 0.05, { system: "floor", ratio: 1, ratioTo: "floor" }), t(10, 0.1, { ratio: 5, ratioTo: "floor" }), t(50, 0.1, { system: "b", ratio: 25, ratioTo: "floor" }), m({ system: "gone" })] }]);
    const now = buildReport({ ...metadata, seed: 2 }, [{ name: "s", description: "d", seconds: 1, log: [], measurements: [t(2, 0.05, { system: "floor", ratio: 1, ratioTo: "floor" }), t(13, 0.1, { ratio: 6.5, ratioTo: "floor" }), t(40, 0.5, { system: "b", ratio: 20, ratioTo: "floor" }), m({ value: 3 })] }]);
    const text = renderComparison(compareMeasurements(old.measurements, now.measurements), "old.json", old, now);
    for (const line of text.split("\n")) expect(line.length).toBeLessThanOrEqual(TABLE_WIDTH);
    expect(text).toBe(
      [
        "compared with old.json (2026-01-02T03:04:05.000Z): 3 matched; 1 slower and 0 faster beyond their",
        "spreads, 1 within them; 0 other figures changed; 1 added, 1 removed",
        "caution: seed 0x1 then, 0x2 now: counts differ for that reason alone",
        "",
        "s:",
        "┌────────┬────────┬───────┬───────┬────────┬─────────┬────────────────────────┐",
        "│ system │ metric │ old   │ new   │ change │ spreads │ note                   │",
        "├────────┴────────┴───────┴───────┴────────┴─────────┴────────────────────────┤",
        "│ » w                                                                         │",
        "│ floor  │ ns/op  │ 2 ns  │ 2 ns  │ 0%     │ 5%/5%   │                        │",
        "│ a      │ ns/op  │ 10 ns │ 13 ns │ +30%   │ 10%/10% │ SLOWER; ratio 5x->6.5x │",
        "│ b      │ ns/op  │ 50 ns │ 40 ns │ -20%   │ 10%/50% │ noise; ratio 25x->20x  │",
        "└────────┴────────┴───────┴───────┴────────┴─────────┴────────────────────────┘",
        "",
        "added (not in the old run):",
        "  + s » w » a » lines/op: 3 lines",
        "",
        "removed (in the old run only):",
        "  - s » w » gone » lines/op: 4 lines",
      ].join("\n"),
    );
  });
});

describe("readReport", () => {
  test("names the file and what is wrong with it", () => {
    const good = join(tmp, "good.json");
    writeFileSync(good, JSON.stringify(buildReport(metadata, [])));
    expect(readReport(good).seed).toBe(1);
    expect(() => readReport(join(tmp, "missing.json"))).toThrow(new RegExp(`^cannot read ${join(tmp, "missing.json")}: ENOENT`));
    const text = join(tmp, "text.json");
    writeFileSync(text, "not json");
    expect(() => readReport(text)).toThrow(new RegExp(`^${text} is not JSON: `));
    const other = join(tmp, "other.json");
    writeFileSync(other, JSON.stringify({ ...buildReport(metadata, []), version: 2 }));
    expect(() => readReport(other)).toThrow(`${other} is not an mmkit bench report: version must be 1, got 2`);
  });
});

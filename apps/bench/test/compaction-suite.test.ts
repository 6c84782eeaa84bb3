import { describe, expect, test } from "vitest";
import { silentProgress } from "../src/harness/progress.js";
import { runSuite } from "../src/harness/runner.js";
import type { Measurement } from "../src/harness/types.js";
import { chartSpecs } from "../src/report/charts.js";
import { buildReport, validateReport } from "../src/report/json.js";
import suite, { compactionProfile, PROACTIVENESS } from "../src/suites/compaction.js";
import { DEFAULT_SEED } from "../src/workloads/random.js";

// A quick run of the compaction suite on the default seed: every figure is a count, so exact.
describe("the compaction suite (quick)", async () => {
  const result = await runSuite(suite, { quick: true, seed: DEFAULT_SEED, progress: silentProgress });
  const ms = result.measurements;
  const one = (system: string, metric: string): Measurement => {
    const found = ms.filter((m) => m.system === system && m.metric === metric && m.at === undefined);
    expect(found, `${system} / ${metric}`).toHaveLength(1);
    return found[0]!;
  };

  test("runs by default without failing, and its report validates against the JSON Schema", () => {
    expect(suite.default).toBe(true);
    expect(result.error).toBeUndefined();
    const report = buildReport({ date: "2026-01-02T03:04:05.000Z", node: "v20", v8: "11", platform: "linux", arch: "x64", cpuModel: "cpu", cpuCount: 2, argv: ["--quick"], quick: true, seed: DEFAULT_SEED }, [result]);
    expect(validateReport(JSON.parse(JSON.stringify(report)))).toEqual([]);
  });

  test("order-9 on a fragmented machine: none without compaction, most with it, with pages scanned and migrated per success", () => {
    expect([one("buddy, no compaction", "success").value, one("buddy, no compaction", "success").note]).toEqual([0, "0/24 order-9 blocks"]);
    expect(one("buddy, no compaction", "compact_stall").value).toBe(0);
    expect(ms.some((m) => m.system === "buddy, no compaction" && m.metric.endsWith("/success"))).toBe(false);
    const success = one("buddy, direct compaction", "success");
    expect(success.note).toBe(HIGH_ORDER.note);
    expect(one("buddy, direct compaction", "compact_stall").value).toBe(24);
    expect(one("buddy, direct compaction", "compact_stall").note).toBe(HIGH_ORDER.stall);
    expect(one("buddy, direct compaction", "pages migrated/success").value).toBe(HIGH_ORDER.migrated);
    expect(one("buddy, direct compaction", "pages scanned/success").value).toBe(HIGH_ORDER.scanned);
  });

  test("the fragmentation score over time: one series per proactiveness, sampled every tick, drawn as one line chart", () => {
    const p = compactionProfile(true);
    const samples = p.steps / p.tickEvery + 1;
    const series = (proactiveness: number): Measurement[] => ms.filter((m) => m.system === `proactiveness ${proactiveness}` && m.metric === "fragmentation score" && m.at !== undefined);
    for (const proactiveness of PROACTIVENESS) {
      const s = series(proactiveness);
      expect(s.map((m) => m.at)).toEqual(Array.from({ length: samples }, (_, i) => i * p.tickEvery));
      for (const m of s) expect(m.unit).toBe("%");
      expect(one(`proactiveness ${proactiveness}`, "mean fragmentation score").value).toBe(s.reduce((a, m) => a + m.value, 0) / samples);
    }
    // The same allocations at every proactiveness; kcompactd never runs at 0, and runs more at 50 than at 20.
    expect(one("proactiveness 0", "proactive runs").value).toBe(0);
    expect(one("proactiveness 0", "pages migrated").value).toBe(0);
    expect(PROACTIVENESS.map((p) => one(`proactiveness ${p}`, "proactive runs").value)).toEqual(RUNS);
    expect(PROACTIVENESS.map((p) => one(`proactiveness ${p}`, "mean fragmentation score").value.toFixed(2))).toEqual(MEANS);
    const charts = chartSpecs(ms).filter((c) => c.kind === "line");
    expect(charts.map((c) => c.title)).toEqual([expect.stringContaining("fragmentation score")]);
    expect(charts[0]!.datasets.map((d) => d.label)).toEqual(PROACTIVENESS.map((p) => `proactiveness ${p}`));
  });
});

/** The default seed's quick figures (64 MiB; counts, identical run to run). */
const HIGH_ORDER = { note: "20/24 order-9 blocks", stall: "compact_success 20, compact_fail 4", migrated: 129.85, scanned: (129004 + 43448) / 20 };
const RUNS = [0, 3, 13];
const MEANS = ["83.86", "68.05", "58.00"];

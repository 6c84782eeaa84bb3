import { describe, expect, test } from "vitest";
import type { Measurement } from "../../src/harness/types.js";
import { MARKER_METRIC, chartSection, chartSpecs } from "../../src/report/charts.js";

const m = (over: Partial<Measurement>): Measurement => ({ suite: "replay", system: "classic", workload: "replay trace.txt.gz", metric: "live pages", value: 0, unit: "pages", ...over });

describe("trace markers on series charts", () => {
  const series: Measurement[] = [];
  for (let i = 0; i <= 10; i++) {
    series.push(m({ at: 3 + i * 0.3, value: 100 * i }));
    series.push(m({ system: "memdesc", at: 3 + i * 0.3, value: 90 * i }));
  }
  const markers = [m({ system: "trace", metric: MARKER_METRIC, value: 3.08, unit: "s", note: "PHASE small-procs" }), m({ system: "trace", metric: MARKER_METRIC, value: 5.54, unit: "s", note: "PHASE small-dd" })];

  test("a series over trace time carries the markers of its suite and workload, and the x axis says trace time", () => {
    const other = m({ workload: "replay other.txt", system: "trace", metric: MARKER_METRIC, value: 1, unit: "s", note: "elsewhere" });
    const specs = chartSpecs([...series, ...markers, other]);
    expect(specs.map((s) => `${s.section} ${s.title}`)).toEqual(["series replay: live pages during replay trace.txt.gz"]);
    expect(specs[0]!.markers).toEqual([
      { x: 3.08, label: "PHASE small-procs" },
      { x: 5.54, label: "PHASE small-dd" },
    ]);
    expect(specs[0]!.xTitle).toBe("trace time (s)");
  });

  test("markers are never charted themselves, and a series without markers keeps the generic axis", () => {
    expect(chartSection(markers[0]!)).toBeUndefined();
    const [spec] = chartSpecs(series);
    expect(spec!.markers).toBeUndefined();
    expect(spec!.xTitle).toBeUndefined();
  });
});

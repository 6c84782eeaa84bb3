import { describe, expect, test } from "vitest";
import type { Measurement } from "../../src/harness/types.js";
import { PALETTE_SIZE, chartSection, chartSpecs } from "../../src/report/charts.js";
import { formatValue } from "../../src/report/format.js";

const m = (over: Partial<Measurement> = {}): Measurement => ({ suite: "s", system: "a", workload: "w", metric: "ns/op", value: 10, unit: "ns", ...over });

describe("chartSection", () => {
  test("sorts measurements into the report's chart sections; the first rule wins", () => {
    const cases: [string, string, string | undefined][] = [
      ["ns/op", "ns", "time"],
      ["lines/alloc", "lines", "lines"],
      ["lines, worst", "lines", "lines"],
      ["2M splits", "count", "splits"],
      ["1G splits", "count", "splits"],
      ["splits/change", "count", undefined],
      ["unusable_free_index(9)", "x1000", "fragmentation"],
      ["fragmentation_index(9)", "x1000", "fragmentation"],
      ["largest free block", "bytes", "fragmentation"],
      ["metadata", "bytes", "metadata"],
      ["metadata/managed byte", "%", "metadata"],
      ["bytes/page", "bytes", "metadata"],
      ["descriptor", "bytes", "metadata"],
      ["answer", "ratio", undefined],
      ["served", "%", undefined],
    ];
    expect(cases.map(([metric, unit]) => chartSection({ metric, unit }))).toEqual(cases.map((c) => c[2]));
  });
});

describe("chartSpecs", () => {
  test("a bar chart per suite: workloads as categories, a dataset per system, null where a system has none", () => {
    const specs = chartSpecs([
      m({ system: "floor", value: 2, spread: 0.05, ratio: 1, ratioTo: "floor" }),
      m({ system: "buddy", value: 80, spread: 0.5, ratio: 40, ratioTo: "floor" }),
      m({ system: "floor", workload: "churn", value: 4, spread: 0.1, ratio: 1, ratioTo: "floor" }),
      m({ system: "potad", workload: "churn", value: 9, spread: 0.1, ratio: 2.25, ratioTo: "floor" }),
      m({ suite: "t", system: "potad", value: 3 }),
    ]);
    expect(specs).toHaveLength(2);
    expect(specs[0]).toEqual({
      id: "chart-0",
      section: "time",
      title: "s: ns/op",
      kind: "bar",
      unit: "ns",
      log: true, // 2..80 spans more than 20x
      min: 1,
      categories: [["w"], ["churn"]],
      datasets: [
        { label: "floor", values: [2, 4], points: [], tips: ["2 ns, spread 5%, 1x floor", "4 ns, spread 10%, 1x floor"], colour: 0 },
        { label: "buddy", values: [80, null], points: [], tips: ["80 ns, spread 50%, 40x floor", null], colour: 1 },
        { label: "potad", values: [null, 9], points: [], tips: [null, "9 ns, spread 10%, 2.25x floor"], colour: 2 },
      ],
      height: 100 + (10 + 32) + (10 + 32) + 18,
    });
    expect(specs[1]).toMatchObject({ id: "chart-1", title: "t: ns/op", log: false, categories: [["w"]], datasets: [{ label: "potad", values: [3], colour: 2 }] });
    expect(specs[1]!.min).toBeUndefined();
  });

  test("several metrics in one chart label their categories with the metric; long labels wrap at 30", () => {
    const [spec] = chartSpecs([
      m({ metric: "2M splits", unit: "count", value: 514, workload: "100k PTE allocs, fresh 2 GiB" }),
      m({ metric: "1G splits", unit: "count", value: 2, workload: "100k PTE allocs, fresh 2 GiB" }),
      m({ system: "b", metric: "2M splits", unit: "count", value: 8, workload: "100k PTE allocs, fresh 2 GiB" }),
    ]);
    expect(spec).toMatchObject({ section: "splits", title: "s: 2M splits, 1G splits", log: true, min: 1 });
    expect(spec!.categories).toEqual([
      ["100k PTE allocs, fresh 2 GiB ·", "2M splits"],
      ["100k PTE allocs, fresh 2 GiB ·", "1G splits"],
    ]);
    expect(spec!.datasets.map((d) => d.values)).toEqual([
      [514, 2],
      [8, null],
    ]);
  });

  test("the log axis starts a power of ten below the smallest value (so a bar of 1 has a length); zeros keep it linear", () => {
    expect(chartSpecs([m({ metric: "lines/op", unit: "lines", value: 1 }), m({ system: "b", metric: "lines/op", unit: "lines", value: 129 })])[0]).toMatchObject({ log: true, min: 0.1 });
    expect(chartSpecs([m({ value: 10 }), m({ system: "b", value: 1000 })])[0]).toMatchObject({ log: true, min: 1 });
    expect(chartSpecs([m({ value: 0 }), m({ system: "b", value: 1000 })])[0]).toMatchObject({ log: false });
  });

  test("a system keeps its colour across charts unless another system of the chart has it", () => {
    const systems = Array.from({ length: PALETTE_SIZE + 1 }, (_, i) => `sys${i}`);
    const specs = chartSpecs([...systems.map((system) => m({ system, suite: "all" })), m({ suite: "pair", system: "sys0" }), m({ suite: "pair", system: "sys10" })]);
    expect(specs[0]!.datasets.map((d) => d.colour)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0]); // more systems than colours
    expect(specs[1]!.datasets.map((d) => d.colour)).toEqual([0, 1]); // sys10 would be 0 like sys0: it takes the next free
  });

  test("series become line charts (one per suite, workload and metric); bar charts and tables read their last point", () => {
    const series: Measurement[] = [];
    for (const at of [0, 500, 1000]) series.push(m({ metric: "unusable free index(9)", unit: "x1000", at, value: at / 2 }), m({ system: "b", metric: "unusable free index(9)", unit: "x1000", at, value: at / 4 }));
    const specs = chartSpecs([...series, m({ metric: "answer", unit: "ratio", note: "Q? A." })]);
    expect(specs.map((s) => `${s.section}/${s.kind}: ${s.title}`)).toEqual(["fragmentation/bar: s: unusable free index(9)", "series/line: s: unusable free index(9) during w"]);
    expect(specs[0]!.datasets.map((d) => d.values)).toEqual([[500], [250]]);
    expect(specs[1]).toMatchObject({ log: false, categories: [], height: 298 });
    expect(specs[1]!.datasets.map((d) => [d.label, d.points])).toEqual([
      ["a", [{ x: 0, y: 0 }, { x: 500, y: 250 }, { x: 1000, y: 500 }]],
      ["b", [{ x: 0, y: 0 }, { x: 500, y: 125 }, { x: 1000, y: 250 }]],
    ]);
    expect(specs[1]!.datasets[0]!.tips).toEqual(["0 x1000, at 0", "250 x1000, at 500", "500 x1000, at 1000"]);
  });

  test("a not-applicable fragmentation index (-1000) is no bar: its category says n/a, and a table cell says n/a", () => {
    const [spec] = chartSpecs([
      m({ system: "classic", metric: "extfrag (order 9)", unit: "x1000", value: -1000, workload: "after churn" }),
      m({ system: "memdesc", metric: "extfrag (order 9)", unit: "x1000", value: 420, workload: "after churn" }),
      m({ system: "classic", metric: "extfrag (order 9)", unit: "x1000", value: 12, workload: "after replay" }),
    ]);
    expect(spec!.datasets.map((d) => [d.label, d.values, d.tips])).toEqual([
      ["classic", [null, 12], ["n/a", "12 x1000"]],
      ["memdesc", [420, null], ["420 x1000", null]],
    ]);
    expect(spec!.categories).toEqual([["after churn", "n/a: classic"], ["after replay"]]);
    expect(spec!.empty).toBeUndefined();
    // The axis is built from the drawn values (12..420, 35x: logarithmic), not from -1000.
    expect([spec!.log, spec!.min]).toEqual([true, 10]);
    const allNa = chartSpecs([m({ metric: "extfrag (order 9)", unit: "x1000", value: -1000 }), m({ system: "b", metric: "extfrag (order 9)", unit: "x1000", value: -1000 })]);
    expect(allNa[0]!.empty).toBe("Nothing to draw: all 2 values are not applicable.");
    expect(formatValue(-1000, "x1000")).toBe("n/a");
    expect(formatValue(-1000, "count")).toBe("-1,000");
  });

  test("a chart whose values are all zero says so instead of drawing nothing", () => {
    const [spec] = chartSpecs([m({ metric: "2M splits", unit: "count", value: 0 }), m({ system: "b", metric: "2M splits", unit: "count", value: 0 })]);
    expect(spec!.empty).toBe("Nothing to draw: all 2 values are 0.");
    expect(chartSpecs([m({ metric: "2M splits", unit: "count", value: 0 }), m({ system: "b", metric: "2M splits", unit: "count", value: 1 })])[0]!.empty).toBeUndefined();
    const line = chartSpecs([m({ at: 0, value: 0, unit: "x1000", metric: "unusable free index(9)" }), m({ at: 5, value: 0, unit: "x1000", metric: "unusable free index(9)" })]);
    expect(line.map((s) => [s.kind, s.empty])).toEqual([
      ["bar", "Nothing to draw: the value is 0."],
      ["line", "Nothing to draw: all 2 values are 0."],
    ]);
  });

  test("measurements that differ only by their note get categories told apart by the note", () => {
    const [spec] = chartSpecs([
      m({ system: "cache", metric: "per 1k frags", unit: "count", value: 0, workload: "recycled", note: "random churn" }),
      m({ system: "cache", metric: "per 1k frags", unit: "count", value: 2, workload: "recycled", note: "FIFO ring" }),
      m({ system: "cache", metric: "per 1k frags", unit: "count", value: 11, workload: "recycled", note: "freed at once" }),
      m({ system: "cache", metric: "per 1k frags", unit: "count", value: 5, workload: "other", note: "alone" }),
    ]);
    expect(spec!.categories).toEqual([["recycled · random churn"], ["recycled · FIFO ring"], ["recycled · freed at once"], ["other"]]);
    expect(spec!.datasets.map((d) => d.values)).toEqual([[0, 2, 11, 5]]);
  });

  test("a series whose positions span more than 20x (live sets of 1k..1M) gets a logarithmic at axis; one that starts at 0 does not", () => {
    const curve = [1_000, 10_000, 1_000_000].map((at) => m({ metric: "ns/op", unit: "ns", at, value: at / 100 }));
    const line = chartSpecs(curve).find((s) => s.kind === "line")!;
    expect(line).toMatchObject({ logX: true, log: true, min: 1 });
    const fromZero = chartSpecs([0, 500, 1000].map((at) => m({ metric: "ns/op", unit: "ns", at, value: 1 + at }))).find((s) => s.kind === "line")!;
    expect(fromZero.logX).toBeUndefined();
  });

  test("no measurements, no charts", () => {
    expect(chartSpecs([])).toEqual([]);
    expect(chartSpecs([m({ metric: "served", unit: "%" })])).toEqual([]);
  });
});

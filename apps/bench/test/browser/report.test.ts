import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Measurement } from "../../src/harness/types.js";
import { chartSpecs, type ChartSpec } from "../../src/report/charts.js";
import { renderHtml } from "../../src/report/html.js";
import { buildReport, validateReport, type BenchReport, type RunMetadata } from "../../src/report/json.js";
import { latestPoints } from "../../src/report/series.js";
import { CHROMIUM, launchChromium, skipBrowserTests } from "./chromium.js";

// The HTML report opens in Chromium with the network blocked, raises no error, and draws every
// chart it announces: as many Chart.js charts as chartSpecs() computes, each canvas painted, and
// the bars (or lines) of its largest dataset there in that dataset's colour.

const benchDir = fileURLToPath(new URL("../..", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "mmkit-html-"));
/** The page's palette (html-client.ts), as RGB. */
const PALETTE = ["#4269d0", "#efb118", "#ff725c", "#6cc5b0", "#3ca951", "#ff8ab7", "#a463f2", "#97bbf5", "#9c6b4e", "#9498a0"].map((h) => [1, 3, 5].map((i) => Number.parseInt(h.slice(i, i + 2), 16)));

interface Drawn {
  charts: number;
  drawnAttribute: string | null;
  canvases: { id: string; chart: boolean; labels: string[]; painted: number; colourPixels: number[] }[];
  answers: string[];
  sections: string[];
}

/** Opens `file` with every non-file request aborted; returns what was drawn and every problem seen. */
async function open(browser: Awaited<ReturnType<typeof launchChromium>>, file: string): Promise<{ drawn: Drawn; problems: string[]; requests: string[] }> {
  const page = await browser.context.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on("request", (r) => requests.push(r.url()));
  await page.route("**/*", (route) => (route.request().url().startsWith("file:") ? route.continue() : route.abort("blockedbyclient")));
  try {
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector("body[data-charts-drawn]", { timeout: 20_000 });
    const drawn = await page.evaluate((palette) => {
      const Chart = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): { data: { datasets: { label: string }[] } } | undefined } }).Chart;
      const canvases = Array.from(document.querySelectorAll("canvas")).map((canvas) => {
        const pixels = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0;
        const colourPixels = palette.map(() => 0);
        for (let i = 0; i < pixels.length; i += 4) {
          if (pixels[i + 3] === 0) continue;
          painted++;
          for (let c = 0; c < palette.length; c++) if (pixels[i] === palette[c]![0] && pixels[i + 1] === palette[c]![1] && pixels[i + 2] === palette[c]![2] && pixels[i + 3] === 255) colourPixels[c]!++;
        }
        const chart = Chart.getChart(canvas);
        return { id: canvas.id, chart: chart !== undefined, labels: chart?.data.datasets.map((d) => d.label) ?? [], painted, colourPixels };
      });
      return {
        charts: canvases.filter((c) => c.chart).length,
        drawnAttribute: document.body.getAttribute("data-charts-drawn"),
        canvases,
        answers: Array.from(document.querySelectorAll("#answers li .q")).map((e) => e.textContent ?? ""),
        sections: Array.from(document.querySelectorAll("section[id]")).map((e) => e.id),
      };
    }, PALETTE);
    return { drawn, problems, requests };
  } finally {
    await page.close();
  }
}

/** The checks every report page passes, against the charts chartSpecs() computes for it. */
function expectDrawn(file: string, specs: readonly ChartSpec[], result: Awaited<ReturnType<typeof open>>): void {
  expect(result.problems).toEqual([]);
  expect(result.requests).toEqual([pathToFileURL(file).href]);
  const { drawn } = result;
  // A chart with nothing to draw is a sentence in the page, not a canvas.
  const drawable = specs.filter((s) => s.empty === undefined);
  expect(drawn.drawnAttribute).toBe(String(drawable.length));
  expect(drawn.charts).toBe(drawable.length);
  expect(drawn.canvases.map((c) => c.id)).toEqual(drawable.map((s) => s.id));
  drawable.forEach((spec, i) => {
    const canvas = drawn.canvases[i]!;
    expect(canvas.labels, spec.title).toEqual(spec.datasets.map((d) => d.label));
    expect(canvas.painted, spec.title).toBeGreaterThan(2000);
    // The dataset holding the chart's largest value: its bars/line are on the canvas in its colour,
    // well beyond its legend box (12 x 12 px).
    const largest = (d: ChartSpec["datasets"][number]) => Math.max(...d.values.map((v) => v ?? -Infinity), ...d.points.map((p) => p.y));
    const top = spec.datasets.reduce((a, b) => (largest(b) > largest(a) ? b : a));
    expect(canvas.colourPixels[top.colour], `${spec.title}: pixels of ${top.label}`).toBeGreaterThan(spec.kind === "bar" ? 300 : 200);
  });
}

/** At `width` px: the page's and its widest element's scroll widths, and what filtering by `suite` and `system` leaves. */
async function narrowAndFiltered(browser: Awaited<ReturnType<typeof launchChromium>>, file: string, width: number, suite: string, system: string) {
  const page = await browser.context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  try {
    await page.setViewportSize({ width, height: 844 });
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector("body[data-charts-drawn]", { timeout: 20_000 });
    const scroll = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
    const visible = () =>
      page.evaluate(() => ({
        count: document.getElementById("filter-count")!.textContent,
        blocks: Array.from(document.querySelectorAll<HTMLElement>("#tables .suite-block")).filter((b) => !b.hidden).map((b) => b.dataset.suite),
        systems: [...new Set(Array.from(document.querySelectorAll<HTMLElement>("#tables tbody tr[data-system]")).filter((r) => !r.hidden).map((r) => r.dataset.system))],
        headings: Array.from(document.querySelectorAll<HTMLElement>("#tables tr.workload")).filter((r) => !r.hidden && !r.closest<HTMLElement>(".suite-block")!.hidden).length,
      }));
    const all = await visible();
    await page.selectOption("#filter-suite", suite);
    const bySuite = await visible();
    await page.selectOption("#filter-system", system);
    const both = await visible();
    await page.selectOption("#filter-suite", "");
    const bySystem = await visible();
    return { scroll, all, bySuite, both, bySystem, problems };
  } finally {
    await page.close();
  }
}

describe.skipIf(skipBrowserTests)("the HTML report in Chromium", () => {
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  /** The real quick run's page, written by the first test. */
  let realHtml: string | undefined;
  let realReport: BenchReport | undefined;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  test("a real quick run (--html beside --json): loads offline without errors and draws every chart", async () => {
    const json = join(tmp, "run.json");
    const html = join(tmp, "run.html");
    const child = spawnSync(process.execPath, ["--import", "tsx", "src/cli.ts", "--suite", "direct-map,buddy", "--quick", "--seed", "0x2a", "--json", json, "--html", html], {
      cwd: benchDir,
      encoding: "utf8",
      env: { ...process.env, CI: "1" },
      timeout: 90_000,
    });
    expect(child.stderr).toBe("");
    expect(child.status).toBe(0);
    expect(child.stdout).toContain(`wrote ${html}`);
    const report = JSON.parse(readFileSync(json, "utf8")) as BenchReport;
    expect(validateReport(report)).toEqual([]);
    const specs = chartSpecs(report.measurements);
    // One ns/op chart per suite; the probe's lines, the direct map's splits, buddy's fragmentation
    // indices and its metadata per page each get theirs.
    expect(specs.filter((s) => s.section === "time").map((s) => s.title)).toEqual(["direct-map: ns/op", "buddy: ns/op"]);
    for (const section of ["lines", "splits", "fragmentation", "metadata"]) expect(specs.some((s) => s.section === section), section).toBe(true);
    const result = await open(browser, html);
    expectDrawn(html, specs, result);
    expect(result.drawn.sections).toEqual(["run", ...[...new Set(specs.map((s) => `charts-${s.section}`))], "tables"]);
    realHtml = html;
    realReport = report;
    // Every table is in the page: each suite's heading and its workloads.
    const page = readFileSync(html, "utf8");
    for (const m of report.measurements) expect(page).toContain(m.workload.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"));
  });

  test("at 390 px wide nothing scrolls sideways; the tables filter by suite and by system", async () => {
    if (realHtml === undefined || realReport === undefined) throw new Error("the real quick run did not write its page");
    const rows = latestPoints(realReport.measurements).length;
    const r = await narrowAndFiltered(browser, realHtml, 390, "buddy", "DirectMap");
    expect(r.problems).toEqual([]);
    expect(r.scroll).toEqual({ page: 390, client: 390 });
    expect(r.all.blocks).toEqual(["direct-map", "buddy"]);
    expect(r.all.count).toBe(`${rows} rows`);
    const buddyRows = latestPoints(realReport.measurements).filter((m) => m.suite === "buddy").length;
    expect(r.bySuite).toMatchObject({ blocks: ["buddy"], count: `${buddyRows} of ${rows} rows` });
    expect(r.bySuite.systems).not.toContain("DirectMap");
    // buddy has no DirectMap rows: nothing is left, and no workload heading stands alone.
    expect(r.both).toEqual({ count: `0 of ${rows} rows`, blocks: [], systems: [], headings: 0 });
    const directMapRows = latestPoints(realReport.measurements).filter((m) => m.system === "DirectMap").length;
    expect(r.bySystem).toMatchObject({ blocks: ["direct-map"], systems: ["DirectMap"], count: `${directMapRows} of ${rows} rows` });
    expect(r.bySystem.headings).toBeGreaterThan(0);
  });

  test("series draw as lines, buddyinfo histograms as bars per order, and the answers are listed", async () => {
    const metadata: RunMetadata = { date: "2026-01-02T03:04:05.000Z", node: "v20.0.0", v8: "11", platform: "linux", arch: "x64", cpuModel: "cpu", cpuCount: 2, argv: ["--quick"], quick: true, seed: 1 };
    const m = (over: Partial<Measurement>): Measurement => ({ suite: "systems", system: "classic", workload: "trace replay", metric: "unusable free index(9)", value: 0, unit: "x1000", ...over });
    const series: Measurement[] = [];
    for (let at = 0; at <= 10_000; at += 1000) {
      series.push(m({ at, value: 100 + at / 20 }));
      series.push(m({ system: "memdesc", at, value: 80 + at / 40 }));
    }
    const measurements: Measurement[] = [
      m({ metric: "ns/op", value: 40, unit: "ns", spread: 0.1, ratio: 10, ratioTo: "Int32Array stack", workload: "order-0 churn" }),
      m({ system: "memdesc", metric: "ns/op", value: 55, unit: "ns", spread: 0.2, ratio: 13.75, ratioTo: "Int32Array stack", workload: "order-0 churn" }),
      m({ metric: "metadata bytes/page", value: 64, unit: "bytes", workload: "4 GiB machine" }),
      m({ system: "memdesc", metric: "metadata bytes/page", value: 8, unit: "bytes", workload: "4 GiB machine" }),
      ...series,
      // A buddyinfo histogram (issue 21): kernel and model side by side, one bar per order.
      ...[3, 1, 0, 2].flatMap((blocks, at) => [
        m({ system: "kernel after", workload: "trace.txt DMA32", metric: "free blocks", unit: "blocks", value: blocks, at }),
        m({ system: "buddy from snapshot", workload: "trace.txt DMA32", metric: "free blocks", unit: "blocks", value: blocks + 1, at }),
      ]),
      m({ suite: "answers", system: "classic vs memdesc", workload: "the design questions", metric: "answer", value: 1.375, unit: "ratio", note: "What does the memdesc design cost in CPU per operation?\nmemdesc takes 1.38x the time of classic per order-0 op and keeps 8 B of metadata per page instead of 64." }),
    ];
    const report = buildReport(metadata, [
      { name: "systems", description: "whole systems", seconds: 1, measurements: measurements.filter((x) => x.suite === "systems"), log: [] },
      { name: "answers", description: "the answers", seconds: 0, measurements: measurements.filter((x) => x.suite === "answers"), log: [] },
    ]);
    expect(validateReport(JSON.parse(JSON.stringify(report)))).toEqual([]);
    const file = join(tmp, "synthetic.html");
    writeFileSync(file, renderHtml(report));
    const specs = chartSpecs(report.measurements);
    expect(specs.map((s) => `${s.section} ${s.kind} ${s.title}`)).toEqual([
      "time bar systems: ns/op",
      "metadata bar systems: metadata bytes/page",
      "fragmentation bar systems: unusable free index(9)",
      "histograms bar systems: free blocks per order, trace.txt DMA32",
      "series line systems: unusable free index(9) during trace replay",
    ]);
    expect(specs[3]!.categories).toEqual([["order 0"], ["order 1"], ["order 2"], ["order 3"]]);
    expect(specs[3]!.datasets.map((d) => [d.label, d.values])).toEqual([
      ["kernel after", [3, 1, 0, 2]],
      ["buddy from snapshot", [4, 2, 1, 3]],
    ]);
    const result = await open(browser, file);
    expectDrawn(file, specs, result);
    expect(result.drawn.answers).toEqual(["What does the memdesc design cost in CPU per operation?"]);
    expect(result.drawn.sections).toEqual(["run", "answers", "charts-time", "charts-metadata", "charts-fragmentation", "charts-histograms", "charts-series", "tables"]);
  });

  test("a curve over live-set sizes 1k..1M draws on a logarithmic at axis", async () => {
    const metadata: RunMetadata = { date: "2026-01-02T03:04:05.000Z", node: "v20.0.0", v8: "11", platform: "linux", arch: "x64", cpuModel: "cpu", cpuCount: 2, argv: [], quick: false, seed: 1 };
    const curve: Measurement[] = [1_000, 10_000, 100_000, 1_000_000].flatMap((at) => [
      { suite: "scale", system: "classic", workload: "systems: order-0 churn", metric: "ns/op", value: 100 + at / 1000, unit: "ns", spread: 0.1, at },
      { suite: "scale", system: "memdesc", workload: "systems: order-0 churn", metric: "ns/op", value: 600 + at / 2000, unit: "ns", spread: 0.1, at },
    ]);
    const report = buildReport(metadata, [{ name: "scale", description: "cost as the live set grows", seconds: 1, measurements: curve, log: [] }]);
    expect(validateReport(JSON.parse(JSON.stringify(report)))).toEqual([]);
    const file = join(tmp, "scale.html");
    writeFileSync(file, renderHtml(report));
    const specs = chartSpecs(report.measurements);
    expect(specs.filter((s) => s.kind === "line").map((s) => s.logX)).toEqual([true]);
    expectDrawn(file, specs, await open(browser, file));
  });
});

test.runIf(skipBrowserTests)(`browser tests skipped: ${CHROMIUM} is missing (run apps/bench/scripts/ensure-chromium.sh)`, () => {
  expect(process.env.CI === undefined || process.env.CI === "" || process.env.CI === "false" || process.env.CI === "0").toBe(true);
});

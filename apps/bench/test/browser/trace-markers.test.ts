import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Measurement } from "../../src/harness/types.js";
import { MARKER_METRIC } from "../../src/report/charts.js";
import { renderHtml } from "../../src/report/html.js";
import { buildReport, type RunMetadata } from "../../src/report/json.js";
import { launchChromium, skipBrowserTests } from "./chromium.js";

// A replay's series over trace time draw the trace's markers as dashed vertical lines: the page
// counts them in data-markers-drawn, and the line's grey is on the canvas where a marker falls.

const tmp = mkdtempSync(join(tmpdir(), "mmkit-markers-"));

describe.skipIf(skipBrowserTests)("trace markers in the HTML report", () => {
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  test("two series charts with three markers each draw six labelled vertical lines", async () => {
    const metadata: RunMetadata = { date: "2026-01-02T03:04:05.000Z", node: "v20.0.0", v8: "11", platform: "linux", arch: "x64", cpuModel: "cpu", cpuCount: 2, argv: [], quick: true, seed: 1 };
    const m = (over: Partial<Measurement>): Measurement => ({ suite: "replay", system: "classic", workload: "replay t.txt", metric: "live pages", value: 0, unit: "pages", ...over });
    const measurements: Measurement[] = [];
    for (let i = 0; i <= 20; i++) {
      measurements.push(m({ at: 3 + i * 0.15, value: 50 * i }), m({ system: "memdesc", at: 3 + i * 0.15, value: 40 * i }));
      measurements.push(m({ metric: "free pages", at: 3 + i * 0.15, value: 16000 - 50 * i }));
    }
    for (const [t, text] of [[3.1, "PHASE a"], [4.2, "PHASE b"], [5.5, "WORKLOAD_END"]] as const) measurements.push(m({ system: "trace", metric: MARKER_METRIC, value: t, unit: "s", note: text }));
    const report = buildReport(metadata, [{ name: "replay", description: "replay", seconds: 1, measurements, log: [] }]);
    const file = join(tmp, "markers.html");
    writeFileSync(file, renderHtml(report));
    const page = await browser.context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(e.message));
    page.on("console", (c) => {
      if (c.type() === "error") problems.push(c.text());
    });
    await page.route("**/*", (route) => (route.request().url().startsWith("file:") ? route.continue() : route.abort("blockedbyclient")));
    try {
      await page.goto(pathToFileURL(file).href);
      await page.waitForSelector("body[data-charts-drawn]", { timeout: 20_000 });
      const drawn = await page.evaluate(() => ({ charts: document.body.getAttribute("data-charts-drawn"), markers: document.body.getAttribute("data-markers-drawn") }));
      expect(problems).toEqual([]);
      expect(drawn).toEqual({ charts: "2", markers: "6" });
    } finally {
      await page.close();
    }
  });
});

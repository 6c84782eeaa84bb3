import { describe, expect, test } from "vitest";
import type { Measurement } from "../../src/harness/types.js";
import { chartSpecs } from "../../src/report/charts.js";
import { chartJsSource, escapeHtml, renderHtml } from "../../src/report/html.js";
import { buildReport, type RunMetadata } from "../../src/report/json.js";

const metadata: RunMetadata = { date: "2026-01-02T03:04:05.000Z", node: "v20.0.0", v8: "11", platform: "linux", arch: "x64", cpuModel: "cpu", cpuCount: 2, argv: ["--quick", "--html", "r.html"], quick: true, seed: 42 };
const m = (over: Partial<Measurement> = {}): Measurement => ({ suite: "s", system: "a", workload: "w", metric: "ns/op", value: 10, unit: "ns", spread: 0.1, ...over });
const report = (measurements: Measurement[], error?: string) => buildReport(metadata, [{ name: "s", description: "a suite", seconds: 1.25, measurements, log: ["a finding"], ...(error === undefined ? {} : { error }) }]);

describe("renderHtml", () => {
  test("one self-contained page: Chart.js and the data inline, a CSP that allows no fetch, no external URL", () => {
    const measurements = [m(), m({ system: "b", value: 30 }), m({ metric: "lines/op", unit: "lines", value: 4, spread: undefined })];
    const html = renderHtml(report(measurements));
    expect(html.startsWith("<!doctype html>\n")).toBe(true);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">`);
    expect(html).toContain(chartJsSource());
    expect(chartJsSource().length).toBeGreaterThan(100_000);
    expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/<link\b/);
    const json = /<script type="application\/json" id="mmkit-charts">([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(JSON.parse(json)).toEqual(chartSpecs(measurements));
    expect([...html.matchAll(/<canvas id="(chart-\d+)"/g)].map((x) => x[1])).toEqual(["chart-0", "chart-1"]);
  });

  test("the run metadata, the suites and every table are in the page", () => {
    const html = renderHtml(report([m(), m({ workload: "churn", system: "b", value: 2500, ratio: 250, ratioTo: "a" })], "boom"));
    for (const text of ["<th>date</th><td>2026-01-02T03:04:05.000Z</td>", "<th>node</th><td>v20.0.0 (V8 11)</td>", "<th>command</th><td>mmkit-bench --quick --html r.html</td>", "<th>seed</th><td>0x2a</td>", "<th>CPU</th><td>cpu x2</td>"]) expect(html).toContain(text);
    expect(html).toContain('<td class="error">failed: boom</td>');
    expect(html).toContain('<tr class="workload"><td colspan="6">churn</td></tr>');
    expect(html).toContain('<tr data-system="b"><td>b</td><td>ns/op</td><td class="num">2.5 µs</td><td class="num">10%</td><td class="num">250x</td><td></td></tr>');
    expect(html).toContain('<ul class="log"><li>a finding</li></ul>');
    expect(html).not.toContain('id="answers"');
  });

  test("the tables section has a suite and a system filter; rows and suite blocks carry what it filters on", () => {
    const html = renderHtml(report([m(), m({ system: "b" }), m({ metric: "answer", unit: "ratio", value: 1, note: "Q?\nA." })]));
    expect(html).toContain('<form class="filter" id="table-filter" onsubmit="return false"><label>suite <select id="filter-suite"><option value="">all</option><option value="s">s</option></select></label><label>system <select id="filter-system"><option value="">all</option><option value="a">a</option><option value="b">b</option></select></label><span id="filter-count" class="muted"></span></form>');
    expect(html).toContain('<div class="suite-block" data-suite="s">');
    expect(html).toContain('<tr class="answer" data-system="a"><td colspan="6">Q?\nA.</td></tr>');
  });

  test("a chart with nothing to draw is a sentence naming its systems, not a canvas", () => {
    const html = renderHtml(report([m({ metric: "2M splits", unit: "count", value: 0 }), m({ system: "b", metric: "2M splits", unit: "count", value: 0 })]));
    expect(html).toContain('<figure class="chart" id="chart-0-empty"><figcaption>s: 2M splits</figcaption><p class="empty-chart">Nothing to draw: all 2 values are 0. (a, b)</p></figure>');
    expect(html).not.toContain("<canvas");
  });

  test("answers are listed, question first; text is escaped everywhere, even inside the data", () => {
    const evil = "</script><script>alert(1)</script>";
    const html = renderHtml(report([m({ system: evil }), m({ metric: "answer", unit: "ratio", value: 1.38, note: "Is it fast enough?\nYes: 1.38x <the floor>." })]));
    expect(html).toContain('<section id="answers"><h2>The answers</h2>');
    expect(html).toContain('<li><div class="q">Is it fast enough?</div><div>Yes: 1.38x &lt;the floor&gt;.</div><div class="muted">1.38x (s: a, w)</div></li>');
    const single = renderHtml(report([m({ workload: "Q2", system: "maple vs memmap", metric: "answer", unit: "ratio", value: 3.19, note: "The maple tree takes 3.19x the memmap." })]));
    expect(single).toContain('<li><div class="q">Q2 · maple vs memmap</div><div>The maple tree takes 3.19x the memmap.</div><div class="muted">3.19x (s: maple vs memmap, Q2)</div></li>');
    expect(html).not.toContain(evil);
    expect(html.split("</script>").length - 1).toBe(4); // Chart.js, the data, the chart script, the table filter
    expect(html).toContain("\\u003c/script>\\u003cscript>alert(1)\\u003c/script>");
  });

  test("escapeHtml", () => {
    expect(escapeHtml(`a < b & "c" 'd' >`)).toBe("a &lt; b &amp; &quot;c&quot; &#39;d&#39; &gt;");
  });
});

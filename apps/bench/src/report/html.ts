import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Measurement } from "../harness/types.js";
import { CHART_SECTIONS, chartSpecs, type ChartSection, type ChartSpec } from "./charts.js";
import { formatValue } from "./format.js";
import { CLIENT_SCRIPT } from "./html-client.js";
import { TABLE_FILTER_SCRIPT } from "./html-filter.js";
import type { BenchReport } from "./json.js";
import { latestPoints } from "./series.js";
import { ANSWER_METRIC, HEAD, tableRows } from "./table.js";

/**
 * Escapes text for HTML element content and attribute values.
 *
 * @example
 * ```ts
 * escapeHtml(`a < b & "c"`);   // "a &lt; b &amp; &quot;c&quot;"
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** Text made safe inside a `<script>` element (no `</script`, no `<!--`). */
function scriptText(text: string): string {
  return text.replace(/<(?=\/script|!--)/gi, "\\x3C");
}

let chartJs: string | undefined;

/**
 * The source of Chart.js's UMD build (the one that defines `window.Chart`), read once from
 * node_modules, to inline into the report.
 *
 * @example
 * ```ts
 * chartJsSource().length;   // about 210 KB for chart.js 4.6
 * ```
 */
export function chartJsSource(): string {
  if (chartJs === undefined) {
    const require = createRequire(import.meta.url);
    chartJs = readFileSync(join(dirname(require.resolve("chart.js")), "chart.umd.min.js"), "utf8");
  }
  return chartJs;
}

const SECTION_TEXT: Record<ChartSection, string> = {
  time: "Median nanoseconds per operation over the timed rounds, by workload and system; hover a bar for its spread and its ratio to the floor of the same rounds. On a noisy machine, read the ratios.",
  lines: "64-byte cache lines touched per operation, counted by ProbingArena on the same code: deterministic for a given seed.",
  metadata: "Metadata the allocators keep, measured by the metadata arena.",
  splits: "Direct-map splits (a 2 MiB or 1 GiB leaf broken into smaller ones), with and without the PTE-mapped cache where a suite runs both.",
  fragmentation: "Fragmentation figures (Linux's unusable-free and extfrag indices, largest free block) at the end of a workload.",
  histograms: "Free blocks of each order per zone (buddyinfo): the kernel's own /proc snapshots before and after the trace, and the buddy model that replayed the trace from the before-snapshot, side by side.",
  series: "Figures recorded during a workload (measurements that carry `at`): one line per system.",
};

const STYLE = `
:root { color-scheme: light; --fg: #1d1f24; --muted: #5b606b; --line: #d8dbe2; --bg: #fff; --band: #f4f5f8; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1180px; padding: 24px; font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 20px 0 6px; } p.lead, p.explain, .muted { color: var(--muted); }
nav a { margin-right: 12px; }
table { border-collapse: collapse; margin: 6px 0 12px; width: 100%; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.workload td { background: var(--band); font-weight: 600; }
tr.answer td { font-style: italic; }
table.meta { width: auto; } table.meta th { font-weight: 600; color: var(--muted); }
th, td { overflow-wrap: break-word; } table.meta td { overflow-wrap: anywhere; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(520px, 100%), 1fr)); gap: 16px; }
figure.chart p.empty-chart { color: var(--muted); margin: 8px 0; }
form.filter { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; margin: 8px 0; }
form.filter select { max-width: 100%; }
figure.chart { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 10px; }
figure.chart figcaption { font-weight: 600; margin-bottom: 6px; }
.chart-box { position: relative; }
ol.answers li { margin-bottom: 10px; } ol.answers .q { font-weight: 600; }
ul.log { color: var(--muted); } .error { color: #b00020; font-weight: 600; }
/* A phone (390 px): no sideways scrolling; long cells wrap anywhere, figures wrap too. */
@media (max-width: 640px) {
  body { padding: 12px; font-size: 13px; }
  table { font-size: 12px; }
  th, td { padding: 2px 4px; }
  /* The measurement tables become one block per row: system and metric, then the figures, then the note. */
  .suite-block table, .suite-block tbody, .suite-block tr, .suite-block td { display: block; }
  .suite-block thead { display: none; }
  .suite-block tr:not([hidden]) { display: flex; flex-wrap: wrap; gap: 0 6px; padding: 3px 0; border-bottom: 1px solid var(--line); }
  .suite-block tr.workload td, .suite-block tr.answer td { flex-basis: 100%; }
  .suite-block td { border: 0; padding: 0 2px; }
  .suite-block td:empty { display: none; }
  .suite-block tr:not(.workload):not(.answer) td:first-child { font-weight: 600; }
  .suite-block td:nth-child(4)::before { content: "spread "; color: var(--muted); }
  .suite-block td:nth-child(5)::before { content: "ratio "; color: var(--muted); }
  .suite-block td:nth-child(6) { flex-basis: 100%; color: var(--muted); }
}
`;

function metadataTable(report: BenchReport): string {
  const rows: [string, string][] = [
    ["date", report.date],
    ["node", `${report.node} (V8 ${report.v8})`],
    ["platform", `${report.platform} ${report.arch}`],
    ["CPU", `${report.cpuModel} x${report.cpuCount}`],
    ["command", ["mmkit-bench", ...report.argv].join(" ")],
    ["quick", report.quick ? "yes" : "no"],
    ["seed", `0x${report.seed.toString(16)}`],
    ["measurements", String(report.measurements.length)],
  ];
  return `<table class="meta">${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join("")}</table>`;
}

function suitesTable(report: BenchReport): string {
  const rows = report.suites.map((s) => {
    const status = s.error === undefined ? "ok" : `failed: ${s.error}`;
    return `<tr><td><a href="#suite-${escapeHtml(s.name)}">${escapeHtml(s.name)}</a></td><td>${escapeHtml(s.description)}</td><td class="num">${s.seconds.toFixed(1)} s</td><td${s.error === undefined ? "" : ' class="error"'}>${escapeHtml(status)}</td></tr>`;
  });
  return `<table><thead><tr><th>suite</th><th>what it measures</th><th>time</th><th>status</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

/**
 * The answers: every measurement with metric "answer". A note of several lines is the question (its
 * first line, in bold) and the answer; a one-line note is the answer, under "workload · system".
 */
function answersSection(answers: readonly Measurement[]): string {
  if (answers.length === 0) return "";
  const items = answers.map((m) => {
    const lines = (m.note ?? "").split("\n").filter((l) => l.trim() !== "");
    const [question, ...answer] = lines.length >= 2 ? lines : [`${m.workload} · ${m.system}`, ...lines];
    const detail = `${formatValue(m.value, m.unit)} (${m.suite}: ${m.system}, ${m.workload})`;
    return `<li><div class="q">${escapeHtml(question!)}</div>${answer.map((l) => `<div>${escapeHtml(l)}</div>`).join("")}<div class="muted">${escapeHtml(detail)}</div></li>`;
  });
  return `<section id="answers"><h2>The answers</h2><p class="explain">Each question from the design discussion, with the answer measured in this run.</p><ol class="answers">${items.join("")}</ol></section>`;
}

function chartSections(specs: readonly ChartSpec[]): string {
  const out: string[] = [];
  for (const section of Object.keys(CHART_SECTIONS) as ChartSection[]) {
    const charts = specs.filter((c) => c.section === section);
    if (charts.length === 0) continue;
    const figures = charts.map((c) =>
      c.empty !== undefined
        ? `<figure class="chart" id="${c.id}-empty"><figcaption>${escapeHtml(c.title)}</figcaption><p class="empty-chart">${escapeHtml(c.empty)} (${escapeHtml(c.datasets.map((d) => d.label).join(", "))})</p></figure>`
        : `<figure class="chart"><figcaption>${escapeHtml(c.title)}</figcaption><div class="chart-box" style="height:${c.height}px"><canvas id="${c.id}" role="img" aria-label="${escapeHtml(c.title)}"></canvas></div></figure>`,
    );
    out.push(`<section id="charts-${section}"><h2>${escapeHtml(CHART_SECTIONS[section])}</h2><p class="explain">${escapeHtml(SECTION_TEXT[section])}</p><div class="grid">${figures.join("")}</div></section>`);
  }
  return out.join("\n");
}

/** `<option>`s: "all" (value ""), then each of `values`. */
function options(values: readonly string[]): string {
  return [`<option value="">all</option>`, ...values.map((v) => `<option value="${escapeHtml(v)}">${escapeHtml(v)}</option>`)].join("");
}

function suiteTables(report: BenchReport): string {
  const out: string[] = [];
  for (const suite of report.suites) {
    const measurements = report.measurements.filter((m) => m.suite === suite.name);
    const parts = [`<h3 id="suite-${escapeHtml(suite.name)}">${escapeHtml(suite.name)}</h3><p class="muted">${escapeHtml(suite.description)} (${suite.seconds.toFixed(1)} s)</p>`];
    if (suite.error !== undefined) parts.push(`<p class="error">failed: ${escapeHtml(suite.error)}</p>`);
    if (measurements.length > 0) {
      const body: string[] = [];
      for (const [workload, rows] of tableRows(measurements)) {
        body.push(`<tr class="workload"><td colspan="${HEAD.length}">${escapeHtml(workload)}</td></tr>`);
        for (const row of rows) {
          const system = `data-system="${escapeHtml(row.measurement.system)}"`;
          if (row.answer) body.push(`<tr class="answer" ${system}><td colspan="${HEAD.length}">${escapeHtml(row.measurement.note!)}</td></tr>`);
          else body.push(`<tr ${system}>${row.cells.map((cell, c) => `<td${c >= 2 && c <= 4 ? ' class="num"' : ""}>${escapeHtml(cell)}</td>`).join("")}</tr>`);
        }
      }
      parts.push(`<table><thead><tr>${HEAD.map((h) => `<th>${h}</th>`).join("")}</tr></thead><tbody>${body.join("")}</tbody></table>`);
    }
    if (suite.log.length > 0) parts.push(`<ul class="log">${suite.log.map((l) => `<li>${escapeHtml(l)}</li>`).join("")}</ul>`);
    out.push(`<div class="suite-block" data-suite="${escapeHtml(suite.name)}">${parts.join("\n")}</div>`);
  }
  const suites = report.suites.map((s) => s.name);
  const systems = [...new Set(latestPoints(report.measurements).map((m) => m.system))].sort((a, b) => a.localeCompare(b));
  const filter = `<form class="filter" id="table-filter" onsubmit="return false"><label>suite <select id="filter-suite">${options(suites)}</select></label><label>system <select id="filter-system">${options(systems)}</select></label><span id="filter-count" class="muted"></span></form>`;
  return `<section id="tables"><h2>Tables</h2>${filter}${out.join("\n")}</section>`;
}

/**
 * The report as one self-contained HTML page: run metadata and suites, "The answers" (measurements
 * with metric `"answer"`, when there are any), charts built by {@link chartSpecs} from whatever
 * measurements exist (a chart with nothing to draw says so instead), then every suite's table and
 * log, filterable by suite and system. Laid out to read at 390 px wide without sideways scrolling. Chart.js and all data are inline and a
 * Content-Security-Policy forbids fetching anything, so the page opens offline and never touches
 * the network. O(n log n) in the measurements, plus Chart.js (about 200 KB).
 *
 * @example
 * ```ts
 * writeFileSync("bench.html", renderHtml(buildReport(metadata, results)));
 * ```
 */
export function renderHtml(report: BenchReport): string {
  const specs = chartSpecs(report.measurements);
  const answers = latestPoints(report.measurements).filter((m) => m.metric === ANSWER_METRIC);
  const failed = report.suites.filter((s) => s.error !== undefined).length;
  const lead = `${report.suites.length} suite(s), ${report.measurements.length} measurements, ${specs.length} charts${failed > 0 ? `, ${failed} suite(s) failed` : ""}; ${report.quick ? "quick run" : "full run"}, seed 0x${report.seed.toString(16)}, ${report.date}.`;
  const nav = [["run", "Run"], ...(answers.length > 0 ? [["answers", "The answers"]] : []), ...(Object.keys(CHART_SECTIONS) as ChartSection[]).filter((s) => specs.some((c) => c.section === s)).map((s) => [`charts-${s}`, CHART_SECTIONS[s]]), ["tables", "Tables"]];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mmkit bench report, ${escapeHtml(report.date)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>mmkit bench report</h1><p class="lead">${escapeHtml(lead)}</p>
<nav>${nav.map(([id, text]) => `<a href="#${id}">${escapeHtml(text!)}</a>`).join("")}</nav></header>
<section id="run"><h2>Run</h2>${metadataTable(report)}<h3>Suites</h3>${suitesTable(report)}</section>
${answersSection(answers)}
${chartSections(specs)}
${suiteTables(report)}
<script>${scriptText(chartJsSource())}</script>
<script type="application/json" id="mmkit-charts">${JSON.stringify(specs).replace(/</g, "\\u003c")}</script>
<script>${scriptText(CLIENT_SCRIPT)}</script>
<script>${scriptText(TABLE_FILTER_SCRIPT)}</script>
</body>
</html>
`;
}

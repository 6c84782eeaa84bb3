import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { ExitCode, main, parseCount } from "../../src/command.js";
import { silentProgress } from "../../src/harness/progress.js";
import type { BenchReport } from "../../src/report/json.js";
import { fixture } from "./helpers.js";

const tmp = mkdtempSync(join(tmpdir(), "mmkit-cli-trace-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function run(...args: string[]) {
  let out = "";
  let err = "";
  const code = await main(args, { out: (t) => (out += t), err: (t) => (err += t), progress: silentProgress, isolate: false });
  return { code, out, err };
}

describe("the CLI on bad trace input: one clear line naming file and line, no stack unless --debug", () => {
  test("a malformed line stops the replay with its file and line; exit 1", async () => {
    const file = fixture("malformed.txt");
    const { code, err } = await run("--trace", file, "--system", "classic", "--quick");
    expect(code).toBe(ExitCode.SuiteFailed);
    const lines = err.trim().split("\n");
    expect(lines[0]).toBe(`suite replay failed: ${file}: line 3: mm_page_free has no pfn= field: "             cat-155     [001] ...1.     3.031357: mm_page_free: page=00000000c8ea8e30 order=1"`);
    expect(err).not.toMatch(/^\s+at /m);
    const debug = await run("--trace", file, "--system", "classic", "--quick", "--debug");
    expect(debug.err).toMatch(/^\s+at /m);
  });

  test("--trace-lenient counts the lines it skips, shows them and says so at the end", async () => {
    const json = join(tmp, "lenient.json");
    const { code, out } = await run("--trace", fixture("malformed.txt"), "--trace-lenient", "--system", "classic", "--quick", "--json", json);
    expect(code).toBe(ExitCode.Ok);
    expect(out.replace(/\s+/g, " ")).toContain("malformed.txt: skipped with --trace-lenient: 3 malformed line(s), 0 line(s) not text (first: line 3: mm_page_free has no pfn= field");
    const report = JSON.parse(readFileSync(json, "utf8")) as BenchReport;
    const value = (metric: string) => report.measurements.find((m) => m.system === "trace" && m.metric === metric)?.value;
    expect([value("malformed lines"), value("lines not text"), value("events: alloc"), value("events: free")]).toEqual([3, 0, 1, 1]);
  });

  test("a directory and an empty file: each one line naming the input, exit 2", async () => {
    const dir = join(tmp, "dir");
    mkdirSync(dir);
    const empty = join(tmp, "empty.txt");
    writeFileSync(empty, "");
    expect(await run("--trace", dir)).toMatchObject({ code: ExitCode.Usage, err: `error: ${dir}: is a directory, not a trace file\n(see --help)\n` });
    expect(await run("--trace", empty)).toMatchObject({ code: ExitCode.Usage, err: `error: ${empty}: is empty\n(see --help)\n` });
  });

  test("--trace-synth runs the replay suite on a synthetic trace; counts take k/M suffixes", async () => {
    expect([parseCount("20000"), parseCount("10k"), parseCount("50M")]).toEqual([20_000, 10_000, 50_000_000]);
    expect(() => parseCount("1.5M")).toThrow(/positive count/);
    const json = join(tmp, "synth.json");
    const { code, out } = await run("--trace-synth", "20k", "--system", "classic", "--quick", "--json", json);
    expect(code).toBe(ExitCode.Ok);
    expect(out).toContain("suites: replay");
    const report = JSON.parse(readFileSync(json, "utf8")) as BenchReport;
    const lines = report.measurements.find((m) => m.workload === "replay synth-20000" && m.metric === "lines")!;
    expect(lines.value).toBe(20_006); // 6 header lines
    for (const metric of ["parse lines/s", "scan events/s", "peak RSS", "parse lines/s (median of rounds)"]) expect(report.measurements.some((m) => m.system === "trace" && m.metric === metric), metric).toBe(true);
    for (const metric of ["replay events/s", "read+parse+replay events/s", "parse+replay events/s (median of rounds)", "cpu 3 allocs", "live pages"]) expect(report.measurements.some((m) => m.system === "classic" && m.metric === metric), metric).toBe(true);
  });

  test("--trace-memory reads a file once (no scan, no timing window) with the same accounting and replay counts", async () => {
    const file = fixture("ftrace-6.1-hex.txt");
    const [twice, once] = [join(tmp, "twice.json"), join(tmp, "once.json")];
    expect((await run("--trace", file, "--system", "classic", "--quick", "--json", twice)).code).toBe(ExitCode.Ok);
    const single = await run("--trace", file, "--trace-memory", "32", "--system", "classic", "--quick", "--json", once);
    expect(single.code).toBe(ExitCode.Ok);
    expect(single.out.replace(/\s+/g, " ")).toContain("replayed on 32 MiB (read once: --trace-memory)");
    const [a, b] = [twice, once].map((f) => JSON.parse(readFileSync(f, "utf8")) as BenchReport);
    const counts = (r: BenchReport) =>
      r.measurements.filter((m) => (m.system === "trace" && m.unit !== "lines/s" && m.unit !== "events/s" && m.unit !== "ratio" && m.metric !== "peak RSS") || (m.system === "classic" && (m.metric === "sut failures" || m.metric.startsWith("cpu ")))).map((m) => `${m.system} ${m.metric} ${m.value}`);
    expect(counts(a).length).toBeGreaterThan(15);
    expect(counts(b)).toEqual(counts(a));
    const metrics = (r: BenchReport) => new Set(r.measurements.filter((m) => m.system === "trace").map((m) => m.metric));
    expect([...metrics(b)].filter((m) => m.endsWith("/s") || m.includes("gunzip"))).toEqual(["parse lines/s"]);
    expect(metrics(a).has("scan events/s")).toBe(true);
    expect(metrics(b).has("scan events/s")).toBe(false);
  });

  test("--system-file adds its systems; an unknown --system is a usage error listing them", async () => {
    const example = new URL("../../examples/first-fit.mjs", import.meta.url).pathname;
    const bad = await run("--system-file", example, "--system", "next-fit");
    expect(bad.code).toBe(ExitCode.Usage);
    expect(bad.err).toContain('unknown system "next-fit"; the systems are: classic, memdesc, buddy+maple, potad+memmap, potad+memdesc8, first-fit');
  });
});

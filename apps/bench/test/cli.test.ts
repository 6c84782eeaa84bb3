import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { ExitCode, loadAndRun, main, parseCommandLine, parseSeed } from "../src/command.js";
import { silentProgress } from "../src/harness/progress.js";
import { validateReport, type BenchReport } from "../src/report/json.js";
import { TABLE_WIDTH } from "../src/report/table.js";
import { DEFAULT_SEED } from "../src/workloads/random.js";

const benchDir = fileURLToPath(new URL("..", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "mmkit-bench-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs main() in this process, collecting what it prints. */
async function run(...args: string[]) {
  return runAt(TABLE_WIDTH, ...args);
}

/** Runs main() in this process at `width` columns, collecting what it prints. */
async function runAt(width: number, ...args: string[]) {
  let out = "";
  let err = "";
  const code = await main(args, { out: (t) => (out += t), err: (t) => (err += t), progress: silentProgress, width });
  return { code, out, err };
}

describe("CLI end to end", () => {
  test("--suite floors --quick --json <file>: exit 0, tables of at most 100 columns, a valid report", () => {
    const file = join(tmp, "floors.json");
    const child = spawnSync(process.execPath, ["--import", "tsx", "src/cli.ts", "--suite", "floors", "--quick", "--json", file, "--seed", "0x2a"], {
      cwd: benchDir,
      encoding: "utf8",
      env: { ...process.env, CI: "1" },
      timeout: 60_000,
    });
    expect(child.stderr).toBe("");
    expect(child.status).toBe(0);
    expect(child.stdout).toContain("seed 0x2a, quick");
    expect(child.stdout).toContain("» alloc+free pairs");
    for (const line of child.stdout.split("\n")) if (line.startsWith("│") || line.startsWith("┌")) expect(line.length).toBeLessThanOrEqual(TABLE_WIDTH);
    const report = JSON.parse(readFileSync(file, "utf8")) as BenchReport;
    expect(validateReport(report)).toEqual([]);
    expect(report).toMatchObject({ quick: true, seed: 42, argv: ["--suite", "floors", "--quick", "--json", file, "--seed", "0x2a"], node: process.version });
    expect(report.suites.map((s) => s.name)).toEqual(["floors"]);
    const timed = report.measurements.filter((m) => m.metric === "ns/op");
    expect(timed.map((m) => `${m.workload}: ${m.system} / ${m.ratioTo}`)).toEqual([
      "alloc+free pairs: Int32Array stack / Int32Array stack",
      "alloc+free pairs: @thi.ng/malloc / Int32Array stack",
      "alloc+free pairs: number-allocator / Int32Array stack",
      "churn, 10k live: Int32Array stack / Int32Array stack",
      "churn, 10k live: @thi.ng/malloc / Int32Array stack",
      "churn, 10k live: number-allocator / Int32Array stack",
      "page->id lookup, 1M ranges: flat Int32Array / flat Int32Array",
      "page->id lookup, 1M ranges: binary search / flat Int32Array",
      "page->id lookup, 1M ranges: sorted-btree / flat Int32Array",
      "harness: harness (empty loop) / undefined",
    ]);
    for (const m of timed) expect(m).toMatchObject({ suite: "floors", unit: "ns" });
    for (const m of timed) if (m.system === m.ratioTo) expect(m.ratio).toBe(1);
  });
});

describe("CLI options", () => {
  test("--list prints every suite, marking the defaults", async () => {
    const { code, out } = await run("--list");
    expect(code).toBe(ExitCode.Ok);
    expect(out).toMatch(/^ {2}floors +\(default\) The floors/m);
    expect(out).toMatch(/^ {2}direct-map +\(default\) Random set_memory/m);
  });

  test("--help documents every flag and the suites", async () => {
    const { code, out } = await run("--help");
    expect(code).toBe(ExitCode.Ok);
    for (const flag of ["--suite <name>", "--quick", "--json <file>", "--seed <n>", "--list", "--help"]) expect(out).toContain(flag);
    expect(out).toContain("Suites:");
    for (const line of out.split("\n")) expect(line.length).toBeLessThanOrEqual(TABLE_WIDTH);
  });

  test("--help and --list wrap to the width: at 80 no line is longer, at 200 a suite's description is one line", async () => {
    for (const flag of ["--help", "--list"]) {
      const narrow = await runAt(80, flag);
      const lines = narrow.out.split("\n");
      for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
      expect(lines.some((l) => /^ {2}answers +\(default\) The 8 questions/.test(l))).toBe(true);
      const wide = await runAt(200, flag);
      expect(wide.out).toMatch(/^ {2}answers +\(default\) The 8 questions of the memdesc\/POTAD discussion, each answered from figures measured in this run \(classic vs memdesc; Q8 from the memdesc-rcu suite\)$/m);
    }
  });

  test("a whole run at 60 columns: no line of what it prints is longer", async () => {
    const { code, out } = await runAt(60, "--suite", "floors", "--quick", "--seed", "7");
    expect(code).toBe(ExitCode.Ok);
    const long = out.split("\n").filter((l) => [...l].length > 60);
    expect(long).toEqual([]);
    expect(out).toContain("» churn, 10k live");
  });

  test("--json and --html paths are checked before the run: exit 2, nothing run, no stack trace", async () => {
    const missing = join(tmp, "no-such-dir", "bench.json");
    const json = await run("--suite", "floors", "--quick", "--json", missing);
    expect(json).toEqual({ code: ExitCode.Usage, out: "", err: `error: --json ${JSON.stringify(missing)}: cannot write it: directory ${join(tmp, "no-such-dir")} does not exist\n(see --help)\n` });
    const html = await run("--suite", "floors", "--quick", "--html", tmp);
    expect(html).toEqual({ code: ExitCode.Usage, out: "", err: `error: --html ${JSON.stringify(tmp)}: cannot write it: ${tmp} is a directory\n(see --help)\n` });
  });

  test("usage errors exit 2 with a message naming the value", async () => {
    const unknown = await run("--suite", "nope");
    expect(unknown.code).toBe(ExitCode.Usage);
    expect(unknown.err).toMatch(/unknown suite "nope"/);
    const seed = await run("--seed", "-3");
    expect(seed.code).toBe(ExitCode.Usage);
    expect(seed.err).toMatch(/seed must be an integer in \[0, 4294967295\].*"-3"/);
    const stray = await run("floors");
    expect(stray.code).toBe(ExitCode.Usage);
    expect(stray.err).toMatch(/unexpected argument "floors".*--suite/);
    const flag = await run("--bogus");
    expect(flag.code).toBe(ExitCode.Usage);
    expect(flag.err).toMatch(/unknown option '--bogus'/);
  });

  test("--suite is repeatable and takes comma-separated names; no --suite means the defaults", () => {
    const io = { out: () => {}, err: () => {} };
    const parsed = parseCommandLine(["--suite", "direct-map,floors", "--suite", "floors", "-q", "--seed", "7"], io);
    expect(typeof parsed).toBe("object");
    if (typeof parsed === "number") return;
    expect(parsed.entries.map((e) => e.name)).toEqual(["floors", "direct-map"]);
    expect(parsed.options).toMatchObject({ quick: true, seed: 7, list: false });
    const plain = parseCommandLine([], io);
    if (typeof plain === "number") throw new Error("no arguments must parse");
    expect(plain.options).toMatchObject({ quick: false, seed: DEFAULT_SEED, suite: [] });
    expect(plain.entries.every((e) => e.default)).toBe(true);
  });

  test("parseSeed takes decimal and 0x hex", () => {
    expect(parseSeed("42")).toBe(42);
    expect(parseSeed("0x2A")).toBe(42);
    expect(parseSeed("4294967295")).toBe(0xffffffff);
    expect(() => parseSeed("4294967296")).toThrow(/got "4294967296"/);
    expect(() => parseSeed("1.5")).toThrow(/got "1.5"/);
  });
});

describe("loadAndRun", () => {
  test("a suite whose module cannot load is a failed result with the build command to run", async () => {
    const entry = { name: "ghost", description: "d", default: false, packages: ["@mmkit/ghost"], load: () => Promise.reject(new Error("Cannot find package '@mmkit/ghost'")) };
    const result = await loadAndRun(entry, { suite: [], quick: true, list: false, seed: 1 }, silentProgress);
    expect(result.error).toBe("could not load suite ghost: Cannot find package '@mmkit/ghost' (build its packages first: pnpm --filter @mmkit/ghost build)");
    expect(result.measurements).toEqual([]);
  });
});

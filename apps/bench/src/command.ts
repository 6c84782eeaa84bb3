import { existsSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { MiB } from "@mmkit/physmem";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { runSuiteInProcess } from "./harness/isolate.js";
import { runSuite, type SuiteResult } from "./harness/runner.js";
import type { Measurement } from "./harness/types.js";
import { progressBar, progressWanted, silentProgress, type ProgressSink } from "./harness/progress.js";
import { compareMeasurements, readReport, renderComparison } from "./report/compare.js";
import { renderHtml } from "./report/html.js";
import { buildReport, type BenchReport } from "./report/json.js";
import { runMetadata } from "./report/metadata.js";
import { unwritableReason } from "./output-path.js";
import { outputWidth, renderTable, wrap } from "./report/table.js";
import { suites as registry, type SuiteEntry } from "./suites/index.js";
import { DEFAULT_SEED } from "./workloads/random.js";
import { SYSTEMS, allSystems } from "./systems/definition.js";
import { loadSystemFile } from "./systems/system-file.js";
import { setSystemSelection } from "./systems/selection.js";
import { STDIN_PATH, checkTraceInput } from "./trace/trace-input.js";
import { hasSnapshots } from "./trace/snapshot/load.js";
import type { CliOptions } from "./cli-options.js";

export type { CliOptions } from "./cli-options.js";

/** A path the user gave, relative to where they ran the command (`pnpm bench` runs in apps/bench; pnpm passes the original directory as INIT_CWD). */
const userPath = (file: string): string => resolve(process.env.INIT_CWD ?? process.cwd(), file);

/** Exit codes of the CLI. */
export const ExitCode = { Ok: 0, SuiteFailed: 1, Usage: 2 } as const;

/** A bad command line found after parsing (an unknown suite, a stray argument): exit 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Where the CLI writes; tests pass collectors. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  progress?: ProgressSink;
  /**
   * Run each suite in its own process when several are selected (default true): V8's optimised
   * code is per process, and a suite that probed or drove an allocator leaves it slower for the next.
   */
  isolate?: boolean;
  /** Columns to lay tables and help out in (default: `COLUMNS`, else the terminal's width, else 100). */
  width?: number;
}

/** The width `io` writes at. */
const widthOf = (io: CliIo): number => io.width ?? outputWidth(process.env, process.stdout);


/**
 * Parses a count such as `--trace-synth 10M`: digits with an optional k/M/G suffix (x1000).
 *
 * @example
 * ```ts
 * parseCount("50M"); // 50000000
 * ```
 */
export function parseCount(text: string): number {
  const m = /^(\d+)([kKmMgG]?)$/.exec(text.trim());
  const scale = m === null ? 0 : { "": 1, k: 1e3, m: 1e6, g: 1e9 }[m[2]!.toLowerCase()]!;
  const value = m === null ? Number.NaN : Number(m[1]) * scale;
  if (!Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError(`must be a positive count such as 1000000 or 10M, got ${JSON.stringify(text)}`);
  return value;
}

/**
 * Parses `--seed`: a decimal or 0x-hex integer in [0, 2^32); anything else is a usage error naming it.
 *
 * @example
 * ```ts
 * parseSeed("0x2a");   // 42
 * ```
 */
export function parseSeed(text: string): number {
  const value = /^0x[0-9a-f]+$/i.test(text) ? Number.parseInt(text, 16) : /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value > 0xffffffff) throw new InvalidArgumentError(`seed must be an integer in [0, 4294967295] (decimal or 0x hex), got ${JSON.stringify(text)}`);
  return value;
}

function collectSuites(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(",").map((s) => s.trim()).filter((s) => s !== "")];
}

/** The suites, one per entry: name, "(default)" and the description wrapped under a hanging indent. */
function suiteList(entries: readonly SuiteEntry[], columns: number): string {
  const width = Math.max(...entries.map((e) => e.name.length)) + 4;
  return entries
    .map((e) => {
      const [first = "", ...rest] = wrap(`${e.default ? "(default) " : ""}${e.description}`, columns - width);
      return [`  ${e.name.padEnd(width - 2)}${first}`, ...rest.map((l) => `${" ".repeat(width)}${l}`)].join("\n");
    })
    .join("\n");
}

/**
 * Selects the suites to run: the named ones in registry order, or every default suite. O(suites).
 *
 * @example
 * ```ts
 * selectSuites(["direct-map", "floors"]).map((e) => e.name);   // ["floors", "direct-map"]
 * ```
 */
export function selectSuites(names: readonly string[], entries: readonly SuiteEntry[] = registry): SuiteEntry[] {
  if (names.length === 0) return entries.filter((e) => e.default);
  const unknown = names.filter((n) => !entries.some((e) => e.name === n));
  if (unknown.length > 0) {
    throw new UsageError(`unknown suite ${unknown.map((n) => JSON.stringify(n)).join(", ")}; the suites are: ${entries.map((e) => e.name).join(", ")}`);
  }
  return entries.filter((e) => names.includes(e.name));
}

function buildProgram(io: CliIo): Command {
  const width = widthOf(io);
  return new Command()
    .name("mmkit-bench")
    .description("mmkit's benchmark: allocators and their floors, timed in interleaved rounds in one process.\nWith no arguments: the default suites, about a minute.")
    .addOption(new Option("-s, --suite <name>", "run this suite (repeatable, or comma-separated)").argParser(collectSuites).default([], "the default suites"))
    .addOption(new Option("-q, --quick", "a short run: smaller machines, fewer rounds (a smoke test: seconds)"))
    .addOption(new Option("--json <file>", "also write every measurement to <file> (schema: apps/bench/README.md)"))
    .addOption(new Option("--html <file>", "also write a self-contained HTML report with charts to <file>"))
    .addOption(new Option("--compare <old.json>", "print the change of every measurement against an earlier run's --json file"))
    .addOption(new Option("--seed <n>", "seed of every random workload, decimal or 0x hex").argParser(parseSeed).default(DEFAULT_SEED, `0x${DEFAULT_SEED.toString(16)}`))
    .addOption(new Option("--system <name>", `build only this system in the systems and replay suites (repeatable, or comma-separated): ${SYSTEMS.map((s) => s.name).join(", ")}`).argParser(collectSuites).default([], "all"))
    .addOption(new Option("--trace <file>", "replay this trace file (repeatable; ftrace, trace-cmd, perf script or mmkit format, plain or gzip) instead of the Linux 6.1 fixture; alone, runs the replay suite").argParser((v: string, prev: string[]) => [...prev, v]).default([], "the 6.1 fixture"))
    .addOption(new Option("--trace-format <format>", "how to read --trace files").choices(["auto", "kernel", "mmkit"]).default("auto"))
    .addOption(new Option("--trace-lenient", "count and skip malformed trace lines (and lines that are not text) instead of stopping at the first"))
    .addOption(new Option("--trace-synth <events>", "replay a synthetic trace of this many events shaped like the 6.1 fixture (repeatable; 10M = 10,000,000); alone, runs the replay suite").argParser((v: string, prev: number[]) => [...prev, parseCount(v)]).default([], "none"))
    .addOption(new Option("--trace-memory <MiB>", "RAM of the systems replaying a trace: standard input always (read once); a file given it is read once too, else its scanned peak sizes the machine").argParser((v: string) => parseCount(v)))
    .addOption(new Option("--debug", "print errors with their stack"))
    .addOption(new Option("--system-file <file>", "add the systems and page allocators this module exports (.mjs, .js or .ts; contract in apps/bench/README.md) beside the shipped ones (repeatable)").argParser((v: string, prev: string[]) => [...prev, v]).default([], "none"))
        .addOption(new Option("--snapshots <dir>", "start trace replays from the /proc snapshots in <dir> (buddyinfo-before.txt, ...) and compare with the after ones (default: those beside the trace)"))
    .addOption(new Option("--no-snapshots", "do not start trace replays from /proc snapshots, even when they are beside the trace"))
    .addOption(new Option("-l, --list", "list the suites and exit"))
    .addHelpText("after", `\nSuites:\n${suiteList(registry, width)}\n\nExamples:\n  pnpm bench\n  pnpm bench --suite floors --quick --json floors.json\n  pnpm bench --html bench.html --compare floors.json\n`)
    .allowExcessArguments(true) // reported by parseCommandLine, with a hint
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err, getOutHelpWidth: () => width, getErrHelpWidth: () => width });
}

/**
 * Loads a suite and runs it; a suite that cannot be loaded becomes a failed result naming the build to run.
 *
 * @example
 * ```ts
 * const result = await loadAndRun(entry, { suite: [], quick: true, list: false, seed: DEFAULT_SEED }, silentProgress);
 * ```
 */
export async function loadAndRun(entry: SuiteEntry, options: CliOptions, progress: ProgressSink, earlier: readonly Measurement[] = []): Promise<SuiteResult> {
  let suite;
  try {
    suite = await entry.load();
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const hint = entry.packages.length > 0 ? ` (build its packages first: ${entry.packages.map((p) => `pnpm --filter ${p} build`).join(" && ")})` : "";
    return { name: entry.name, description: entry.description, seconds: 0, measurements: [], log: [], error: `could not load suite ${entry.name}: ${message}${hint}` };
  }
  for (const file of options.systemFile ?? []) await loadSystemFile(file);
  setSystemSelection({ systems: options.system ?? [], traces: options.trace ?? [], traceFormat: options.traceFormat ?? "auto", traceLenient: options.traceLenient === true, synth: options.traceSynth ?? [], ...(options.traceMemory !== undefined ? { traceMemory: options.traceMemory * MiB } : {}), ...(options.snapshots === undefined ? {} : { snapshots: options.snapshots }) });
  return runSuite(suite, { quick: options.quick, seed: options.seed, progress, earlier, debug: options.debug === true });
}

/**
 * Parses the arguments after `cli.ts` into options and the suites to run, or returns the exit code
 * when there is nothing to run (`--help`: 0; a usage error, printed to `io.err`: 2).
 *
 * @example
 * ```ts
 * const parsed = parseCommandLine(["--suite", "floors", "-q"], io);
 * if (typeof parsed !== "number") parsed.entries;   // [the floors entry]
 * ```
 */
export function parseCommandLine(args: readonly string[], io: CliIo): { options: CliOptions; entries: SuiteEntry[] } | number {
  const program = buildProgram(io);
  try {
    program.parse([...args], { from: "user" });
    const raw = program.opts<CliOptions>();
    const options: CliOptions = { ...raw, quick: raw.quick === true, list: raw.list === true, traceLenient: raw.traceLenient === true, debug: raw.debug === true };
    if (program.args.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(program.args[0])} (suites are selected with --suite <name>)`);
    options.systemFile = (options.systemFile ?? []).map((f) => resolve(process.env.INIT_CWD ?? process.cwd(), f));
    // Systems a --system-file adds are known once it is loaded (see main).
    const unknownSystems = options.systemFile.length > 0 ? [] : (options.system ?? []).filter((n) => !SYSTEMS.some((s) => s.name === n));
    if (unknownSystems.length > 0) throw new UsageError(`unknown system ${unknownSystems.map((n) => JSON.stringify(n)).join(", ")}; the systems are: ${SYSTEMS.map((s) => s.name).join(", ")}`);
    // Relative to where the user ran the command (`pnpm bench` runs in apps/bench; pnpm passes the original directory as INIT_CWD).
    options.trace = (options.trace ?? []).map((f) => (f === STDIN_PATH ? f : resolve(process.env.INIT_CWD ?? process.cwd(), f)));
    const missing = options.trace.filter((f) => f !== STDIN_PATH && !existsSync(f));
    if (missing.length > 0) throw new UsageError(`no such trace file ${missing.map((n) => JSON.stringify(n)).join(", ")}`);
    for (const f of options.trace) {
      try {
        checkTraceInput(f);
      } catch (e) {
        throw new UsageError(e instanceof Error ? e.message : String(e));
      }
    }
    if (typeof options.snapshots === "string") {
      options.snapshots = resolve(process.env.INIT_CWD ?? process.cwd(), options.snapshots);
      if (!hasSnapshots(options.snapshots)) throw new UsageError(`--snapshots ${JSON.stringify(options.snapshots)} holds no buddyinfo-before.txt (or buddyinfo-before, before/buddyinfo)`);
    }
    // Output files are checked now, so a bad path does not cost the whole run.
    for (const flag of ["json", "html"] as const) {
      if (options[flag] === undefined) continue;
      const reason = unwritableReason(userPath(options[flag]));
      if (reason !== undefined) throw new UsageError(`--${flag} ${JSON.stringify(options[flag])}: cannot write it: ${reason}`);
    }
    // A trace given without --suite means: replay it.
    const suites = options.suite.length === 0 && (options.trace.length > 0 || (options.traceSynth ?? []).length > 0) ? ["replay"] : options.suite;
    if (options.trace.includes(STDIN_PATH) && (suites.length !== 1 || options.trace.filter((f) => f === STDIN_PATH).length > 1)) {
      throw new UsageError("--trace - (standard input) can be read once: give it once, with the replay suite alone");
    }
    return { options, entries: selectSuites(suites) };
  } catch (e) {
    // Commander prints its own errors (and help) before throwing; ours are printed here.
    if (e instanceof UsageError) {
      io.err(`error: ${e.message}\n(see --help)\n`);
      return ExitCode.Usage;
    }
    if (e instanceof CommanderError) return e.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    throw e;
  }
}

/**
 * The `mmkit-bench` command: parses `args` (the arguments after `cli.ts`), runs the selected
 * suites one after another, prints a table per suite and writes the JSON report. Returns the exit
 * code: 0, 1 when a suite failed (the others still run and are reported), 2 for a usage error.
 *
 * @example
 * ```ts
 * process.exitCode = await main(["--suite", "floors", "--quick"]);
 * ```
 */
export async function main(args: readonly string[], io: CliIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }): Promise<number> {
  const parsed = parseCommandLine(args, io);
  if (typeof parsed === "number") return parsed;
  const { options, entries } = parsed;
  try {
    for (const file of options.systemFile ?? []) await loadSystemFile(file);
  } catch (e) {
    io.err(`error: --system-file ${e instanceof Error ? e.message : String(e)}\n`);
    return ExitCode.Usage;
  }
  const unknownSystems = (options.system ?? []).filter((n) => !allSystems().some((s) => s.name === n));
  if (unknownSystems.length > 0) {
    io.err(`error: unknown system ${unknownSystems.map((n) => JSON.stringify(n)).join(", ")}; the systems are: ${allSystems().map((s) => s.name).join(", ")}\n(see --help)\n`);
    return ExitCode.Usage;
  }
  if (options.list) {
    io.out(`${suiteList(registry, widthOf(io))}\n`);
    return ExitCode.Ok;
  }
  let old: BenchReport | undefined;
  if (options.compare !== undefined) {
    try {
      old = readReport(userPath(options.compare));
    } catch (e) {
      io.err(`error: --compare: ${e instanceof Error ? e.message : String(e)}\n`);
      return ExitCode.Usage;
    }
  }
  const metadata = runMetadata(args, options.quick, options.seed);
  const progress = io.progress ?? (progressWanted() ? progressBar() : silentProgress);
  const width = widthOf(io);
  io.out(`${wrap(`mmkit bench: node ${metadata.node}, ${metadata.cpuModel} x${metadata.cpuCount}, seed 0x${options.seed.toString(16)}${options.quick ? ", quick" : ""}`, width).join("\n")}\n`);
  io.out(`${wrap(`suites: ${entries.map((e) => e.name).join(", ")}`, width).join("\n")}\n`);
  const results: SuiteResult[] = [];
  const isolate = entries.length > 1 && io.isolate !== false;
  for (const entry of entries) {
    // Each suite sees what the suites before it recorded (the answers read the scale suite's curves).
    const earlier = results.flatMap((r) => r.measurements);
    const result = isolate ? await runSuiteInProcess(entry.name, entry.description, options, earlier) : await loadAndRun(entry, options, progress, earlier);
    results.push(result);
    io.out(`\n${wrap(`${result.name}: ${result.description} (${result.seconds.toFixed(1)} s)`, width).join("\n")}\n`);
    if (result.measurements.length > 0) io.out(`${renderTable(result, width)}\n`);
    for (const line of result.log) io.out(`${wrap(line, width - 2).map((l) => `  ${l}`).join("\n")}\n`);
    if (result.error !== undefined) io.err(`suite ${result.name} failed: ${result.error}\n`);
  }
  const report = buildReport(metadata, results);
  let unwritten = 0;
  // Checked before the run, but the disk can still fill or the directory go: say so, without a stack trace.
  const write = (flag: string, file: string, text: () => string, lead: string): void => {
    try {
      writeFileSync(file, text());
      io.out(`${lead}wrote ${file}\n`);
    } catch (e) {
      unwritten++;
      io.err(`error: --${flag}: could not write ${file}: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  };
  if (options.json !== undefined) write("json", userPath(options.json), () => `${JSON.stringify(report, null, 2)}\n`, "\n");
  if (options.html !== undefined) write("html", userPath(options.html), () => renderHtml(report), options.json === undefined ? "\n" : "");
  if (old !== undefined) io.out(`\n${renderComparison(compareMeasurements(old.measurements, report.measurements), options.compare!, old, report, width)}\n`);
  const failed = results.filter((r) => r.error !== undefined);
  if (unwritten > 0 && failed.length === 0) return ExitCode.SuiteFailed;
  if (failed.length > 0) {
    io.err(`${failed.length} suite(s) failed: ${failed.map((r) => r.name).join(", ")}\n`);
    return ExitCode.SuiteFailed;
  }
  return ExitCode.Ok;
}

import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { parseSeed } from "@mmkit/bench/src/command.js";
import { progressBar, progressWanted, silentProgress, type ProgressSink } from "@mmkit/bench/src/harness/progress.js";
import { registeredSoaks, selectSoaks } from "./registry.js";
import { formatFailure, formatSummary } from "./report.js";
import { runSoak, type SoakResult } from "./runner.js";
import "./soaks/index.js";

/** The seed of a run without `--seed`: "soak" in ASCII, so two plain runs are the same run. */
export const DEFAULT_SOAK_SEED = 0x736f616b;

/** Exit codes: 0 every soak passed, 1 a soak diverged, 2 a usage error. */
export const SoakExit = { Ok: 0, Diverged: 1, Usage: 2 } as const;

/** Where the command writes; tests pass collectors. */
export interface SoakIo {
  out(text: string): void;
  err(text: string): void;
  progress?: ProgressSink;
}

/** What the command line chose. */
export interface SoakCliOptions {
  ops?: number;
  scale: number;
  seed: number;
  only: string[];
  checkEvery: number;
  shrinkSeconds: number;
  list: boolean;
}

function positiveInteger(name: string): (text: string) => number {
  return (text) => {
    const v = Number(text.replace(/_/g, ""));
    if (!/^[\d_]+$/.test(text) || !Number.isSafeInteger(v) || v < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got ${JSON.stringify(text)}`);
    return v;
  };
}

function positiveNumber(name: string): (text: string) => number {
  return (text) => {
    const v = Number(text);
    if (text.trim() === "" || !Number.isFinite(v) || v <= 0) throw new InvalidArgumentError(`${name} must be a positive number, got ${JSON.stringify(text)}`);
    return v;
  };
}

function program(io: SoakIo): Command {
  return new Command()
    .name("mmkit-soak")
    .description("Seeded, long, model-checked soaks of every allocator package and of whole bench systems, with fault injection and memory failure.\nWith no arguments: every soak at its default length, about 5 minutes on 2 cores.")
    .addOption(new Option("--ops <n>", "operations per soak (default: each soak's own, see --list)").argParser(positiveInteger("--ops")))
    .addOption(new Option("--scale <x>", "multiply every soak's default operations by x (e.g. 0.1 for a quick run, 10 for a night)").argParser(positiveNumber("--scale")).default(1))
    .addOption(new Option("--seed <n>", "seed of every soak, decimal or 0x hex").argParser(parseSeed).default(DEFAULT_SOAK_SEED, `0x${DEFAULT_SOAK_SEED.toString(16)}`))
    .addOption(new Option("--only <name>", "run only this soak, or every soak of this package (repeatable, or comma-separated)").argParser((v: string, prev: string[]) => [...prev, ...v.split(",").map((s) => s.trim()).filter((s) => s !== "")]).default([], "every soak"))
    .addOption(new Option("--check-every <n>", "run check() and compare with the model every n operations").argParser(positiveInteger("--check-every")).default(1000))
    .addOption(new Option("--shrink-seconds <s>", "time the shrinker may spend on a failing run").argParser(positiveNumber("--shrink-seconds")).default(60))
    .addOption(new Option("-l, --list", "list the soaks and exit"))
    .addHelpText("after", "\nExamples:\n  pnpm soak\n  pnpm soak --only potad --ops 5000000\n  pnpm soak --only system:memdesc --seed 0x2a\n  pnpm soak --scale 0.05\n")
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
}

/**
 * The `mmkit-soak` command (`pnpm soak`): runs the selected soaks one after another, prints
 * operations per second for each and a summary, and on a divergence the seed, where it happened
 * and the shortest failing sequence. Returns the exit code (see {@link SoakExit}).
 *
 * @example
 * ```ts
 * process.exitCode = main(["--only", "buddy", "--ops", "100000"]);
 * ```
 */
export function main(args: readonly string[], io: SoakIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }): number {
  let options: SoakCliOptions;
  let selected;
  try {
    const p = program(io);
    p.parse([...args], { from: "user" });
    options = p.opts<SoakCliOptions>();
    if (p.args.length > 0) {
      io.err(`error: unexpected argument ${JSON.stringify(p.args[0])} (soaks are selected with --only <name>)\n`);
      return SoakExit.Usage;
    }
    selected = selectSoaks(options.only);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? SoakExit.Ok : SoakExit.Usage;
    io.err(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    return SoakExit.Usage;
  }
  if (options.list === true) {
    const width = Math.max(...registeredSoaks().map((s) => s.name.length));
    for (const s of registeredSoaks()) io.out(`  ${s.name.padEnd(width)}  ${String(s.defaultOps).padStart(9)} ops  ${s.description}\n`);
    return SoakExit.Ok;
  }
  const progress = io.progress ?? (progressWanted() ? progressBar({ delayMs: 0 }) : silentProgress);
  const results: SoakResult[] = [];
  io.out(`soak: ${selected.length} soak(s), seed 0x${options.seed.toString(16)}, check() every ${options.checkEvery} operations\n`);
  for (const soak of selected) {
    const ops = options.ops ?? Math.max(1, Math.round(soak.defaultOps * options.scale));
    progress.start(soak.name);
    const started = performance.now();
    const result = runSoak(soak, {
      ops,
      seed: options.seed,
      checkEvery: options.checkEvery,
      shrinkSeconds: options.shrinkSeconds,
      onProgress: (done) => progress.update(`ops, ${Math.round((done * 1000) / Math.max(performance.now() - started, 1)).toLocaleString("en-US")} ops/s`, done, ops),
    });
    progress.stop();
    results.push(result);
    io.out(`${result.failure === null ? "ok  " : "FAIL"} ${soak.name.padEnd(16)} ${String(result.ops).padStart(10)} ops ${result.seconds.toFixed(1).padStart(7)} s ${Math.round(result.opsPerSecond).toLocaleString("en-US").padStart(11)} ops/s  ${result.checks} checks\n`);
    if (result.failure !== null) io.out(formatFailure(soak, result, ops));
  }
  io.out(formatSummary(results));
  return results.some((r) => r.failure !== null) ? SoakExit.Diverged : SoakExit.Ok;
}

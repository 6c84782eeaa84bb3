import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CliOptions } from "../cli-options.js";
import type { SuiteResult } from "./runner.js";
import type { Measurement } from "./types.js";

const SCRIPT = fileURLToPath(new URL("./suite-process.ts", import.meta.url));
// apps/bench, where `tsx` resolves from.
const BENCH_DIR = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Runs the suite `name` in a fresh Node process (with `--import tsx`, from apps/bench) and returns
 * its result; `earlier` (what the suites before it recorded) becomes its context's `earlier`. Its terminal output (the progress bar) goes to this
 * process's stderr; a crash becomes a failed result, never a crash of the bench.
 */
export async function runSuiteInProcess(name: string, description: string, options: CliOptions, earlier: readonly Measurement[] = []): Promise<SuiteResult> {
  const dir = mkdtempSync(join(tmpdir(), "mmkit-bench-"));
  try {
    const optionsFile = join(dir, "options.json");
    const outFile = join(dir, "result.json");
    const earlierFile = join(dir, "earlier.json");
    writeFileSync(optionsFile, JSON.stringify(options));
    writeFileSync(earlierFile, JSON.stringify(earlier));
    const code = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ["--import", "tsx", SCRIPT, name, optionsFile, outFile, earlierFile], { cwd: BENCH_DIR, stdio: ["ignore", "inherit", "inherit"] });
      child.on("error", () => resolve(-1));
      child.on("exit", (c, signal) => resolve(c ?? (signal !== null ? -1 : 0)));
    });
    try {
      return JSON.parse(readFileSync(outFile, "utf8")) as SuiteResult;
    } catch {
      return { name, description, seconds: 0, measurements: [], log: [], error: `suite ${name} exited with code ${code} before reporting a result` };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

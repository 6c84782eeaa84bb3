/**
 * Runs one suite in a process of its own and writes its result as JSON to a file. The CLI starts
 * one of these per suite when it runs several, because V8's optimised code is per process: a suite
 * that probed an allocator with Proxies (ProbingArena), or drove it through other call sites, leaves
 * that allocator's code slower for every suite that runs after it in the same process.
 *
 * Usage (internal): node --import tsx src/harness/suite-process.ts <suite> <options.json> <out.json> [<earlier.json>]
 */
import { readFileSync, writeFileSync } from "node:fs";
import type { CliOptions } from "../cli-options.js";
import { loadAndRun } from "../command.js";
import { suites } from "../suites/index.js";
import { progressBar, progressWanted, silentProgress } from "./progress.js";
import type { Measurement } from "./types.js";

const [name, optionsFile, outFile, earlierFile] = process.argv.slice(2);
const entry = suites.find((s) => s.name === name);
if (entry === undefined || optionsFile === undefined || outFile === undefined) {
  process.stderr.write(`suite-process: usage: <suite> <options.json> <out.json> (got ${JSON.stringify(process.argv.slice(2))})\n`);
  process.exit(2);
}
const options = JSON.parse(readFileSync(optionsFile, "utf8")) as CliOptions;
// What the suites before this one recorded (absent: none).
const earlier = earlierFile === undefined ? [] : (JSON.parse(readFileSync(earlierFile, "utf8")) as Measurement[]);
const result = await loadAndRun(entry, options, progressWanted() ? progressBar() : silentProgress, earlier);
writeFileSync(outFile, JSON.stringify(result));

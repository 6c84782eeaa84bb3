import { cpus } from "node:os";
import type { RunMetadata } from "./json.js";

/**
 * Metadata of this process's run: Node and V8 versions, platform, CPU model and count, the date,
 * and the CLI arguments, quick flag and seed given.
 *
 * @example
 * ```ts
 * runMetadata(["--quick"], true, DEFAULT_SEED).cpuCount;   // 2 on the CI machine
 * ```
 */
export function runMetadata(argv: readonly string[], quick: boolean, seed: number, date = new Date()): RunMetadata {
  const cpuList = cpus();
  return {
    date: date.toISOString(),
    node: process.version,
    v8: process.versions.v8,
    platform: process.platform,
    arch: process.arch,
    cpuModel: cpuList[0]?.model.trim() ?? "unknown",
    cpuCount: cpuList.length,
    argv: [...argv],
    quick,
    seed,
  };
}

import { formatOp } from "./ops.js";
import type { SoakResult } from "./runner.js";
import type { Soak } from "./soak.js";

/**
 * What a divergence prints: the seed and where it happened, the error, the shortest failing
 * sequence (each operation, then what it concretely did), and the command that reproduces it.
 *
 * @example
 * ```ts
 * io.out(formatFailure(soak, result, 1_000_000));
 * ```
 */
export function formatFailure(soak: Soak, result: SoakResult, requestedOps: number): string {
  const f = result.failure!;
  const lines = [
    `  ${soak.name} diverged: seed 0x${f.seed.toString(16)} (${f.seed}), in the ${f.phase} after operation ${f.atOps} of ${requestedOps}`,
    `  ${f.message}`,
    `  shortest failing sequence: ${f.shortest.length} operation(s) (shrunk from ${f.atOps} in ${f.replays} replays${f.shrinkTimedOut ? ", stopped at the time budget" : ""}), then check() and the final drain:`,
  ];
  f.shortest.forEach((op, i) => lines.push(`    ${String(i + 1).padStart(4)}. ${formatOp(soak, op).padEnd(42)} ${f.trace[i] ?? ""}`));
  lines.push(`  which fails with: ${f.shortestMessage}`);
  lines.push(`  reproduce: pnpm soak --only ${soak.name} --seed ${f.seed} --ops ${f.atOps}`);
  return `${lines.join("\n")}\n`;
}

/**
 * The closing table: one line per soak (operations, seconds, operations per second, result) and the totals.
 *
 * @example
 * ```ts
 * io.out(formatSummary(results));
 * ```
 */
export function formatSummary(results: readonly SoakResult[]): string {
  const width = Math.max(4, ...results.map((r) => r.name.length));
  const lines = ["", `${"soak".padEnd(width)}  ${"ops".padStart(11)}  ${"seconds".padStart(8)}  ${"ops/s".padStart(11)}  result`];
  let ops = 0;
  let seconds = 0;
  for (const r of results) {
    ops += r.ops;
    seconds += r.seconds;
    lines.push(`${r.name.padEnd(width)}  ${r.ops.toLocaleString("en-US").padStart(11)}  ${r.seconds.toFixed(1).padStart(8)}  ${Math.round(r.opsPerSecond).toLocaleString("en-US").padStart(11)}  ${r.failure === null ? "ok" : `FAILED (seed ${r.seed}, op ${r.failure.atOps})`}`);
  }
  const failed = results.filter((r) => r.failure !== null).length;
  lines.push(`${"total".padEnd(width)}  ${ops.toLocaleString("en-US").padStart(11)}  ${seconds.toFixed(1).padStart(8)}  ${"".padStart(11)}  ${failed === 0 ? "all passed" : `${failed} of ${results.length} diverged`}`);
  return `${lines.join("\n")}\n`;
}

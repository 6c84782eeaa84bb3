import { basename } from "node:path";
import type { SuiteContext } from "../harness/types.js";
import { HISTOGRAM_METRIC } from "../report/charts.js";
import { ANSWER_METRIC } from "../report/table.js";
import { selectedTraces, systemSelection } from "../systems/selection.js";
import { counterDistance, hasSnapshots, renderCompared, renderCounters, share, snapshotDirOf, runKernelComparison, type KernelRun } from "../trace/snapshot/index.js";

/**
 * The system name the snapshot replay records under: the buddy model laid out as the kernel was.
 *
 * @example
 * ```ts
 * report.measurements.filter((m) => m.system === KERNEL_MODEL);
 * ```
 */
export const KERNEL_MODEL = "buddy from snapshot";

/**
 * Layout seeds of a snapshot replay: 0 (the documented address-ordered layout, the headline
 * figures) and `count - 1` seeds drawn from the run's seed, whose spread says how much the
 * unknown placement of free blocks moves the distances.
 *
 * @example
 * ```ts
 * layoutSeeds(0x6d6d6b74, 3); // [0, 1835101045, 1835101046]
 * ```
 */
export function layoutSeeds(seed: number, count: number): number[] {
  return [0, ...Array.from({ length: count - 1 }, (_, i) => ((seed + 1 + i) >>> 0) || 1)];
}

/**
 * Where the snapshots of `tracePath` are: `--snapshots <dir>`, beside the trace, or nowhere (null;
 * also with `--no-snapshots`). O(1) stat calls.
 *
 * @example
 * ```ts
 * snapshotDirFor(DEFAULT_TRACE); // ".../fixtures/traces/linux-6.1-small"
 * ```
 */
export function snapshotDirFor(tracePath: string): string | null {
  const chosen = systemSelection().snapshots;
  if (chosen === false) return null;
  if (typeof chosen === "string") return chosen;
  const beside = snapshotDirOf(tracePath);
  return hasSnapshots(beside) ? beside : null;
}

/**
 * Replays `tracePath` from its kernel's before-snapshot (when there is one) and records the end
 * beside the after-snapshot: the four distances (pages, note: share of free memory and the spread
 * over layout seeds), the start distance, free and per-CPU pages and the vmstat counters for kernel
 * and model, the buddyinfo histograms (metric `free blocks`, `at` = order, drawn side by side in
 * the HTML report), as log lines the tables, the causes the trace cannot show, the warnings and
 * the verdict, and the verdict again as an `answer` measurement (value: the buddyinfo distance as a
 * percentage of the kernel's free pages). Quick runs use 2 layout seeds, full runs 5. Returns the run, or null without snapshots.
 *
 * @example
 * ```ts
 * await recordKernelComparison(ctx, DEFAULT_TRACE);
 * ```
 */
export async function recordKernelComparison(ctx: SuiteContext, tracePath: string): Promise<KernelRun | null> {
  if (tracePath === "-") {
    // The snapshot replay reads the trace twice (footprint, then replay): standard input cannot be.
    if (typeof systemSelection().snapshots === "string") ctx.log("standard input is read once: no replay from the /proc snapshots (save the trace to a file)");
    return null;
  }
  const dir = snapshotDirFor(tracePath);
  const name = basename(tracePath);
  if (dir === null) {
    if (systemSelection().snapshots !== false) ctx.log(`${name}: no /proc snapshots beside it (buddyinfo-before.txt ...): replayed from an empty machine only`);
    return null;
  }
  const selection = systemSelection();
  const run = await runKernelComparison(tracePath, dir, { format: selection.traceFormat, lenient: selection.traceLenient }, layoutSeeds(ctx.seed, ctx.quick ? 2 : 5));
  const workload = `kernel ${name}`;
  const first = run.replays[0]!;
  ctx.record({ system: KERNEL_MODEL, workload, metric: "start distance", value: first.startDistance, unit: "pages", note: "0: the before-snapshot laid out exactly" });
  ctx.record({ system: KERNEL_MODEL, workload, metric: "pre-capture blocks", value: first.replay.preludeAllocs, unit: "count", note: `${run.footprint.precapturePages.reduce((a, b) => a + b, 0)} pages the trace frees but never allocated` });
  ctx.record({ system: KERNEL_MODEL, workload, metric: "model failures", value: first.replay.report.sutFailures, unit: "count", note: "allocations the kernel served and the model could not" });
  const c = first.comparison;
  if (c !== null) {
    const seeds = run.replays.map((r) => r.comparison!);
    const spread = (pick: (x: NonNullable<typeof c>) => number): string => {
      const v = seeds.map(pick);
      return `${share(pick(c), c.kernelFreePages)} of free memory; ${seeds.length} layout seeds: ${Math.min(...v)}..${Math.max(...v)}`;
    };
    ctx.record({ system: KERNEL_MODEL, workload, metric: "distance buddyinfo", value: c.buddyinfo.distancePages, unit: "pages", note: spread((x) => x.buddyinfo.distancePages) });
    ctx.record({ system: KERNEL_MODEL, workload, metric: "distance free by type", value: c.freeByType.distancePages, unit: "pages", note: spread((x) => x.freeByType.distancePages) });
    ctx.record({ system: KERNEL_MODEL, workload, metric: "distance pageblocks", value: c.pageblocks.distancePages, unit: "pages", note: spread((x) => x.pageblocks.distancePages) });
    ctx.record({ system: KERNEL_MODEL, workload, metric: "distance nr_free_pages", value: c.freePages.distancePages, unit: "pages", note: spread((x) => x.freePages.distancePages) });
    const empty = run.allFree.comparison;
    if (empty !== null) {
      const note = "the same replay from an all-free machine of the same zones (as at boot, nothing before the capture)";
      ctx.record({ system: "buddy from all-free", workload, metric: "distance buddyinfo", value: empty.buddyinfo.distancePages, unit: "pages", note: `${share(empty.buddyinfo.distancePages, empty.kernelFreePages)} of free memory; ${note}` });
      ctx.record({ system: "buddy from all-free", workload, metric: "distance free by type", value: empty.freeByType.distancePages, unit: "pages", note: share(empty.freeByType.distancePages, empty.kernelFreePages) });
      ctx.record({ system: "buddy from all-free", workload, metric: "distance pageblocks", value: empty.pageblocks.distancePages, unit: "pages", note: share(empty.pageblocks.distancePages, empty.kernelFreePages) });
      ctx.record({ system: "buddy from all-free", workload, metric: "distance nr_free_pages", value: empty.freePages.distancePages, unit: "pages", note: share(empty.freePages.distancePages, empty.kernelFreePages) });
    }
    for (const row of c.freePages.rows) {
      ctx.record({ system: "kernel after", workload, metric: `free pages ${row.label}`, value: row.kernel[0]!, unit: "pages" });
      ctx.record({ system: KERNEL_MODEL, workload, metric: `free pages ${row.label}`, value: row.model[0]!, unit: "pages" });
      ctx.record({ system: "kernel after", workload, metric: `per-CPU pages ${row.label}`, value: row.kernel[1]!, unit: "pages" });
      ctx.record({ system: KERNEL_MODEL, workload, metric: `per-CPU pages ${row.label}`, value: row.model[1]!, unit: "pages" });
    }
    for (const r of run.counters) {
      if (r.kernelDelta !== null) ctx.record({ system: "kernel after", workload, metric: r.name, value: r.kernelDelta, unit: "pages", note: "vmstat after - before" });
      ctx.record({ system: KERNEL_MODEL, workload, metric: r.name, value: r.model, unit: "pages", note: `the trace holds ${r.traced}` });
    }
    // The buddyinfo histograms, before and after, kernel and model: one series per zone and system, `at` = order.
    run.before.zones.forEach((z, n) => {
      const zw = `${name} ${z.label}`;
      const put = (system: string, blocks: readonly number[]): void => blocks.forEach((b, o) => ctx.record({ system, workload: zw, metric: HISTOGRAM_METRIC, value: b, unit: "blocks", at: o }));
      put("kernel before", z.buddyinfo.freeBlocks);
      put("kernel after", c.buddyinfo.rows[n]!.kernel);
      put(KERNEL_MODEL, c.buddyinfo.rows[n]!.model);
      if (empty !== null) put("buddy from all-free", empty.buddyinfo.rows[n]!.model);
    });
    ctx.log(`${name}, replayed from its /proc snapshot (${dir}) against the kernel's after-snapshot:`);
    for (const t of [c.buddyinfo, c.freeByType, c.pageblocks, c.freePages]) for (const line of renderCompared(t, c.kernelFreePages)) ctx.log(line);
    if (run.counters.some((r) => r.kernelDelta !== null)) {
      for (const line of renderCounters(run.counters)) ctx.log(line);
      ctx.record({ system: KERNEL_MODEL, workload, metric: "distance vmstat counters", value: counterDistance(run.counters), unit: "pages", note: run.counters.map((r) => r.name).join(", ") });
    }
    ctx.log("What the trace cannot show:");
    for (const line of run.causes) ctx.log(`- ${line}`);
  }
  for (const w of run.warnings) ctx.log(`warning: ${w}`);
  ctx.log(run.verdict);
  // The verdict as an answer (a row across the table; "The answers" of the HTML report): the share
  // of the kernel's free memory that the buddyinfo distance is.
  if (c !== null) {
    ctx.record({ system: KERNEL_MODEL, workload, metric: ANSWER_METRIC, value: (100 * c.buddyinfo.distancePages) / c.kernelFreePages, unit: "%", note: `How close does the buddy model end to the kernel whose /proc snapshot it started from?\n${run.verdict}` });
  }
  return run;
}

/**
 * {@link recordKernelComparison} for every selected trace (`--trace`, default the Linux 6.1
 * fixture), after the suite's own replays. Returns the runs made.
 *
 * @example
 * ```ts
 * await recordKernelComparisons(ctx);
 * ```
 */
export async function recordKernelComparisons(ctx: SuiteContext): Promise<KernelRun[]> {
  const runs: KernelRun[] = [];
  for (const path of selectedTraces()) {
    const run = await recordKernelComparison(ctx, path);
    if (run !== null) runs.push(run);
  }
  return runs;
}

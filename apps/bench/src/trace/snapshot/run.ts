import { basename } from "node:path";
import type { TraceParserOptions } from "../parser.js";
import { TraceEventBatch } from "../event-batch.js";
import { streamTraceBatches } from "../read-file.js";
import { formatWarning, type SnapshotWarning } from "./errors.js";
import { compareTables, counterRows, distances, startDistance, unseenCauses, verdict, type CounterRow, type DistanceSet, type KernelComparison } from "./kernel-compare.js";
import { replayFromKernelStart, type KernelReplay } from "./kernel-replay.js";
import { buildAllFreeStart, buildKernelStart, type KernelStart } from "./kernel-start.js";
import { loadSnapshot } from "./load.js";
import { checkSamePlatform, checkSnapshot, type CheckedSnapshot } from "./snapshot-set.js";
import { TraceFootprint } from "./trace-footprint.js";

/** Events of a trace the comparison keeps in memory (31 MiB) to replay every seed without reading it again. */
export const HOLD_EVENTS = 1 << 20;

/** One replay of the trace from one layout of the before-snapshot. */
export interface SeededReplay {
  layoutSeed: number;
  start: KernelStart;
  /** Distance of the built start from the before-snapshot, in pages (0: laid out exactly). */
  startDistance: number;
  replay: KernelReplay;
  /** The model beside the after-snapshot (null when there is none). */
  comparison: KernelComparison | null;
}

/** A trace replayed from its kernel's before-snapshot and compared with the after-snapshot. */
export interface KernelRun {
  traceName: string;
  snapshotDir: string;
  before: CheckedSnapshot;
  after: CheckedSnapshot | null;
  footprint: TraceFootprint;
  /** The replays, layout seed 0 (the documented address-ordered layout) first. */
  replays: SeededReplay[];
  /** The same trace replayed from an all-free machine of the same zones (the baseline; `layoutSeed` -1). */
  allFree: SeededReplay;
  /** Every warning of the snapshots, the trace and the layout, formatted `file line N: ...`. */
  warnings: string[];
  counters: CounterRow[];
  /** Which differences come from what the trace cannot show. */
  causes: string[];
  verdict: string;
}

/**
 * Replays the trace at `tracePath` from the kernel state its before-snapshot in `snapshotDir`
 * describes, once per layout seed, and compares each end with the after-snapshot. Reads the
 * snapshots, checks them against each other and against the trace (errors and warnings naming
 * file and line), streams the trace once for its footprint, then replays it once per seed and once
 * more from an all-free machine of the same zones (the baseline the snapshot start beats): from
 * memory when it has at most `holdEvents` events (kept from the first pass, 31 bytes each), else
 * streamed from the file again each time.
 * Cost: O(trace) per seed plus O(spanned pages) per start; memory O(min(events, holdEvents)).
 *
 * @example
 * ```ts
 * const run = await runKernelComparison("fixtures/traces/linux-6.1-small/trace.txt.gz", "fixtures/traces/linux-6.1-small", {}, [0, 1, 2]);
 * console.log(run.verdict);
 * ```
 */
export async function runKernelComparison(tracePath: string, snapshotDir: string, parse: TraceParserOptions, layoutSeeds: readonly number[], holdEvents = HOLD_EVENTS): Promise<KernelRun> {
  const raw: SnapshotWarning[] = [];
  const before = checkSnapshot(loadSnapshot(snapshotDir, "before", raw));
  let after: CheckedSnapshot | null = null;
  try {
    after = checkSnapshot(loadSnapshot(snapshotDir, "after", raw));
  } catch (e) {
    if ((e as { code?: string }).code !== "ERR_SNAPSHOT_MISSING" || !/buddyinfo/.test((e as Error).message)) throw e;
    raw.push({ file: "buddyinfo-after.txt", line: 0, message: `no after-snapshot in ${snapshotDir}: the replay starts from the kernel's state but has nothing to end beside` });
  }
  if (after !== null) checkSamePlatform(before, after);
  const warnings = [...raw, ...before.warnings, ...(after?.warnings ?? [])].map(formatWarning);
  const traceName = basename(tracePath);
  const footprint = new TraceFootprint(
    before.zones.map((z) => ({ name: z.label, startPfn: z.zoneinfo.startPfn, endPfn: z.zoneinfo.startPfn + z.zoneinfo.spanned })),
    traceName,
  );
  // A trace of up to `holdEvents` events is kept (31 bytes an event) and replayed from memory for
  // every seed and the baseline; a longer one is streamed from the file again for each.
  let held: TraceEventBatch | null = new TraceEventBatch(0);
  await streamTraceBatches(
    tracePath,
    (batch) => {
      footprint.applyBatch(batch);
      if (held !== null && held.length + batch.length <= holdEvents) held.append(batch);
      else held = null;
    },
    parse,
  );
  const trace = held ?? tracePath;
  const replays: SeededReplay[] = [];
  for (const layoutSeed of layoutSeeds) {
    const start = buildKernelStart(before, footprint, layoutSeed);
    if (replays.length === 0) warnings.push(...start.warnings.map(formatWarning));
    const distance0 = startDistance(before, start.buddy);
    const replay = await replayFromKernelStart(trace, parse, start, footprint);
    start.buddy.check();
    replays.push({ layoutSeed, start, startDistance: distance0, replay, comparison: after === null ? null : compareTables(after, start.buddy) });
  }
  const first = replays[0]!;
  const emptyStart = buildAllFreeStart(first.start);
  const emptyReplay = await replayFromKernelStart(trace, parse, emptyStart, footprint);
  emptyStart.buddy.check();
  const allFree: SeededReplay = { layoutSeed: -1, start: emptyStart, startDistance: startDistance(before, emptyStart.buddy), replay: emptyReplay, comparison: after === null ? null : compareTables(after, emptyStart.buddy) };
  const counters = after === null ? [] : counterRows(before, after, first.replay, footprint);
  const causes = after === null || first.comparison === null ? [] : unseenCauses(before, after, first.start, first.replay, footprint, first.comparison);
  const seeds: DistanceSet[] = replays.filter((r) => r.comparison !== null).map((r) => distances(r.comparison!));
  const text = first.comparison === null ? `${traceName}: replayed from the kernel's before-snapshot (start distance ${first.startDistance} pages); no after-snapshot to compare with.` : verdict(traceName, first.comparison, first.startDistance, seeds, counters, allFree.comparison);
  return { traceName, snapshotDir, before, after, footprint, replays, allFree, warnings, counters, causes, verdict: text };
}

import { fileURLToPath } from "node:url";
import { dirname, resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { parseCommandLine } from "../../src/command.js";
import type { Measurement, SuiteContext } from "../../src/harness/types.js";
import { DEFAULT_TRACE, setSystemSelection, systemSelection } from "../../src/systems/index.js";
import { KERNEL_MODEL, layoutSeeds, recordKernelComparison, recordKernelComparisons, snapshotDirFor } from "../../src/workloads/kernel-start-replay.js";

const DIR_OF_FIXTURE = dirname(DEFAULT_TRACE);
const MMKIT_TRACE = fileURLToPath(new URL("../../fixtures/traces/mmkit-basic.trace", import.meta.url));

function collect(): { io: { out: (t: string) => void; err: (t: string) => void }; err: string[] } {
  const err: string[] = [];
  return { io: { out: () => {}, err: (t) => void err.push(t) }, err };
}

/** A SuiteContext that keeps what is recorded and logged (no timing). */
function recordingContext(): { ctx: SuiteContext; measurements: Measurement[]; log: string[] } {
  const measurements: Measurement[] = [];
  const log: string[] = [];
  const ctx: SuiteContext = {
    quick: true,
    earlier: [],
    seed: 0x6d6d6b74,
    time: () => {
      throw new Error("not timed here");
    },
    record: (m) => void measurements.push({ suite: "replay", ...m }),
    progress: () => {},
    log: (line) => void log.push(line),
  };
  return { ctx, measurements, log };
}

function withSelection<T>(snapshots: string | false | undefined, fn: () => T): T {
  const saved = systemSelection();
  setSystemSelection({ systems: [], traces: [], traceFormat: "auto", traceLenient: false, ...(snapshots === undefined ? {} : { snapshots }) });
  try {
    return fn();
  } finally {
    setSystemSelection(saved);
  }
}

describe("--snapshots and --no-snapshots", () => {
  test("parse into the options; a directory without a before-snapshot is a usage error naming it", () => {
    const { io } = collect();
    const parsed = parseCommandLine(["--snapshots", "fixtures/traces/linux-6.1-small"], io);
    if (typeof parsed === "number") throw new Error(`exit ${parsed}`);
    expect(parsed.options.snapshots).toBe(resolve(process.env.INIT_CWD ?? process.cwd(), "fixtures/traces/linux-6.1-small"));
    const off = parseCommandLine(["--no-snapshots"], io);
    expect(typeof off !== "number" && off.options.snapshots).toBe(false);
    const bad = collect();
    expect(parseCommandLine(["--snapshots", "fixtures/traces"], bad.io)).toBe(2);
    expect(bad.err.join("")).toContain(`--snapshots "${resolve(process.env.INIT_CWD ?? process.cwd(), "fixtures/traces")}" holds no buddyinfo-before.txt`);
  });

  test("where the snapshots of a trace are found", () => {
    expect(withSelection(undefined, () => snapshotDirFor(DEFAULT_TRACE))).toBe(dirname(DEFAULT_TRACE));
    expect(withSelection(undefined, () => snapshotDirFor(MMKIT_TRACE))).toBeNull();
    expect(withSelection(false, () => snapshotDirFor(DEFAULT_TRACE))).toBeNull();
    expect(withSelection("/some/dir", () => snapshotDirFor(MMKIT_TRACE))).toBe("/some/dir");
    expect(layoutSeeds(0x6d6d6b74, 3)).toEqual([0, 0x6d6d6b75, 0x6d6d6b76]);
    expect(layoutSeeds(0xffffffff, 2)).toEqual([0, 1]);
  });

  test("the replay records the distances, the counters and the buddyinfo histograms", async () => {
    const { ctx, measurements, log } = recordingContext();
    const saved = systemSelection();
    setSystemSelection({ systems: [], traces: [], traceFormat: "auto", traceLenient: false });
    try {
      await recordKernelComparison(ctx, DEFAULT_TRACE);
    } finally {
      setSystemSelection(saved);
    }
    const value = (system: string, metric: string): number | undefined => measurements.find((m) => m.system === system && m.metric === metric && m.at === undefined)?.value;
    expect(value(KERNEL_MODEL, "start distance")).toBe(0);
    expect(value(KERNEL_MODEL, "distance buddyinfo")).toBe(3220);
    expect(value(KERNEL_MODEL, "distance free by type")).toBe(4000);
    expect(value(KERNEL_MODEL, "distance pageblocks")).toBe(0);
    expect(value(KERNEL_MODEL, "distance nr_free_pages")).toBe(1100);
    expect(value("kernel after", "pgalloc_dma32")).toBe(13741);
    expect(value(KERNEL_MODEL, "pgalloc_dma32")).toBe(13497);
    expect(value("kernel after", "per-CPU pages DMA32")).toBe(5160);
    // |13741 - 13497| + |0 - 0| + |13672 - 13791|
    expect(value(KERNEL_MODEL, "distance vmstat counters")).toBe(244 + 119);
    expect(log).toContain("vmstat counters over the capture (pages): distance 363 pages");
    expect(log).toContain("pgalloc_dma32    13741    13497    13497");
    const histogram = measurements.filter((m) => m.metric === "free blocks" && m.workload === "trace.txt.gz DMA32" && m.system === "kernel after");
    expect(histogram.map((m) => [m.at, m.value])).toEqual([1, 1, 2, 1, 3, 2, 1, 1, 2, 2, 214].map((v, o) => [o, v]));
    expect(measurements.filter((m) => m.metric === "free blocks")).toHaveLength(2 * 4 * 11);
    expect(value("buddy from all-free", "distance buddyinfo")).toBe(33699);
    expect(log.at(-1)).toMatch(/^Verdict \(trace\.txt\.gz\): started from the kernel's before-snapshot \(start distance 0 pages\)/);
    expect(log).toContain("What the trace cannot show:");
    const answer = measurements.find((m) => m.metric === "answer")!;
    expect(answer.value).toBeCloseTo((100 * 3220) / 224803, 10);
    expect(answer.note).toBe(`How close does the buddy model end to the kernel whose /proc snapshot it started from?\n${log.at(-1)}`);
  });

  test("without snapshots, nothing is recorded and the log says why", async () => {
    const { ctx, measurements, log } = recordingContext();
    const run = await withSelection(undefined, () => recordKernelComparison(ctx, MMKIT_TRACE));
    expect(run).toBeNull();
    expect(measurements).toEqual([]);
    expect(log).toEqual(["mmkit-basic.trace: no /proc snapshots beside it (buddyinfo-before.txt ...): replayed from an empty machine only"]);
    const stdin = recordingContext();
    expect(await withSelection(DIR_OF_FIXTURE, () => recordKernelComparison(stdin.ctx, "-"))).toBeNull();
    expect(stdin.log).toEqual(["standard input is read once: no replay from the /proc snapshots (save the trace to a file)"]);
    // Every selected trace: the mmkit-format one has no snapshots beside it.
    const both = recordingContext();
    const saved = systemSelection();
    setSystemSelection({ systems: [], traces: [MMKIT_TRACE], traceFormat: "auto", traceLenient: false });
    try {
      expect(await recordKernelComparisons(both.ctx)).toEqual([]);
    } finally {
      setSystemSelection(saved);
    }
    expect(both.log).toEqual(["mmkit-basic.trace: no /proc snapshots beside it (buddyinfo-before.txt ...): replayed from an empty machine only"]);
    const off = recordingContext();
    expect(await withSelection(false, () => recordKernelComparison(off.ctx, DEFAULT_TRACE))).toBeNull();
    expect(off.log).toEqual([]);
  });
});

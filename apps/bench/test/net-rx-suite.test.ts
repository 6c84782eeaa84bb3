import { beforeAll, describe, expect, test } from "vitest";
import { RECEIVE_PATHS } from "@mmkit/net-rx";
import { createContext } from "../src/harness/runner.js";
import type { Measurement } from "../src/harness/types.js";
import { buildReport, validateReport } from "../src/report/json.js";
import { runMetadata } from "../src/report/metadata.js";
import { SLOW_PATHS } from "../src/net-rx/slow-consumer.js";
import { NET_RX_FLOOR, measureNetRx } from "../src/suites/net-rx.js";
import { DEFAULT_SEED } from "../src/workloads/random.js";

// A small run of the net-rx suite: 4 MiB per receive, 1 round, and a 4 MiB slow-consumer run with a
// 1 MiB budget (a sender process, and a fresh process per slow path). Every byte of every path is
// counted (a short receive throws); what holds whatever the machine does: the bounded paths never
// hold more than their budget, net-rx's fragments and the 'data' Buffers arrive intact when
// consumed long after the callback, a static buffer's views do not, and no path copied.
const MiB = 1 << 20;
const BUDGET = 1 * MiB;
let measurements: Measurement[] = [];
const find = (system: string, metric: string): Measurement => {
  const found = measurements.filter((m) => m.system === system && m.metric === metric);
  expect(found, `${system} / ${metric}`).toHaveLength(1);
  return found[0]!;
};
const slow = (system: string, metric: string): number => {
  const found = measurements.filter((m) => m.system === system && m.metric === metric && m.workload.startsWith("slow consumer"));
  expect(found, `${system} / ${metric}`).toHaveLength(1);
  return found[0]!.value;
};

beforeAll(async () => {
  const into = { measurements: [] as Measurement[], log: [] as string[] };
  await measureNetRx(createContext("net-rx", { quick: true, seed: DEFAULT_SEED }, into), { bytes: 4 * MiB, rounds: 1, slowBytes: 4 * MiB, bytesPerMs: 16_000, budget: BUDGET });
  measurements = into.measurements;
}, 120_000);

describe("net-rx suite (small run)", () => {
  test("throughput part: MB/s, CPU per GiB against the static buffer, reads and GC for every path", () => {
    for (const path of RECEIVE_PATHS) {
      expect(find(path, "MB/s").value).toBeGreaterThan(0);
      const cpu = find(path, "CPU ms/GiB");
      expect(cpu.unit).toBe("ms");
      expect(cpu.ratioTo).toBe(NET_RX_FLOOR);
      expect(find(path, "reads").value).toBeGreaterThan(0);
      expect(find(path, "GCs").value).toBeGreaterThanOrEqual(0);
      expect(find(path, "GC pause").unit).toBe("ms");
    }
    expect(find(NET_RX_FLOOR, "CPU ms/GiB").ratio).toBe(1);
    // 2 KiB fragments: a read fills at most its fragment.
    expect(find("net-rx fragments", "reads").value).toBeGreaterThanOrEqual((4 * MiB) / 2048);
  });

  test("slow consumer: bounded paths stay within the budget, net-rx's data outlives the callback intact without a copy", () => {
    for (const path of SLOW_PATHS) for (const metric of ["peak bytes queued", "peak array-buffer memory", "peak RSS", "chunks wrong when consumed", "bytes copied", "GCs", "MB/s"]) slow(path, metric);
    // Paused at the budget: at most one read past it.
    expect(slow("data events, paused at the budget", "peak bytes queued")).toBeLessThanOrEqual(BUDGET + 64 * 1024);
    expect(slow("static onread buffer, views kept (no copy)", "peak bytes queued")).toBeLessThanOrEqual(BUDGET + 64 * 1024);
    // net-rx cannot hold more than its arena.
    expect(slow("net-rx fragments, paused when the arena is full", "peak bytes queued")).toBeLessThanOrEqual(BUDGET);
    for (const path of ["data events, queued", "data events, paused at the budget", "net-rx fragments, paused when the arena is full"]) expect(slow(path, "chunks wrong when consumed"), path).toBe(0);
    // The static buffer's views were overwritten by later reads before the consumer got to them.
    expect(slow("static onread buffer, views kept (no copy)", "chunks wrong when consumed")).toBeGreaterThan(0);
    for (const path of SLOW_PATHS) expect(slow(path, "bytes copied"), path).toBe(0);
  });

  test("the measurements make a JSON report the schema accepts", () => {
    const report = buildReport(runMetadata([], true, DEFAULT_SEED), [{ name: "net-rx", description: "the net-rx suite", seconds: 1, measurements, log: [] }]);
    expect(validateReport(JSON.parse(JSON.stringify(report)))).toEqual([]);
    expect(report.measurements.every((m) => m.suite === "net-rx")).toBe(true);
  });
});

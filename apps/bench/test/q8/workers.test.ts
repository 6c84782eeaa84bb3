import { beforeAll, describe, expect, test } from "vitest";
import { buildReport, validateReport } from "../../src/report/json.js";
import { runMetadata } from "../../src/report/metadata.js";
import { createContext } from "../../src/harness/runner.js";
import type { Measurement } from "../../src/harness/types.js";
import { Q8_METRICS, Q8_SYSTEMS, q8FromMeasurements, q8Sentence, type Q8Figures } from "../../src/q8/figures.js";
import { measureMemdescRcu } from "../../src/q8/measure.js";
import { DEFAULT_SEED } from "../../src/workloads/random.js";

// A short run of the Q8 measurement with real worker threads (1 writer, 2 readers, 2 rounds of
// 20,000 lookups per reader per mode). Whatever the scheduling, type-stable mode commits no
// violation and no lookup finds a memdesc of the wrong range; the writer checks its slab after
// every round (a broken invariant fails the run). Whether mode (a) catches the race in so short a
// run depends on the scheduler, so it is not asserted here (the by-hand tests show it exactly).

const A = Q8_SYSTEMS.a;
const B = Q8_SYSTEMS.b;
const E = Q8_SYSTEMS.aEpochs;
let measurements: Measurement[] = [];
let log: string[] = [];
let figures: Q8Figures;

beforeAll(async () => {
  const into = { measurements: [] as Measurement[], log: [] as string[] };
  figures = await measureMemdescRcu(createContext("memdesc-rcu", { quick: true, seed: DEFAULT_SEED }, into), { rounds: 2, lookups: 20_000 });
  measurements = into.measurements;
  log = into.log;
}, 120_000);

const value = (system: string, metric: string): number => {
  const found = measurements.filter((m) => m.system === system && m.metric === metric);
  expect(found, `${system} / ${metric}`).toHaveLength(1);
  return found[0]!.value;
};

describe("memdesc-rcu (short worker run)", () => {
  test("type-stable mode: no violation and no wrong range over every lookup; the lookups are exactly those asked for", () => {
    for (const system of [A, B, E]) {
      expect(value(system, Q8_METRICS.lookups)).toBe(2 * 2 * 20_000);
      expect(value(system, Q8_METRICS.readers)).toBe(2);
      expect(value(system, Q8_METRICS.wrongRanges)).toBe(0);
      expect(value(system, Q8_METRICS.violations)).toBe(value(system, Q8_METRICS.violationsFree) + value(system, Q8_METRICS.violationsType));
    }
    // The third contender is timed and counted; the writer's side (frees, slots held back) is mode (a)'s and not repeated.
    expect(measurements.filter((m) => m.system === E && m.metric === Q8_METRICS.frees)).toEqual([]);
    for (const system of [A, B]) {
      expect(value(system, Q8_METRICS.frees)).toBeGreaterThan(0);
      expect(value(system, Q8_METRICS.violations)).toBe(value(system, Q8_METRICS.violationsFree) + value(system, Q8_METRICS.violationsType));
    }
    expect(value(B, Q8_METRICS.violations)).toBe(0);
    expect(figures.b.violationsFree + figures.b.violationsType).toBe(0);
    // Reuse at once never holds a slot back; type stability does, whenever a step frees one type and allocates another.
    expect(value(A, Q8_METRICS.heldPeak)).toBe(0);
    expect(value(B, Q8_METRICS.heldPeak)).toBeGreaterThanOrEqual(1);
    expect(value(B, Q8_METRICS.heldMean)).toBeLessThanOrEqual(value(B, Q8_METRICS.heldPeak));
    expect(value(B, Q8_METRICS.heldBytes)).toBe(value(B, Q8_METRICS.heldPeak) * 32);
  });

  test("the JSON report of the run is valid, with ns/lookup against mode (a) and the answer logged", () => {
    const ns = measurements.filter((m) => m.metric === Q8_METRICS.ns);
    expect(ns.map((m) => [m.system, m.unit, m.ratioTo])).toEqual([
      [A, "ns", A],
      [B, "ns", A],
      [E, "ns", A],
    ]);
    expect(ns[0]!.ratio).toBe(1);
    const report = buildReport(runMetadata(["--suite", "memdesc-rcu"], true, DEFAULT_SEED), [{ name: "memdesc-rcu", description: "d", seconds: 1, measurements, log }]);
    expect(validateReport(JSON.parse(JSON.stringify(report)))).toEqual([]);
    expect(log.at(-1)).toBe(`Q8: ${q8Sentence(figures)}`);
  });

  test("the answers read the figures back from the recorded measurements", () => {
    const back = q8FromMeasurements(measurements.map((m) => ({ ...m, suite: "memdesc-rcu" })))!;
    expect(back.readers).toBe(2);
    for (const k of ["lookups", "violationsFree", "violationsType", "wrongRanges", "writerFrees", "deferredFrees", "allocationsWithoutSlot", "heldPeak", "heldMean", "lookupsPerSecond"] as const) {
      expect(back.a[k], k).toBe(figures.a[k]);
      expect(back.b[k], k).toBe(figures.b[k]);
    }
    expect(back.b.retries).toBeCloseTo(figures.b.retries, 6);
    for (const k of ["lookups", "violationsFree", "violationsType", "lookupsPerSecond"] as const) expect(back.aEpochs[k], k).toBe(figures.aEpochs[k]);
    expect(q8FromMeasurements([])).toBeUndefined();
  });
});

test("a run of no rounds or no lookups is refused before any worker starts, naming the value", async () => {
  const ctx = createContext("memdesc-rcu", { quick: true, seed: DEFAULT_SEED }, { measurements: [], log: [] });
  await expect(measureMemdescRcu(ctx, { rounds: 0, lookups: 10 })).rejects.toThrow(/rounds must be a positive integer, got 0/);
  await expect(measureMemdescRcu(ctx, { rounds: 1, lookups: 2.5 })).rejects.toThrow(/lookups must be a positive integer, got 2.5/);
});

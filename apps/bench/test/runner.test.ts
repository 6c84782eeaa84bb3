import { ErrorCode, MmkitError } from "@mmkit/physmem";
import { describe, expect, test, vi } from "vitest";
import type { ProgressSink } from "../src/harness/progress.js";
import { probingArena } from "../src/harness/probe-order.js";
import { createContext, runSuite } from "../src/harness/runner.js";
import type { Contender, Measurement, Suite } from "../src/harness/types.js";

const noop = (name: string): Contender => ({ name, setup: () => (ops) => ops });

function recorder(): ProgressSink & { calls: string[] } {
  const calls: string[] = [];
  return { calls, start: (t) => calls.push(`start ${t}`), update: (l, d, t) => calls.push(`${l} ${d}/${t}`), stop: () => calls.push("stop") };
}

describe("SuiteContext", () => {
  test("time() records ns/op per contender with spread, ratio to the floor and note", () => {
    const into = { measurements: [] as Measurement[], log: [] as string[] };
    const ctx = createContext("s", { quick: true, seed: 7 }, into);
    expect(ctx.quick).toBe(true);
    expect(ctx.seed).toBe(7);
    const results = ctx.time("w", [noop("floor"), noop("x")], { floor: "floor", ops: 4, targetMs: 0.001, note: "n", alone: false });
    expect(into.measurements.map((m) => [m.suite, m.system, m.workload, m.metric, m.unit, m.ratioTo, m.note])).toEqual([
      ["s", "floor", "w", "ns/op", "ns", "floor", "n"],
      ["s", "x", "w", "ns/op", "ns", "floor", "n"],
    ]);
    expect(into.measurements.map((m) => m.value)).toEqual(results.map((r) => r.nsPerOp));
    expect(into.measurements.map((m) => m.spread)).toEqual(results.map((r) => r.spread));
  });

  test("time(..., { record: false }) records nothing; no floor, no ratio fields", () => {
    const into = { measurements: [] as Measurement[], log: [] as string[] };
    const ctx = createContext("s", { quick: true, seed: 0 }, into);
    ctx.time("w", [noop("a")], { ops: 4, targetMs: 0.001, record: false });
    expect(into.measurements).toEqual([]);
    ctx.time("w", [noop("a")], { ops: 4, targetMs: 0.001, alone: false });
    expect(Object.keys(into.measurements[0]!).sort()).toEqual(["metric", "spread", "suite", "system", "unit", "value", "workload"]);
  });

  test("time() gives every figure its alone twin, and names it in the note where it is more than 15% off", () => {
    // A fake clock that only the contenders advance: the figures are exact, whatever the machine's load.
    let clock = 0;
    const now = vi.spyOn(performance, "now").mockImplementation(() => clock);
    try {
      let last = "";
      const spin = (name: string, ms: (previous: string) => number): Contender => ({
        name,
        setup: () => (ops) => {
          clock += ms(last);
          last = name;
          return ops;
        },
      });
      const into = { measurements: [] as Measurement[], log: [] as string[], harness: [] as { ns: number; spread: number }[] };
      const ctx = createContext("s", { quick: true, seed: 0 }, into);
      const results = ctx.time("w", [spin("a", () => 3), spin("victim", (previous) => (previous === "victim" ? 1 : 10)), spin("c", () => 3)], { ops: 1, targetMs: 0.001, note: "n" });
      expect(into.measurements.map((m) => m.alone)).toEqual(results.map((r) => r.aloneNsPerOp));
      // Interleaved, the victim always follows another contender (10 ms); alone, itself (1 ms).
      expect(results.map((r) => r.nsPerOp)).toEqual([3_000_000, 10_000_000, 3_000_000]);
      expect(results.map((r) => r.aloneNsPerOp)).toEqual([3_000_000, 1_000_000, 3_000_000]);
      expect(into.measurements[1]!.note).toBe("n; alone 1 ms (-90%)");
      expect(into.measurements[0]!.note).toBe("n");
      expect(into.harness).toEqual([{ ns: 0, spread: 0 }]);
    } finally {
      now.mockRestore();
    }
  });

  test("time() after a ProbingArena probe in the same suite throws, naming the workload; a new suite starts clean", () => {
    const into = { measurements: [] as Measurement[], log: [] as string[] };
    const ctx = createContext("s", { quick: true, seed: 0 }, into);
    ctx.time("before", [noop("a")], { ops: 4, targetMs: 0.001, alone: false });
    probingArena().float64(8, "probe");
    expect(() => ctx.time("after", [noop("a")], { ops: 4, targetMs: 0.001, alone: false })).toThrow('suite s times "after" after a ProbingArena probe: time everything first and probe last');
    expect(into.measurements.map((m) => m.workload)).toEqual(["before"]);
    const next = createContext("t", { quick: true, seed: 0 }, into);
    next.time("fresh", [noop("a")], { ops: 4, targetMs: 0.001, alone: false });
    expect(into.measurements.map((m) => m.workload)).toEqual(["before", "fresh"]);
  });

  test("time() advances the progress bar once per round", () => {
    const progress = recorder();
    const ctx = createContext("s", { quick: true, seed: 0, progress }, { measurements: [], log: [] });
    ctx.time("w", [noop("a")], { ops: 4, targetMs: 0.001, rounds: 10 });
    expect(progress.calls).toEqual(Array.from({ length: 10 }, (_, i) => `w ${i + 1}/10`));
  });

  test("record() rejects what the report could not print, and keeps nothing of it", () => {
    const into = { measurements: [] as Measurement[], log: [] as string[] };
    const ctx = createContext("s", { quick: true, seed: 0 }, into);
    const good = { system: "a", workload: "w", metric: "m", value: 1, unit: "count" };
    expect(() => ctx.record({ ...good, value: Number.NaN })).toThrow(/value of a \/ w \/ m must be a finite number, got NaN/);
    expect(() => ctx.record({ ...good, system: "" })).toThrow(/system must be a non-empty string/);
    expect(() => ctx.record({ ...good, ratio: Infinity })).toThrow(/ratio must be a finite number, got Infinity/);
    expect(into.measurements).toEqual([]);
    expect(() => ctx.record({ ...good, at: Number.NaN })).toThrow(/at must be a finite number, got NaN/);
    ctx.record({ ...good, note: "x" });
    ctx.record({ ...good, at: 1000 });
    expect(into.measurements).toEqual([{ suite: "s", ...good, note: "x" }, { suite: "s", ...good, at: 1000 }]);
  });
});

describe("runSuite", () => {
  test("collects measurements and log lines, and draws progress around the suite", async () => {
    const progress = recorder();
    const suite: Suite = {
      name: "demo",
      description: "d",
      default: false,
      run(ctx) {
        ctx.record({ system: "a", workload: "w", metric: "m", value: 2, unit: "count" });
        ctx.log("hello");
        ctx.progress("step", 1, 2);
      },
    };
    const result = await runSuite(suite, { quick: true, seed: 0, progress });
    expect(result.name).toBe("demo");
    expect(result.measurements).toEqual([{ suite: "demo", system: "a", workload: "w", metric: "m", value: 2, unit: "count" }]);
    expect(result.log).toEqual(["hello"]);
    expect(result.error).toBeUndefined();
    expect(progress.calls).toEqual(["start demo", "step 1/2", "stop"]);
  });

  test("a suite that timed something ends with the harness row: the empty contender's median over its timings", async () => {
    const suite: Suite = {
      name: "timed",
      description: "d",
      default: false,
      run(ctx) {
        ctx.time("w1", [noop("a")], { ops: 64, targetMs: 0.001, alone: false });
        ctx.time("w2", [noop("a")], { ops: 64, targetMs: 0.001, alone: false });
      },
    };
    const result = await runSuite(suite, { quick: true, seed: 0 });
    const last = result.measurements.at(-1)!;
    expect([last.system, last.workload, last.metric, last.unit]).toEqual(["harness (empty loop)", "harness", "ns/op", "ns"]);
    expect(last.value).toBeGreaterThanOrEqual(0);
    expect(last.note).toMatch(/^the empty contender beside each of 2 timed set\(s\): [\d.]+\.\.[\d.]+ ns; each ns\/op above includes it$/);
    expect(result.measurements.filter((m) => m.workload === "harness")).toHaveLength(1);
  });

  test("a suite that throws is reported with what it recorded before", async () => {
    const progress = recorder();
    const suite: Suite = {
      name: "broken",
      description: "d",
      default: false,
      async run(ctx) {
        ctx.record({ system: "a", workload: "w", metric: "m", value: 1, unit: "count" });
        throw new Error("boom");
      },
    };
    const result = await runSuite(suite, { quick: true, seed: 0, progress });
    expect(result.error).toMatch(/boom/);
    expect(result.measurements).toHaveLength(1);
    expect(progress.calls.at(-1)).toBe("stop");
  });

  test("a user's mistake (a typed MmkitError) is reported by its message alone; a bug keeps its stack", async () => {
    const throwing = (error: Error): Suite => ({ name: "t", description: "d", default: false, run: async () => { throw error; } });
    const user = await runSuite(throwing(new MmkitError(ErrorCode.InvalidArgument, "trace.txt has no page-allocator events")), { quick: true, seed: 0 });
    expect(user.error).toBe("trace.txt has no page-allocator events");
    const bug = await runSuite(throwing(new TypeError("x is undefined")), { quick: true, seed: 0 });
    expect(bug.error).toMatch(/^TypeError: x is undefined\n\s+at /);
  });
});

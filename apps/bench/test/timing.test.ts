import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ALONE_SAMPLES, CALIBRATION_TRIES, HARNESS, MIN_ROUNDS, harnessContender, quantile, rotatedIndex, timeContenders } from "../src/harness/timing.js";
import type { Contender } from "../src/harness/types.js";

/** A contender that logs every call of its loop into `log`. */
function logged(name: string, log: string[], setups?: string[]): Contender {
  return {
    name,
    setup() {
      setups?.push(name);
      return (ops) => {
        log.push(name);
        return ops;
      };
    },
  };
}

/** Busy-waits `ms` per call, whatever `ops` is. */
function slow(name: string, ms: number): Contender {
  return {
    name,
    setup: () => () => {
      const end = performance.now() + ms;
      let spins = 0;
      while (performance.now() < end) spins++;
      return spins;
    },
  };
}

// A tiny targetMs with a fixed op count: no calibration, and one call per contender per round.
const exact = { ops: 8, targetMs: 0.001 };

describe("timeContenders", () => {
  test("warms up twice, then rotates the order every round", () => {
    const log: string[] = [];
    const setups: string[] = [];
    const results = timeContenders([logged("a", log, setups), logged("b", log, setups), logged("c", log, setups)], true, { ...exact, rounds: 10 });
    expect(setups).toEqual(["a", "b", "c"]);
    const warmUp = log.slice(0, 6);
    expect(warmUp).toEqual(["a", "b", "c", "a", "b", "c"]);
    const rounds = log.slice(6);
    expect(rounds).toHaveLength(30);
    const expected: string[] = [];
    for (let r = 0; r < 10; r++) for (let k = 0; k < 3; k++) expected.push("abc"[(k + r) % 3]!);
    expect(rounds).toEqual(expected);
    expect(rounds.slice(0, 9).join("")).toBe("abcbcacab");
    for (const r of results) {
      expect(r.rounds).toBe(10);
      expect(r.opsPerRound).toBe(8);
      expect(r.callsPerRound).toBe(1);
      expect(r.samples).toHaveLength(10);
    }
  });

  test(`never fewer than ${MIN_ROUNDS} rounds; quick defaults to 10, full to 15`, () => {
    expect(timeContenders([logged("a", [])], true, { ...exact, rounds: 3 })[0]!.rounds).toBe(10);
    expect(timeContenders([logged("a", [])], true, exact)[0]!.rounds).toBe(10);
    expect(timeContenders([logged("a", [])], false, exact)[0]!.rounds).toBe(15);
    expect(timeContenders([logged("a", [])], false, { ...exact, rounds: 12 })[0]!.rounds).toBe(12);
  });

  test("every result carries its ratio to the floor's median; the floor's is exactly 1", () => {
    const results = timeContenders([slow("fast", 0.05), slow("slower", 0.2)], true, { ops: 1, targetMs: 0.001, floor: "fast" });
    const [fast, slower] = results;
    expect(fast!.ratio).toBe(1);
    expect(slower!.ratio).toBe(slower!.nsPerOp / fast!.nsPerOp);
    for (const r of results) {
      expect(r.p10).toBeLessThanOrEqual(r.nsPerOp);
      expect(r.nsPerOp).toBeLessThanOrEqual(r.p90);
      expect(r.spread).toBeCloseTo((r.p90 - r.p10) / r.nsPerOp, 12);
      const sorted = r.samples!.slice().sort((a, b) => a - b);
      expect(r.nsPerOp).toBe(quantile(sorted, 0.5));
    }
  });

  test("no floor, no ratio", () => {
    expect(timeContenders([logged("a", [])], true, exact)[0]!.ratio).toBeUndefined();
  });

  test("calibrates one op count for all, at least 256", () => {
    const results = timeContenders([slow("a", 0.01), logged("b", [])], true, { targetMs: 0.5 });
    expect(results[0]!.opsPerRound).toBe(results[1]!.opsPerRound);
    expect(results[0]!.opsPerRound).toBeGreaterThanOrEqual(256);
  });

  test(`a calibration call stalled once (preempted) is timed again: the fastest of up to ${CALIBRATION_TRIES} counts`, () => {
    // 2 µs per op, but the very first call stalls for 4x the target, as a preempted call would.
    let calls = 0;
    const stalls: Contender = {
      name: "stalls once",
      setup: () => (ops) => {
        const end = performance.now() + (calls++ === 0 ? 8 : ops * 0.002);
        let spins = 0;
        while (performance.now() < end) spins++;
        return spins;
      },
    };
    const [r] = timeContenders([stalls], true, { targetMs: 2 });
    // Trusting the stalled call would have kept 256 ops (0.5 ms a call) for every round.
    expect(r!.opsPerRound).toBeGreaterThanOrEqual(1024);
  });

  test("a contender far faster than the slowest is called several times per round", () => {
    const [fast, slowest] = timeContenders([logged("fast", []), slow("slow", 2)], true, { ops: 1, targetMs: 8 });
    expect(fast!.callsPerRound).toBeGreaterThan(1);
    expect(slowest!.callsPerRound).toBe(1);
  });

  test("misuse is reported before any contender is set up", () => {
    const setups: string[] = [];
    const a = logged("a", [], setups);
    expect(() => timeContenders([a], true, { floor: "b" })).toThrow(/floor "b" is not among the contenders \(a\)/);
    expect(() => timeContenders([a, logged("a", [], setups)], true)).toThrow(/two contenders are named "a"/);
    expect(() => timeContenders([], true)).toThrow(/no contenders/);
    expect(() => timeContenders([a], true, { rounds: 0 })).toThrow(/rounds must be a positive integer, got 0/);
    expect(() => timeContenders([a], true, { ops: 1.5 })).toThrow(/ops must be a positive integer, got 1.5/);
    expect(() => timeContenders([a], true, { targetMs: -1 })).toThrow(/targetMs must be positive, got -1/);
    expect(setups).toEqual([]);
  });
});

describe("the harness's own cost and the alone pass", () => {
  test("harness: true runs the empty contender in the same rounds and gives every result its median", () => {
    const log: string[] = [];
    const results = timeContenders([logged("a", log), logged("b", log)], true, { ...exact, rounds: 10, harness: true });
    expect(results.map((r) => r.name)).toEqual(["a", "b"]);
    expect(log).toHaveLength(2 * (2 + 10));
    const empty = results[0]!.harnessNsPerOp!;
    expect(empty).toBeGreaterThanOrEqual(0);
    expect(results[1]!.harnessNsPerOp).toBe(empty);
    expect(results[0]!.aloneNsPerOp).toBeUndefined();
    expect(timeContenders([logged("a", [])], true, exact)[0]!.harnessNsPerOp).toBeUndefined();
  });

  test("the empty contender's loop does ops iterations and nothing else", () => {
    const run = harnessContender().setup();
    expect(run(4)).toBe(0 + 1 + 2 + 3);
    expect(harnessContender().name).toBe(HARNESS);
  });

  test("a contender may not take the empty contender's name", () => {
    expect(() => timeContenders([logged(HARNESS, [])], true, { ...exact, harness: true })).toThrow(/a contender is named "harness \(empty loop\)"/);
  });

  test(`alone: true times each contender ${ALONE_SAMPLES} times back to back after the rounds`, () => {
    const log: string[] = [];
    const results = timeContenders([logged("a", log), logged("b", log)], true, { ...exact, rounds: 10, alone: true });
    expect(log.slice(2 * (2 + 10))).toEqual([...Array<string>(ALONE_SAMPLES).fill("a"), ...Array<string>(ALONE_SAMPLES).fill("b")]);
    for (const r of results) expect(r.aloneNsPerOp).toBeGreaterThanOrEqual(0);
  });

  test("the alone figure shows what interleaving did to a contender", () => {
    // "victim" busy-waits 1 ms when another contender ran since its last call, 0.1 ms otherwise.
    let last = "";
    const spin = (name: string, ms: (previous: string) => number): Contender => ({
      name,
      setup: () => () => {
        const end = performance.now() + ms(last);
        last = name;
        let spins = 0;
        while (performance.now() < end) spins++;
        return spins;
      },
    });
    const results = timeContenders([spin("a", () => 0.2), spin("victim", (previous) => (previous === "victim" ? 0.1 : 1)), spin("c", () => 0.2)], true, { ops: 1, targetMs: 0.001, alone: true });
    const victim = results[1]!;
    expect(victim.nsPerOp).toBeGreaterThanOrEqual(1e6);
    expect(victim.aloneNsPerOp).toBeLessThan(0.5e6);
  });
});

describe("rotation and quantiles", () => {
  test("over n rounds every contender runs once in every position", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 100 }), (n, start) => {
        for (let k = 0; k < n; k++) {
          const seen = new Set<number>();
          for (let r = start; r < start + n; r++) seen.add(rotatedIndex(r, k, n));
          expect(seen.size).toBe(n);
        }
        for (let r = 0; r < n; r++) {
          const order = new Set(Array.from({ length: n }, (_, k) => rotatedIndex(r, k, n)));
          expect(order.size).toBe(n);
        }
      }),
    );
  });

  test("quantile interpolates", () => {
    expect(quantile([1, 2, 3, 4, 5], 0.5)).toBe(3);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([0, 10], 0.1)).toBe(1);
    expect(quantile([7], 0.9)).toBe(7);
  });
});

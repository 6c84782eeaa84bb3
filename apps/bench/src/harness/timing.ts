import type { Contender, TimeOptions, TimingResult } from "./types.js";

/** Sink for contenders' return values, so no timed work is dead code. */
export let blackhole = 0;

/** Fewest timed rounds any timing uses: a median of fewer is not worth reporting. */
export const MIN_ROUNDS = 10;
/** Most operations per round calibration goes to. */
export const MAX_OPS = 1 << 24;

/** Most calls one contender makes in one round (see {@link timeContenders} on repeats). */
export const MAX_REPEATS = 4096;

/** Name of the empty contender {@link timeContenders} adds with `harness: true`. */
export const HARNESS = "harness (empty loop)";

/**
 * Most times a calibration call that reaches `targetMs` is timed (the first time included): the
 * fastest counts, so one call preempted on a loaded machine does not stop the calibration at a
 * small op count for the whole set.
 */
export const CALIBRATION_TRIES = 3;

/** Back-to-back samples of the `alone` pass (see {@link timeContenders}). */
export const ALONE_SAMPLES = 3;

/**
 * The empty contender's loop: `ops` iterations that do nothing but keep a sum. What a contender
 * costs beyond this is its own work; this much every figure of the same machinery pays.
 */
function emptyLoop(ops: number): number {
  let sum = 0;
  for (let i = 0; i < ops; i++) sum = (sum + i) | 0;
  return sum;
}

/**
 * The empty contender: a module-level loop of `ops` iterations with no work in them, through the
 * same setup, calibration, rounds and closure call as every other contender. Its ns/op is the
 * harness's own per-op cost.
 *
 * @example
 * ```ts
 * const [empty] = timeContenders([harnessContender()], true);
 * empty.nsPerOp;   // well under a nanosecond on a 2020s CPU
 * ```
 */
export function harnessContender(): Contender {
  return { name: HARNESS, setup: () => (ops) => emptyLoop(ops) };
}

/** Called after each timed round: `done` of `total` rounds. */
export type RoundListener = (done: number, total: number) => void;

/**
 * Linear-interpolated quantile `q` of an ascending array. O(1).
 *
 * @example
 * ```ts
 * quantile([1, 2, 3, 4], 0.5);   // 2.5
 * ```
 */
export function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * Index of the contender that runs at position `k` of round `r` among `n`: each round starts one
 * contender later than the one before, so every contender runs first, second, ... equally often.
 *
 * @example
 * ```ts
 * [0, 1, 2].map((k) => rotatedIndex(1, k, 3));   // [1, 2, 0]
 * ```
 */
export function rotatedIndex(round: number, k: number, n: number): number {
  return (k + round) % n;
}

/**
 * How long one call of `run(ops)` takes, for calibration: a call that reaches `targetMs` is timed
 * again, up to {@link CALIBRATION_TRIES} times in all, and the fastest counts (a call under the
 * target ends the tries). A preempted call can only make a call look slower, never faster, so the
 * fastest is the one to trust. Cost: one call, or up to {@link CALIBRATION_TRIES} at the final size.
 */
function calibrationMs(run: (ops: number) => number, ops: number, targetMs: number): number {
  let fastest = Infinity;
  for (let t = 0; t < CALIBRATION_TRIES && fastest >= targetMs; t++) {
    const t0 = performance.now();
    blackhole ^= run(ops);
    fastest = Math.min(fastest, performance.now() - t0);
  }
  return fastest;
}

function validate(contenders: Contender[], options: TimeOptions): void {
  if (contenders.length === 0) throw new Error("time(): no contenders");
  const names = new Set<string>();
  for (const c of contenders) {
    if (typeof c.name !== "string" || c.name === "") throw new Error(`time(): a contender has no name`);
    if (names.has(c.name)) throw new Error(`time(): two contenders are named ${JSON.stringify(c.name)}`);
    names.add(c.name);
  }
  if (options.harness === true && names.has(HARNESS)) throw new Error(`time(): a contender is named ${JSON.stringify(HARNESS)}, the name of the harness's own empty contender`);
  if (options.floor !== undefined && !names.has(options.floor)) {
    throw new Error(`time(): floor ${JSON.stringify(options.floor)} is not among the contenders (${[...names].join(", ")})`);
  }
  for (const key of ["ops", "rounds"] as const) {
    const v = options[key];
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 1)) throw new Error(`time(): ${key} must be a positive integer, got ${v}`);
  }
  if (options.targetMs !== undefined && !(options.targetMs > 0)) throw new Error(`time(): targetMs must be positive, got ${options.targetMs}`);
}

/**
 * Times contenders the way a noisy 2-core machine demands: every contender is set up, warmed up
 * and calibrated, then `rounds` rounds each run every contender once, in an order rotated per round,
 * so drift (thermal, GC, a neighbour's load) lands on all of them alike. Reports the median ns/op and
 * the p10..p90 spread, and each median as a ratio to the named floor's median from the same rounds.
 *
 * Every contender gets the same `ops` per call (calibrated so the slowest takes about `targetMs`); a
 * contender far faster than the slowest is called several times in its slot of a round
 * (`callsPerRound`), so its samples are long enough to time.
 *
 * With `harness: true` an empty contender ({@link harnessContender}) runs in the same rounds, and
 * every result carries its median as `harnessNsPerOp`: the part of each figure that is the
 * machinery's, not the contender's. With `alone: true`, after the rounds each contender is timed
 * again on its own, {@link ALONE_SAMPLES} samples back to back with nothing run in between: the
 * figure a plain module-level loop over the same state gives (`aloneNsPerOp`). Interleaving is what
 * makes ratios survive a noisy machine; the alone pass shows when it changes a contender's figure
 * (another contender's slot evicts its lines or branch history, or retunes the clock).
 *
 * Calibration trusts the fastest of up to {@link CALIBRATION_TRIES} timings of a call that reaches
 * `targetMs`, and the calls per round come from the faster of the two warm-up passes, so a call
 * preempted on a loaded machine fixes neither a small op count nor too few calls for the whole set.
 *
 * Options are checked before any contender is set up (a misspelt floor costs nothing). Cost:
 * (calibration + 2 warm-up + `rounds` + `alone` 3) x contenders x about `targetMs` (calibration's
 * last step up to {@link CALIBRATION_TRIES} calls each); the empty contender adds `rounds` x `targetMs` / 4.
 *
 * @example
 * ```ts
 * const [floor, mine] = timeContenders([stackFloor(), myAllocatorContender], true, { floor: "Int32Array stack" });
 * mine.ratio;   // mine.nsPerOp / floor.nsPerOp, from the same interleaved rounds
 * ```
 */
export function timeContenders(contenders: Contender[], quick: boolean, options: TimeOptions = {}, onRound?: RoundListener): TimingResult[] {
  validate(contenders, options);
  const measured = contenders.length;
  if (options.harness === true) contenders = [...contenders, harnessContender()];
  const rounds = Math.max(MIN_ROUNDS, options.rounds ?? (quick ? 10 : 15));
  const targetMs = options.targetMs ?? (quick ? 4 : 12);
  const runs = contenders.map((c) => c.setup());
  // Calibrate one shared op count, so every contender does the same work per round.
  let ops = options.ops ?? 0;
  if (ops === 0) {
    ops = 256;
    for (;;) {
      let slowest = 0;
      for (const run of runs) slowest = Math.max(slowest, calibrationMs(run, ops, targetMs));
      if (slowest >= targetMs || ops >= MAX_OPS) break;
      ops = Math.min(MAX_OPS, ops * Math.max(2, Math.min(16, Math.floor(targetMs / Math.max(slowest, 0.01)))));
    }
  }
  // Warm-up at the final size; the faster of the two passes says how long one call of each takes
  // (a call preempted in one pass would otherwise set too few calls per round).
  const callMs = runs.map(() => Infinity);
  for (let w = 0; w < 2; w++) {
    runs.forEach((run, i) => {
      const t0 = performance.now();
      blackhole ^= run(ops);
      callMs[i] = Math.min(callMs[i]!, performance.now() - t0);
    });
  }
  // A contender much faster than the slowest one calls run(ops) several times per round, so each
  // of its samples still spans at least a quarter of targetMs (not a few microseconds of timer noise).
  const minMs = targetMs / 4;
  const repeats = callMs.map((ms) => Math.min(MAX_REPEATS, Math.max(1, Math.ceil(minMs / Math.max(ms, 0.001)))));
  const samples: number[][] = contenders.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < runs.length; k++) {
      const i = rotatedIndex(r, k, runs.length);
      const run = runs[i]!;
      const calls = repeats[i]!;
      const t0 = performance.now();
      for (let c = 0; c < calls; c++) blackhole ^= run(ops);
      const t1 = performance.now();
      samples[i]!.push(((t1 - t0) * 1e6) / (ops * calls));
    }
    onRound?.(r + 1, rounds);
  }
  // The alone pass: each contender on its own, back to back, as a plain loop would time it.
  const alone = options.alone === true ? runs.slice(0, measured).map((run, i) => {
    const calls = repeats[i]!;
    const s: number[] = [];
    for (let k = 0; k < ALONE_SAMPLES; k++) {
      const t0 = performance.now();
      for (let c = 0; c < calls; c++) blackhole ^= run(ops);
      s.push(((performance.now() - t0) * 1e6) / (ops * calls));
    }
    return quantile(s.sort((a, b) => a - b), 0.5);
  }) : undefined;
  const all: TimingResult[] = contenders.map((c, i) => {
    const s = samples[i]!.slice().sort((a, b) => a - b);
    const median = quantile(s, 0.5);
    const p10 = quantile(s, 0.1);
    const p90 = quantile(s, 0.9);
    return { name: c.name, nsPerOp: median, p10, p90, spread: median > 0 ? (p90 - p10) / median : 0, rounds, opsPerRound: ops, callsPerRound: repeats[i]!, samples: samples[i]! };
  });
  const results = all.slice(0, measured);
  const empty = all[measured];
  results.forEach((r, i) => {
    if (empty !== undefined) {
      r.harnessNsPerOp = empty.nsPerOp;
      r.harnessSpread = empty.spread;
    }
    if (alone !== undefined) r.aloneNsPerOp = alone[i]!;
  });
  if (options.floor !== undefined) {
    const floor = results.find((r) => r.name === options.floor)!;
    // A floor too fast for the clock (0 ns) gives no ratio rather than an infinite one.
    if (floor.nsPerOp > 0) for (const r of results) r.ratio = r.nsPerOp / floor.nsPerOp;
  }
  return results;
}

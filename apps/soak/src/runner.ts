import { OpStream } from "./ops.js";
import { describeError } from "./replay.js";
import { shrinkFailure } from "./shrink.js";
import type { Op, Soak } from "./soak.js";

/** Options of {@link runSoak}. */
export interface RunOptions {
  /** Operations to run (default: the soak's `defaultOps`). */
  ops?: number;
  seed: number;
  /** `check()` after every this many operations (and always at the end); default 1000. */
  checkEvery?: number;
  /** Wall-clock seconds the shrinker may spend on a failure (default 60). */
  shrinkSeconds?: number;
  /** Called every 4096 operations and at the end with the operations done. */
  onProgress?: (done: number) => void;
}

/** Where a run diverged and the shortest failing run the shrinker found. */
export interface SoakFailure {
  seed: number;
  /** Operations of the run when it diverged (the failing op's index + 1, or all of them when the final drain failed). */
  atOps: number;
  phase: "step" | "check" | "drain";
  message: string;
  /** The shortest failing sequence found, and what each of its operations concretely did. */
  shortest: Op[];
  trace: string[];
  /** What the shortest sequence fails with (it may be another symptom of the same defect). */
  shortestMessage: string;
  replays: number;
  /** True when the shrinker stopped on its time budget rather than at a fixed point. */
  shrinkTimedOut: boolean;
}

/** What one soak run did. */
export interface SoakResult {
  name: string;
  package: string;
  seed: number;
  /** Operations applied (up to the failure, when there was one). */
  ops: number;
  checks: number;
  seconds: number;
  opsPerSecond: number;
  failure: SoakFailure | null;
}

/**
 * Runs `soak` for `ops` operations from `seed`: each operation is applied to the subject and its
 * model, `check()` runs every `checkEvery` operations and at the end, then the final drain gives
 * everything back and requires every page to return. On the first divergence it stops, shrinks the
 * failing run to the shortest it can find (see {@link shrinkFailure}) and reports it.
 *
 * Cost: the soak's own per-operation cost, plus `check()` every `checkEvery` operations; a failure
 * adds the shrinker's replays (bounded by `shrinkSeconds`).
 *
 * @example
 * ```ts
 * const result = runSoak(buddySoak, { ops: 100_000, seed: 1 });
 * if (result.failure) console.log(result.failure.trace.join("\n"));
 * ```
 */
export function runSoak(soak: Soak, options: RunOptions): SoakResult {
  const total = options.ops ?? soak.defaultOps;
  const checkEvery = options.checkEvery ?? 1000;
  const stream = new OpStream(soak, options.seed);
  const started = performance.now();
  let done = 0;
  let checks = 0;
  let phase: SoakFailure["phase"] = "step";
  let error: unknown = null;
  const instance = soak.create(options.seed);
  try {
    for (; done < total; ) {
      phase = "step";
      instance.step(stream.next());
      done++;
      if (done % checkEvery === 0) {
        phase = "check";
        instance.check();
        checks++;
      }
      if ((done & 4095) === 0) options.onProgress?.(done);
    }
    phase = "check";
    instance.check();
    checks++;
    phase = "drain";
    instance.drain();
  } catch (e) {
    error = e;
    if (phase === "step") done++; // the failing operation counts
  } finally {
    instance.dispose?.();
  }
  const seconds = (performance.now() - started) / 1000;
  options.onProgress?.(done);
  const result: SoakResult = { name: soak.name, package: soak.package, seed: options.seed, ops: done, checks, seconds, opsPerSecond: done / Math.max(seconds, 1e-9), failure: null };
  if (error !== null) {
    // A check failure after op n is caught by a replay of n ops; a drain failure needs them all.
    const prefix = new OpStream(soak, options.seed).take(done);
    result.failure = { seed: options.seed, atOps: done, phase, message: describeError(error), ...shrinkFailure(soak, options.seed, prefix, { checkEvery, seconds: options.shrinkSeconds ?? 60 }) };
  }
  return result;
}

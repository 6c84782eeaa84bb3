import { describeError, replay } from "./replay.js";
import type { Op, Soak } from "./soak.js";

/** Options of {@link shrinkFailure}. */
export interface ShrinkOptions {
  /** `check()` cadence while replaying long candidates (short ones are checked after every operation). */
  checkEvery: number;
  /** Wall-clock budget. */
  seconds: number;
}

/** Candidates at most this long are checked after every operation, so an invariant breaks at the step that broke it. */
const CHECK_EVERY_STEP_BELOW = 2000;
/** Words tried when simplifying one: 0 .. SMALL_WORDS - 1. */
const SMALL_WORDS = 8;
/** Runs at most this long also try removing an operation together with a new word for the next one of its kind. */
const PAIR_MOVES_BELOW = 300;

/**
 * Shrinks a failing run as fast-check shrinks a command sequence: removes chunks of operations
 * (halves, quarters, ... single operations) while the run still fails, repeats until nothing more
 * can go, simplifies each remaining operation's words to the smallest of 0..7 that still fails,
 * tries dropping every operation before one together with a small word for it, the last operation
 * after a single other one, and removing one
 * together with a small word for the next one of its kind (a removal shifts what the next one
 * picks), and repeats until nothing changes. A candidate counts when it fails
 * with the same message as the original run, numbers aside (pfns and counts change as it shrinks). Stops at the time budget with the
 * shortest run found so far. Returns the shortest run, what each of its operations did, and its error.
 *
 * Cost: one replay per candidate; about `n log n` replays of shrinking runs for `n` operations.
 *
 * @example
 * ```ts
 * const { shortest, trace } = shrinkFailure(soak, seed, failingOps, { checkEvery: 1000, seconds: 60 });
 * ```
 */
export function shrinkFailure(soak: Soak, seed: number, failing: readonly Op[], options: ShrinkOptions): { shortest: Op[]; trace: string[]; shortestMessage: string; replays: number; shrinkTimedOut: boolean } {
  const deadline = performance.now() + options.seconds * 1000;
  let replays = 0;
  let timedOut = false;
  // A candidate counts when it fails the same way (the same message but for its numbers), so the
  // shrinker does not drift from the defect it was given to another one it happens to meet.
  let signature: string | null = null;
  const fails = (ops: readonly Op[]): boolean => {
    replays++;
    const error = replay(soak, seed, ops, ops.length <= CHECK_EVERY_STEP_BELOW ? 1 : options.checkEvery);
    if (error === null) return false;
    signature ??= failureSignature(error);
    return failureSignature(error) === signature;
  };
  const outOfTime = (): boolean => (timedOut ||= performance.now() > deadline);

  let current = [...failing];
  // The signature is the original run's, replayed as the shrinker replays (it may show earlier with more checks).
  fails(current);
  // With the per-step checks of a short run the failure may show earlier: cut the tail first.
  if (current.length <= CHECK_EVERY_STEP_BELOW) current = cutTail(soak, seed, current, signature);
  for (let changed = true; changed && !outOfTime(); ) {
    changed = false;
    for (let chunk = Math.max(1, Math.floor(current.length / 2)); chunk >= 1 && !outOfTime(); chunk = Math.floor(chunk / 2)) {
      // From the end backwards, so an index stays valid after a removal.
      for (let start = current.length - chunk; start >= 0 && !outOfTime(); start -= chunk) {
        const candidate = current.slice(0, start).concat(current.slice(start + chunk));
        if (fails(candidate)) {
          current = candidate;
          changed = true;
          start = Math.min(start, current.length - chunk + 1);
        }
      }
    }
    // Smaller words read better: the smallest of 0..7 that still fails (a word often picks a live thing by `word % live`).
    for (let i = 0; i < current.length && !outOfTime(); i++) {
      for (const word of ["a", "b"] as const) {
        for (let v = 0; v < Math.min(SMALL_WORDS, current[i]![word]) && !outOfTime(); v++) {
          const candidate = current.slice();
          candidate[i] = { ...current[i]!, [word]: v };
          if (fails(candidate)) {
            current = candidate;
            changed = true;
            break;
          }
        }
      }
    }
    // Removing operations shifts what the next one picks (a pfn `a % pages`, a live thing `a % live`):
    // try dropping everything before an operation together with a small word for it.
    if (current.length <= PAIR_MOVES_BELOW) {
      for (let i = current.length - 1; i >= 1 && !outOfTime(); i--) {
        found: for (const word of ["a", "b"] as const) {
          for (let v = 0; v < SMALL_WORDS && !outOfTime(); v++) {
            const candidate = current.slice(i);
            candidate[0] = { ...candidate[0]!, [word]: v };
            if (fails(candidate)) {
              current = candidate;
              changed = true;
              break found;
            }
          }
        }
        i = Math.min(i, current.length);
      }
    }
    // The failure usually shows at the last operation: try it after a single other one, with small words.
    if (current.length > 2 && current.length <= PAIR_MOVES_BELOW) {
      const last = current[current.length - 1]!;
      found: for (let i = 0; i < current.length - 1 && !outOfTime(); i++) {
        for (const word of ["a", "b"] as const) {
          for (let v = 0; v <= SMALL_WORDS && !outOfTime(); v++) {
            // v === SMALL_WORDS: the operation's own word.
            const helper = v === SMALL_WORDS ? current[i]! : { ...current[i]!, [word]: v };
            if (fails([helper, last])) {
              current = [helper, last];
              changed = true;
              break found;
            }
          }
        }
      }
    }
    // Likewise removing one operation together with a small word for the next one of its kind.
    if (current.length <= PAIR_MOVES_BELOW) {
      for (let i = current.length - 1; i >= 0 && !outOfTime(); i--) {
        let j = i + 1;
        while (j < current.length && current[j]!.kind !== current[i]!.kind) j++;
        if (j >= current.length) continue;
        found: for (const word of ["a", "b"] as const) {
          for (let v = 0; v < SMALL_WORDS; v++) {
            const candidate = current.slice();
            candidate[j] = { ...current[j]!, [word]: v };
            candidate.splice(i, 1);
            if (fails(candidate)) {
              current = candidate;
              changed = true;
              break found;
            }
          }
        }
      }
    }
  }
  const trace: string[] = [];
  const error = replay(soak, seed, current, current.length <= CHECK_EVERY_STEP_BELOW ? 1 : options.checkEvery, trace);
  return { shortest: current, trace, shortestMessage: error === null ? "(the shortest run passed on its last replay: the failure is not deterministic)" : describeError(error), replays, shrinkTimedOut: timedOut };
}

/**
 * What two failures of one defect share: the error's code or name and its message with every
 * number replaced by `#`.
 *
 * @example
 * ```ts
 * failureSignature(new Error("page 12 handed out twice")); // "Error: page # handed out twice"
 * ```
 */
export function failureSignature(error: unknown): string {
  const code = error instanceof Error ? ((error as { code?: unknown }).code ?? error.name) : "thrown";
  return `${String(code)}: ${describeError(error).replace(/^ERR_[A-Z_]+: /, "").replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/gi, "#")}`;
}

/** The shortest prefix of `ops` that still fails when checked after every operation (binary search over lengths; failing is monotone in the prefix). */
function cutTail(soak: Soak, seed: number, ops: Op[], signature: string | null): Op[] {
  let lo = 0;
  let hi = ops.length;
  while (lo + 1 < hi) {
    const mid = (lo + hi) >>> 1;
    const error = replay(soak, seed, ops.slice(0, mid), 1);
    if (error !== null && failureSignature(error) === signature) hi = mid;
    else lo = mid;
  }
  return ops.slice(0, hi);
}

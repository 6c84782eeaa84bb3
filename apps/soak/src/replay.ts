import type { Op, Soak, SoakInstance } from "./soak.js";

/**
 * The error as one line: its code when it has one, and its message.
 *
 * @example
 * ```ts
 * describeError(new MmkitError(ErrorCode.DoubleFree, "pfn 3 is free")); // "ERR_DOUBLE_FREE: pfn 3 is free"
 * ```
 */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${typeof code === "string" ? `${code}: ` : ""}${error.message}`;
  }
  return String(error);
}

/**
 * Replays `ops` on a fresh instance, with `check()` every `checkEvery` operations and at the end,
 * and the final drain; returns the error it fails with, or null when it passes. With `log`, each
 * operation pushes what it did ("(nothing to do)" when it pushed nothing), one line each.
 *
 * @example
 * ```ts
 * const error = replay(soak, 7, ops, 1);
 * ```
 */
export function replay(soak: Soak, seed: number, ops: readonly Op[], checkEvery: number, log?: string[]): unknown {
  let instance: SoakInstance | null = null;
  try {
    instance = soak.create(seed);
    for (let i = 0; i < ops.length; i++) {
      const lines = log?.length ?? 0;
      instance.step(ops[i]!, log);
      // One line per operation, so the printout pairs each with its op: a step with nothing to act
      // on (a free with nothing live) pushes none of its own.
      if (log !== undefined && log.length === lines) log.push("(nothing to do)");
      if ((i + 1) % checkEvery === 0) instance.check();
    }
    instance.check();
    instance.drain();
    return null;
  } catch (e) {
    return e ?? new Error("threw a nullish value");
  } finally {
    instance?.dispose?.();
  }
}

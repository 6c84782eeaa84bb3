import { SeededRandom } from "@mmkit/bench/src/workloads/random.js";
import type { Op, Soak } from "./soak.js";

/**
 * The operations of a soak run, drawn one at a time from `(seed, soak name)`: the same seed always
 * gives the same sequence, and the n-th operation never depends on the subject's state, so a run
 * can be regenerated up to any point without storing it.
 *
 * Cost: three 32-bit draws and a walk over the kinds' cumulative weights per operation.
 *
 * @example
 * ```ts
 * const ops = new OpStream(soak, 42);
 * const first = ops.next(); // { kind, a, b }
 * ```
 */
export class OpStream {
  readonly #rng: SeededRandom;
  readonly #cumulative: Int32Array;
  readonly #total: number;

  constructor(soak: Soak, seed: number) {
    this.#rng = new SeededRandom(seed, `soak/${soak.name}`);
    this.#cumulative = new Int32Array(soak.kinds.length);
    let sum = 0;
    soak.kinds.forEach((k, i) => (this.#cumulative[i] = sum += k.weight));
    this.#total = sum;
  }

  next(): Op {
    const r = this.#rng.below(this.#total);
    let kind = 0;
    while (this.#cumulative[kind]! <= r) kind++;
    return { kind, a: this.#rng.nextUint32(), b: this.#rng.nextUint32() };
  }

  /** The next `count` operations as an array (for replaying and shrinking a failing prefix). */
  take(count: number): Op[] {
    const out: Op[] = new Array<Op>(count);
    for (let i = 0; i < count; i++) out[i] = this.next();
    return out;
  }
}

/**
 * An operation as the failing-sequence printout shows it: its kind's name and its two words.
 *
 * @example
 * ```ts
 * formatOp(soak, { kind: 1, a: 7, b: 0 }); // "free(a=7, b=0)"
 * ```
 */
export function formatOp(soak: Soak, op: Op): string {
  return `${soak.kinds[op.kind]?.name ?? `kind ${op.kind}`}(a=${op.a}, b=${op.b})`;
}

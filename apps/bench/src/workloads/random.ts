import { ErrorCode, MmkitError, describeValue, requireInteger } from "@mmkit/physmem";

/** The seed a run uses when `--seed` is not given ("mmkt" in ASCII), so two plain runs replay the same workloads. */
export const DEFAULT_SEED = 0x6d6d6b74;

const TWO_POW_32 = 4294967296;

/** FNV-1a over the UTF-16 code units of `text`: names a stream so each workload draws its own sequence. */
function hashStream(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * A seeded 32-bit pseudo-random generator (xoshiro128** state, seeded through a splitmix-style
 * mixer), so every workload is reproducible from `--seed`. A `stream` name derives an independent
 * sequence from the same seed: adding a workload, or drawing more numbers in one, never changes the
 * numbers another workload sees.
 *
 * Not for cryptography. Cost: a handful of 32-bit integer operations per number; workloads draw
 * their numbers into typed arrays before timing starts, so the PRNG is never inside a timed loop.
 *
 * @example
 * ```ts
 * const rng = new SeededRandom(42, "floors/churn");
 * rng.nextUint32();          // the same number on every run with seed 42
 * rng.below(10_000);         // an unbiased integer in [0, 10000)
 * ```
 */
export class SeededRandom {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;

  constructor(seed: number, stream = "") {
    requireInteger(seed, "seed", 0, 0xffffffff);
    if (typeof stream !== "string") {
      throw new MmkitError(ErrorCode.InvalidArgument, `stream must be a string, got ${describeValue(stream)}`);
    }
    // Expand (seed, stream) into 128 bits of state with a splitmix-style sequence.
    let x = (seed ^ hashStream(stream)) | 0;
    const mix = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) | 0;
    };
    this.#s0 = mix();
    this.#s1 = mix();
    this.#s2 = mix();
    this.#s3 = mix();
    if ((this.#s0 | this.#s1 | this.#s2 | this.#s3) === 0) this.#s0 = 1; // the all-zero state is a fixed point
  }

  /**
   * A generator starting from a raw 128-bit xoshiro128 state (four 32-bit words, not all zero):
   * for checking the generator against the algorithm's published reference outputs.
   */
  static fromState(state: readonly [number, number, number, number]): SeededRandom {
    state.forEach((word, i) => requireInteger(word, `state[${i}]`, 0, 0xffffffff));
    if (state.every((word) => word === 0)) throw new MmkitError(ErrorCode.InvalidArgument, "state must not be all zero");
    const rng = new SeededRandom(0);
    [rng.#s0, rng.#s1, rng.#s2, rng.#s3] = state.map((w) => w | 0) as [number, number, number, number];
    return rng;
  }

  /** The next 32-bit unsigned integer, uniform in [0, 2^32). O(1). */
  nextUint32(): number {
    const s1 = this.#s1;
    const product = Math.imul(s1, 5);
    const result = Math.imul((product << 7) | (product >>> 25), 9);
    const t = s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = (this.#s3 << 11) | (this.#s3 >>> 21);
    return result >>> 0;
  }

  /** A uniform float in [0, 1) with 32 bits of randomness. O(1). */
  float(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /**
   * An unbiased integer in [0, n) for 1 <= n <= 2^32 (rejection sampling: expected fewer than two
   * draws). Throws `ERR_OUT_OF_RANGE` for n outside that range.
   */
  below(n: number): number {
    requireInteger(n, "n", 1, TWO_POW_32);
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** An unbiased integer in [min, max] (inclusive). */
  between(min: number, max: number): number {
    requireInteger(min, "min", 0);
    requireInteger(max, "max", min, min + TWO_POW_32 - 1);
    return min + this.below(max - min + 1);
  }

  /** Fills `target` with integers in [0, n) and returns it. O(target.length). */
  fillBelow<T extends Int32Array | Uint32Array | Float64Array>(target: T, n: number): T {
    requireInteger(n, "n", 1, TWO_POW_32);
    for (let i = 0; i < target.length; i++) target[i] = this.below(n);
    return target;
  }

  /** Shuffles `array` in place (Fisher-Yates) and returns it. O(array.length). */
  shuffle<T extends { length: number; [index: number]: number }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const v = array[i]!;
      array[i] = array[j]!;
      array[j] = v;
    }
    return array;
  }
}

/**
 * `length` integers in [0, n), drawn from the stream `stream` of `seed`: the index sequence a
 * timed loop walks (cyclically) instead of calling a PRNG per operation. Make `length` a power of
 * two if the loop wraps with a mask (see {@link requirePowerOfTwoLength}).
 *
 * @example
 * ```ts
 * const slots = randomIndices(seed, "churn", 1 << 16, 10_000);
 * // in the timed loop: const r = slots[c]; c = (c + 1) & (slots.length - 1);
 * ```
 */
export function randomIndices(seed: number, stream: string, length: number, n: number): Int32Array {
  requireInteger(length, "length", 1, 1 << 28);
  requireInteger(n, "n", 1, 0x7fffffff);
  return new SeededRandom(seed, stream).fillBelow(new Int32Array(length), n);
}

/**
 * Throws unless `length` is a power of two in [1, 2^28] (a sequence a loop wraps with
 * `& (length - 1)`); returns it.
 *
 * @example
 * ```ts
 * const mask = requirePowerOfTwoLength(options.sequence ?? 1 << 16, "sequence") - 1;
 * ```
 */
export function requirePowerOfTwoLength(length: number, name: string): number {
  requireInteger(length, name, 1, 1 << 28);
  if ((length & (length - 1)) !== 0) {
    throw new MmkitError(ErrorCode.InvalidArgument, `${name} must be a power of two, got ${describeValue(length)}`);
  }
  return length;
}

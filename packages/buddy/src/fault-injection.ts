import { ErrorCode, MmkitError, describeValue, requireInteger } from "@mmkit/physmem";
import { optional, requireOptions } from "./options.js";

/**
 * Settings of {@link FaultInjector}, named after the kernel's `fail_page_alloc` debugfs files.
 *
 * @example
 * ```ts
 * buddy.setFaultInjection({ probability: 100, times: 1, minOrder: 3 });
 * buddy.allocPages(3);   // -1: the one injected failure
 * buddy.allocPages(3);   // 0
 * ```
 */
export interface FaultInjectionOptions {
  /** Percent chance (0..100) that an eligible allocation fails. */
  probability: number;
  /** Only every `interval`-th eligible allocation may fail (default 1: each one). */
  interval?: number;
  /** How many failures to inject before stopping; -1 for no limit (default -1). */
  times?: number;
  /** Pages that must be allocated before failures start (default 0). */
  space?: number;
  /** Allocations below this order never fail (default 1, as the kernel's `min-order`). */
  minOrder?: number;
  /** Only fail atomic (non-blocking) allocations, like the kernel's `ignore-gfp-wait` (default false). */
  ignoreBlocking?: boolean;
  /** Seed of the pseudo-random sequence: the same seed and calls give the same failures (default 1). */
  seed?: number;
}

/** Validates `options` and returns them with defaults filled in; throws `MmkitError` on bad input. */
export function normalizeFaultOptions(options: FaultInjectionOptions): Required<FaultInjectionOptions> {
  requireOptions(options, "fault injection options");
  const probability = options.probability;
  // Not a number (NaN included) is a bad value; a number outside [0, 100] is out of range.
  if (typeof probability !== "number" || Number.isNaN(probability)) {
    throw new MmkitError(ErrorCode.InvalidArgument, `faultInjection.probability must be a percentage in [0, 100], got ${describeValue(probability)}`);
  }
  if (!(probability >= 0 && probability <= 100)) {
    throw new MmkitError(ErrorCode.OutOfRange, `faultInjection.probability must be a percentage in [0, 100], got ${describeValue(probability)}`);
  }
  // `optional`, not `??`: a setting of null is refused, not taken for the default.
  const ignoreBlocking = optional<unknown>(options.ignoreBlocking, false);
  if (typeof ignoreBlocking !== "boolean") {
    throw new MmkitError(ErrorCode.InvalidArgument, `faultInjection.ignoreBlocking must be a boolean, got ${describeValue(ignoreBlocking)}`);
  }
  return {
    probability,
    interval: requireInteger(optional(options.interval, 1), "faultInjection.interval", 1, 2 ** 31 - 1),
    times: requireInteger(optional(options.times, -1), "faultInjection.times", -1, Number.MAX_SAFE_INTEGER),
    space: requireInteger(optional(options.space, 0), "faultInjection.space", 0, Number.MAX_SAFE_INTEGER),
    minOrder: requireInteger(optional(options.minOrder, 1), "faultInjection.minOrder", 0, 31),
    ignoreBlocking,
    seed: requireInteger(optional(options.seed, 1), "faultInjection.seed", 0, 2 ** 32 - 1),
  };
}

/** Largest order {@link FaultInjector.shouldFail} accepts (2^63 pages is still an exact double). */
const MAX_FAULT_ORDER = 63;

/** The error for `shouldFail(order, atomic)` once its combined check failed. */
function shouldFailError(order: unknown, atomic: unknown): MmkitError {
  try {
    requireInteger(order, "order", 0, MAX_FAULT_ORDER);
  } catch (e) {
    return e as MmkitError;
  }
  return new MmkitError(ErrorCode.InvalidArgument, `atomic must be a boolean, got ${describeValue(atomic)}`);
}

/**
 * Seeded `fail_page_alloc`: decides, reproducibly, which allocations fail. The checks run in the
 * kernel's order (`should_fail_alloc_page`, then `should_fail_ex`): order below `minOrder` and,
 * with `ignoreBlocking`, blocking requests never fail; while `times` is 0 nothing fails; `space`
 * absorbs the first pages; then every `interval`-th call fails with `probability` percent.
 *
 * Cost: O(1) per call, one xorshift step.
 *
 * @example
 * ```ts
 * const f = new FaultInjector({ probability: 100, interval: 2, minOrder: 0 });
 * [f.shouldFail(0, false), f.shouldFail(0, false)]; // [false, true]
 * ```
 */
export class FaultInjector {
  /** The injector's settings, with every default filled in. */
  readonly options: Readonly<Required<FaultInjectionOptions>>;
  #times: number;
  #space: number;
  #count = 0;
  #state: number;
  /** Failures injected so far. */
  injected = 0;

  constructor(options: FaultInjectionOptions) {
    this.options = Object.freeze(normalizeFaultOptions(options));
    this.#times = this.options.times;
    this.#space = this.options.space;
    this.#state = this.options.seed >>> 0 || 0x9e3779b9;
  }

  /** Failures left before `times` runs out (-1: no limit). */
  get timesLeft(): number {
    return this.#times;
  }

  /**
   * True when an allocation of `order` (an integer in [0, 63]; atomic or not) should fail now.
   * Throws (changing nothing) for another order or a non-boolean `atomic`.
   */
  shouldFail(order: number, atomic: boolean): boolean {
    // One combined check on the allocation path; the diagnosis is out of line. `typeof` first:
    // `>>>` on a BigInt throws a TypeError.
    if (typeof order !== "number" || (order >>> 0) !== order || order > MAX_FAULT_ORDER || typeof atomic !== "boolean") throw shouldFailError(order, atomic);
    const o = this.options;
    if (order < o.minOrder) return false;
    if (o.ignoreBlocking && !atomic) return false;
    if (this.#times === 0) return false;
    const size = 2 ** order;
    if (this.#space > size) {
      this.#space -= size;
      return false;
    }
    if (o.interval > 1) {
      this.#count++;
      if (this.#count % o.interval !== 0) return false;
    }
    if (o.probability <= this.#below100()) return false;
    if (this.#times !== -1) this.#times--;
    this.injected++;
    return true;
  }

  // xorshift32, then a value in [0, 100) like get_random_u32_below(100).
  #below100(): number {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return Math.floor(((x >>> 0) * 100) / 4294967296);
  }
}

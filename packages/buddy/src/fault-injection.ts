import { ErrorCode, MmkitError, describeValue, requireInteger } from "@mmkit/physmem";

/**
 * Settings of {@link FaultInjector}, named after the kernel's `fail_page_alloc` debugfs files.
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
  if (options === null || typeof options !== "object") {
    throw new MmkitError(ErrorCode.InvalidArgument, `fault injection options must be an object, got ${describeValue(options)}`);
  }
  const probability = options.probability;
  if (typeof probability !== "number" || !(probability >= 0 && probability <= 100)) {
    throw new MmkitError(ErrorCode.OutOfRange, `faultInjection.probability must be a percentage in [0, 100], got ${describeValue(probability)}`);
  }
  const ignoreBlocking = options.ignoreBlocking ?? false;
  if (typeof ignoreBlocking !== "boolean") {
    throw new MmkitError(ErrorCode.InvalidArgument, `faultInjection.ignoreBlocking must be a boolean, got ${describeValue(ignoreBlocking)}`);
  }
  return {
    probability,
    interval: requireInteger(options.interval ?? 1, "faultInjection.interval", 1, 2 ** 31 - 1),
    times: requireInteger(options.times ?? -1, "faultInjection.times", -1, Number.MAX_SAFE_INTEGER),
    space: requireInteger(options.space ?? 0, "faultInjection.space", 0, Number.MAX_SAFE_INTEGER),
    minOrder: requireInteger(options.minOrder ?? 1, "faultInjection.minOrder", 0, 31),
    ignoreBlocking,
    seed: requireInteger(options.seed ?? 1, "faultInjection.seed", 0, 2 ** 32 - 1),
  };
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

  /** True when an allocation of `order` (atomic or not) should fail now. */
  shouldFail(order: number, atomic: boolean): boolean {
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

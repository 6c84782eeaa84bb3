import { ErrorCode, MmkitError, describeValue } from "./errors.js";

/**
 * Argument checks shared by the mmkit packages. Each throws an {@link MmkitError} naming the
 * argument and its value, and is cheap enough for an allocator's hot path (one or two compares
 * when the value is good).
 */

/**
 * Throws unless `value` is a safe integer in `[min, max]`; returns it. Bounds that are not numbers
 * (NaN, a string) admit nothing: the range test is written so that it fails rather than passes.
 *
 * @example
 * ```ts
 * requireInteger(3, "order", 0, 10);     // 3
 * requireInteger(1.5, "order");          // throws ERR_INVALID_ARGUMENT "order must be an integer, got 1.5"
 * requireInteger(11, "order", 0, 10);    // throws ERR_OUT_OF_RANGE "order must be in [0, 10], got 11"
 * ```
 */
export function requireInteger(value: unknown, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new MmkitError(ErrorCode.InvalidArgument, `${name} must be an integer, got ${describeValue(value)}`);
  }
  if (!(value >= min && value <= max)) {
    throw new MmkitError(ErrorCode.OutOfRange, `${name} must be in [${describeValue(min)}, ${describeValue(max)}], got ${describeValue(value)}`);
  }
  return value;
}

/**
 * True when `value` is a positive integer power of two (1, 2, 4, ... up to 2^52).
 *
 * @example
 * ```ts
 * isPowerOfTwo(4096);          // true
 * isPowerOfTwo(0);             // false
 * isPowerOfTwo(2 ** 52 + 1);   // false
 * ```
 */
export function isPowerOfTwo(value: number): boolean {
  if (!Number.isSafeInteger(value) || value <= 0) return false;
  // Bitwise tricks only work below 2^31. log2 is exact for powers of two, but it rounds for
  // their neighbours above 2^48 (log2(2^52 + 1) is 52), so check the power it names.
  return 2 ** Math.round(Math.log2(value)) === value;
}

/**
 * Throws unless `value` is a power of two in `[min, max]`; returns it.
 *
 * @example
 * ```ts
 * requirePowerOfTwo(4096, "page size");   // 4096
 * requirePowerOfTwo(3000, "page size");   // throws ERR_INVALID_ARGUMENT "page size must be a power of two, got 3000"
 * ```
 */
export function requirePowerOfTwo(value: unknown, name: string, min = 1, max = 2 ** 52): number {
  if (typeof value !== "number" || !isPowerOfTwo(value)) {
    throw new MmkitError(ErrorCode.InvalidArgument, `${name} must be a power of two, got ${describeValue(value)}`);
  }
  if (!(value >= min && value <= max)) {
    throw new MmkitError(ErrorCode.OutOfRange, `${name} must be in [${describeValue(min)}, ${describeValue(max)}], got ${describeValue(value)}`);
  }
  return value;
}

/**
 * log2 of a power of two, exact for every power of two a double holds (2^-1074 to 2^1023).
 * Throws `ERR_INVALID_ARGUMENT` for anything else.
 *
 * @example
 * ```ts
 * log2Exact(4096);   // 12
 * log2Exact(0.5);    // -1
 * log2Exact(3);      // throws ERR_INVALID_ARGUMENT
 * ```
 */
export function log2Exact(powerOfTwo: number): number {
  const log = typeof powerOfTwo === "number" ? Math.round(Math.log2(powerOfTwo)) : NaN;
  if (!(powerOfTwo > 0 && powerOfTwo < Infinity && 2 ** log === powerOfTwo)) {
    throw new MmkitError(ErrorCode.InvalidArgument, `log2Exact needs a power of two, got ${describeValue(powerOfTwo)}`);
  }
  return log;
}

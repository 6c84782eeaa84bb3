import { ErrorCode, MmkitError, describeValue } from "@mmkit/physmem";

/**
 * Largest index a maple tree holds: 2^53 - 1, the largest integer a JS number represents exactly.
 *
 * @example
 * ```ts
 * tree.store(0, MAX_INDEX, 1); // the whole index space
 * ```
 */
export const MAX_INDEX = Number.MAX_SAFE_INTEGER;

/** Throws `ERR_INVALID_ARGUMENT` / `ERR_OUT_OF_RANGE` unless `value` is an integer index in [0, 2^53 - 1]. */
export function requireIndex(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new MmkitError(ErrorCode.InvalidArgument, `${name} must be an integer index, got ${describeValue(value)}`);
  }
  if (value < 0 || value > MAX_INDEX) {
    throw new MmkitError(ErrorCode.OutOfRange, `${name} must be in [0, ${MAX_INDEX}], got ${describeValue(value)}`);
  }
  return value;
}

/** Throws unless `first` and `last` are indices with `first <= last`. */
export function requireRange(first: unknown, last: unknown): void {
  const f = requireIndex(first, "first");
  const l = requireIndex(last, "last");
  if (f > l) throw new MmkitError(ErrorCode.InvalidArgument, `first ${f} must not exceed last ${l}`);
}

/** Throws `ERR_INVALID_ARGUMENT` unless `value` is a finite number (the values a maple tree stores). */
export function requireValue(value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new MmkitError(ErrorCode.InvalidArgument, `value must be a finite number, got ${describeValue(value)}`);
  }
  return value;
}

/** Throws unless `[min, max]` is a window of indices that can hold `size` indices. */
export function requireWindow(min: unknown, max: unknown, size: unknown): void {
  const lo = requireIndex(min, "min");
  const hi = requireIndex(max, "max");
  if (lo > hi) throw new MmkitError(ErrorCode.InvalidArgument, `min ${lo} must not exceed max ${hi}`);
  if (typeof size !== "number" || !Number.isInteger(size)) {
    throw new MmkitError(ErrorCode.InvalidArgument, `size must be an integer, got ${describeValue(size)}`);
  }
  if (size < 1) throw new MmkitError(ErrorCode.OutOfRange, `size must be at least 1, got ${describeValue(size)}`);
  if (size > hi - lo + 1) {
    throw new MmkitError(ErrorCode.OutOfRange, `size ${size} does not fit the window [${lo}, ${hi}] of ${hi - lo + 1} indices`);
  }
}

/** The error for an `out` argument that is not an object to fill (kept out of line). */
export function badOut(value: unknown): never {
  throw new MmkitError(ErrorCode.InvalidArgument, `out must be an object to fill, got ${describeValue(value)}`);
}

/** The error every public method throws for a non-integer or out-of-range lookup index (kept out of line). */
export function badIndex(value: unknown, name = "index"): never {
  requireIndex(value, name);
  throw new MmkitError(ErrorCode.InvalidArgument, `${name} is invalid: ${describeValue(value)}`);
}

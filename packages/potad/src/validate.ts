import { ErrorCode, MmkitError, describeValue } from "@mmkit/physmem";

/**
 * Argument checks off POTAD's hot paths: options objects, the pluggable parts a constructor takes,
 * and the diagnosis of a bad address. Each throws an `MmkitError` naming the value and changes
 * nothing.
 */

/**
 * Throws unless `value` is an options object: not null, not a primitive, not an array (an array has
 * none of the option names; passing one is a mistake, and TypeScript refuses it too).
 *
 * @example
 * ```ts
 * if (options !== undefined) requireOptions(options, "allocation options");
 * ```
 */
export function requireOptions(value: unknown, what: string): void {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new MmkitError(ErrorCode.InvalidArgument, `${what} must be an object, got ${Array.isArray(value) ? "an array" : describeValue(value)}`);
  }
}

/** Throws unless `value` has a `DescriptorIndex`'s `store`, `erase` and `load`. */
export function requireDescriptorIndex(value: unknown): void {
  const v = value as { store?: unknown; erase?: unknown; load?: unknown } | null;
  if (v === null || typeof v !== "object" || typeof v.store !== "function" || typeof v.erase !== "function" || typeof v.load !== "function") {
    throw new MmkitError(ErrorCode.InvalidArgument, `descriptorIndex must be a DescriptorIndex (store, erase, load), got ${describeValue(value)}`);
  }
}

/** The error for an address that is not a non-negative safe integer. */
export function addressError(address: unknown): MmkitError {
  return new MmkitError(ErrorCode.InvalidArgument, `address must be a non-negative integer, got ${describeValue(address)}`);
}

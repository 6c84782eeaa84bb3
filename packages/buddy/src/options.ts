import { ErrorCode, MmkitError, describeValue } from "@mmkit/physmem";

/** Reading option objects: shared by the allocator's constructor, fault injection and the per-call checks in `misuse.ts`. */

/**
 * Throws unless `value` is an options object: not null, not a primitive, not an array (an array
 * has none of the option names; passing one is a mistake, and TypeScript refuses it too).
 */
export function requireOptions(value: unknown, what: string): void {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new MmkitError(ErrorCode.InvalidArgument, `${what} must be an object, got ${Array.isArray(value) ? "an array" : describeValue(value)}`);
  }
}

/** `value`, or `dflt` when it is undefined (not `??`: null is a wrong value, not an absent one). */
export function optional<T>(value: T | undefined, dflt: T): T {
  return value === undefined ? dflt : value;
}

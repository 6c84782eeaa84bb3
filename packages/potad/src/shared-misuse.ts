import { ErrorCode, MmkitError, describeValue, requireInteger } from "@mmkit/physmem";
import { POW2, ceilLog2, floorLog2 } from "./layout.js";
import { CPU_SHIFT, STATE_MASK, S_ALLOCATED, S_CACHED, S_FREE, ORDER_MASK, ORDER_SHIFT } from "./shared-layout.js";
import { spaceOf, type SharedSpaces } from "./shared-spaces.js";
import { addressError } from "./validate.js";

/**
 * Argument checks and misuse diagnosis of a shared POTAD, off its lockless paths. Each throws an
 * `MmkitError` naming the value and changes nothing.
 */

/** The error every call on a detached shared POTAD or front throws. */
export function detachedError(what: string): MmkitError {
  return new MmkitError(ErrorCode.Detached, `${what} was detached from the shared POTAD; attach again to use it`);
}

/**
 * Returns `space` when it is a space id of `sp`, else throws `ERR_INVALID_ARGUMENT`. O(1).
 *
 * @example
 * ```ts
 * const s = requireSharedSpace(spaces, 0);
 * ```
 */
export function requireSharedSpace(sp: SharedSpaces, space: unknown): number {
  if (typeof space !== "number" || (space >>> 0) !== space || space >= sp.count) {
    throw new MmkitError(ErrorCode.InvalidArgument, `space must be a space id in [0, ${sp.count - 1}], got ${describeValue(space)}`);
  }
  return space;
}

/** Returns `order` when it is an integer in [0, the space's largest order], else throws. O(1). */
export function requireSharedOrder(sp: SharedSpaces, s: number, order: unknown): number {
  return requireInteger(order, "order", 0, sp.maxOrder[s]!);
}

/**
 * The order of a `size`-byte block in space `s` (size rounded up to a power of two, at least the
 * granule). Throws `ERR_INVALID_ARGUMENT` for a size that is not a positive integer and
 * `ERR_OUT_OF_RANGE` for one beyond the space's largest block. O(1).
 *
 * @example
 * ```ts
 * orderForSize(spaces, 0, 5000);   // 1 with a 4 KiB granule (an 8 KiB block)
 * ```
 */
export function orderForSize(sp: SharedSpaces, s: number, size: unknown): number {
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 1) {
    throw new MmkitError(ErrorCode.InvalidArgument, `size must be a positive integer, got ${describeValue(size)}`);
  }
  const order = Math.max(ceilLog2(size) - floorLog2(sp.granule[s]!), 0);
  if (order > sp.maxOrder[s]!) {
    throw new MmkitError(ErrorCode.OutOfRange, `size ${size} (a ${POW2[order + floorLog2(sp.granule[s]!)]}-byte block) exceeds space ${s} (${sp.size[s]} bytes)`);
  }
  return order;
}

/**
 * The global granule index of the allocated block starting at `address`, after checking
 * `expectedSize` when given; else throws: `ERR_INVALID_ARGUMENT` (not a non-negative integer, or a
 * bad expected size), `ERR_NOT_ALLOCATED` (in no space, inside a block, or in free space),
 * `ERR_DOUBLE_FREE` (a block waiting on a front), `ERR_WRONG_SIZE`. Exact under the zone lock
 * for every block but those on another worker's front, which that worker changes without it.
 * O(spaces).
 */
export function diagnoseAddress(sp: SharedSpaces, slots: Int32Array, address: unknown, expectedSize: unknown): number {
  if (typeof address !== "number" || !Number.isSafeInteger(address) || address < 0) throw addressError(address);
  const s = spaceOf(sp, address);
  if (s < 0) throw new MmkitError(ErrorCode.NotAllocated, `address ${address} is in no space`);
  const rel = (address - sp.base[s]!) / sp.granule[s]!;
  const m = rel % 1 === 0 ? slots[(sp.offset[s]! + rel) << 2]! : 0;
  const state = m & STATE_MASK;
  if (state === S_CACHED) {
    throw new MmkitError(ErrorCode.DoubleFree, `address ${address} is free already (waiting on cpu ${m >>> CPU_SHIFT}'s front)`);
  }
  if (state === S_FREE) throw new MmkitError(ErrorCode.NotAllocated, `address ${address} is not allocated: it starts a free block (never handed out, or freed already)`);
  if (state !== S_ALLOCATED) throw new MmkitError(ErrorCode.NotAllocated, `address ${address} is not the start of a block (inside an allocation or inside free space)`);
  if (expectedSize !== undefined) {
    if (typeof expectedSize !== "number" || !Number.isSafeInteger(expectedSize) || expectedSize < 1) {
      throw new MmkitError(ErrorCode.InvalidArgument, `expectedSize must be a positive integer, got ${describeValue(expectedSize)}`);
    }
    const size = sp.granule[s]! * POW2[(m >> ORDER_SHIFT) & ORDER_MASK]!;
    if (expectedSize !== size) throw new MmkitError(ErrorCode.WrongSize, `the allocation at ${address} is ${size} bytes, not ${expectedSize}`);
  }
  return sp.offset[s]! + rel;
}

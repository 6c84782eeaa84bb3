import { ErrorCode, MmkitError, describeValue, requireInteger, requirePowerOfTwo } from "@mmkit/physmem";
import { MAX_FRONT_ORDER, MAX_SPACE_END, POW2, floorLog2 } from "./layout.js";
import type { SpaceSpec } from "./potad.js";
import { requireOptions } from "./validate.js";

/**
 * The fixed geometry of a shared POTAD's spaces: plain data computed from the specs in every
 * worker (it never changes after creation, so it need not live in shared memory). Space `s` owns
 * the global granule indices `offset[s] .. offset[s] + granules[s] - 1` of the shared tables.
 */
export interface SharedSpaces {
  count: number;
  base: Float64Array;
  size: Float64Array;
  granule: Float64Array;
  /** base / granule: the space's first granule as an absolute granule number (alignment is absolute). */
  baseGranule: Float64Array;
  offset: Int32Array;
  granules: Int32Array;
  maxOrder: Int32Array;
  frontOrder: Int32Array;
  /** Granules over every space. */
  total: number;
}

/** Most granules over all spaces: a 16-byte slot each in one shared arena of at most 2^31 bytes. */
export const MAX_SHARED_GRANULES = 2 ** 26;

/**
 * Validates the specs (as `Potad.addSpace` does, plus the shared mode's bound on granules) and
 * lays the spaces out. Throws (an `MmkitError` naming the value) on a bad spec, overlapping
 * spaces, or more than {@link MAX_SHARED_GRANULES} granules. O(spaces^2).
 *
 * @example
 * ```ts
 * const spaces = layoutSpaces([{ base: 0, size: 1 << 24, granule: 4096 }]);   // spaces.total === 4096
 * ```
 */
export function layoutSpaces(specs: readonly SpaceSpec[]): SharedSpaces {
  if (!Array.isArray(specs) || specs.length === 0) {
    throw new MmkitError(ErrorCode.InvalidArgument, `spaces must be a non-empty array of space specs, got ${describeValue(specs)}`);
  }
  const n = specs.length;
  const out: SharedSpaces = {
    count: n,
    base: new Float64Array(n),
    size: new Float64Array(n),
    granule: new Float64Array(n),
    baseGranule: new Float64Array(n),
    offset: new Int32Array(n),
    granules: new Int32Array(n),
    maxOrder: new Int32Array(n),
    frontOrder: new Int32Array(n),
    total: 0,
  };
  let total = 0;
  for (let s = 0; s < n; s++) {
    const spec = specs[s]!;
    requireOptions(spec, `space ${s}`);
    const granule = requirePowerOfTwo(spec.granule, "granule", 1, 2 ** 52);
    const base = requireInteger(spec.base, "base", 0, MAX_SPACE_END);
    const size = requireInteger(spec.size, "size", 1, MAX_SPACE_END);
    if (base % granule !== 0) throw new MmkitError(ErrorCode.NotAligned, `base ${base} is not a multiple of the granule ${granule}`);
    if (size % granule !== 0) throw new MmkitError(ErrorCode.NotAligned, `size ${size} is not a multiple of the granule ${granule}`);
    if (base + size > MAX_SPACE_END) throw new MmkitError(ErrorCode.OutOfRange, `space [${base}, ${base + size}) ends beyond 2^53`);
    const frontOrder = spec.frontOrder === undefined ? 0 : requireInteger(spec.frontOrder, "frontOrder", 0, MAX_FRONT_ORDER);
    for (let o = 0; o < s; o++) {
      if (base < out.base[o]! + out.size[o]! && out.base[o]! < base + size) {
        throw new MmkitError(ErrorCode.Overlap, `space ${s} [${base}, ${base + size}) overlaps space ${o} [${out.base[o]}, ${out.base[o]! + out.size[o]!})`);
      }
    }
    const granules = size / granule;
    if (total + granules > MAX_SHARED_GRANULES) {
      throw new MmkitError(ErrorCode.OutOfRange, `shared mode keeps a record slot per granule: space ${s} (${granules} granules of ${granule} bytes) brings the total beyond ${MAX_SHARED_GRANULES}; use a larger granule`);
    }
    out.base[s] = base;
    out.size[s] = size;
    out.granule[s] = granule;
    out.baseGranule[s] = base / granule;
    out.offset[s] = total;
    out.granules[s] = granules;
    out.maxOrder[s] = floorLog2(granules);
    out.frontOrder[s] = frontOrder;
    total += granules;
  }
  out.total = total;
  return out;
}

/**
 * The space holding `address` (a non-negative number), or -1. O(spaces).
 *
 * @example
 * ```ts
 * spaceOf(spaces, 8192);   // 0 for a space [0, 16 MiB)
 * ```
 */
export function spaceOf(sp: SharedSpaces, address: number): number {
  for (let s = 0; s < sp.count; s++) {
    const rel = address - sp.base[s]!;
    if (rel >= 0 && rel < sp.size[s]!) return s;
  }
  return -1;
}

/** Bytes of a block of `order` in space `s`. */
export function blockBytes(sp: SharedSpaces, s: number, order: number): number {
  return sp.granule[s]! * POW2[order]!;
}

import { ErrorCode, MmkitError, describeValue } from "@mmkit/physmem";

/**
 * The memdesc type tag: bits 0-3 of the 8-byte memory descriptor that replaces `struct page` in
 * Matthew Wilcox's memdesc plan. The other bits are a pointer to the descriptor (a folio, a slab,
 * a ptdesc...), which is why descriptors are allocated 16-byte aligned; type 0 (Misc) stores its
 * data in the word itself.
 */
export const MemdescType = {
  /** No descriptor: reserved, zero page, guard, offline... (subtype in bits 4-10, see {@link MiscSubtype}). */
  Misc: 0,
  /** Free memory owned by the page allocator (an embedded `struct buddy`). */
  Buddy: 1,
  /** A page-cache folio (`struct folio`). */
  File: 2,
  /** An anonymous folio (`struct anon_folio`). */
  Anon: 3,
  /** A KSM-merged page. */
  Ksm: 4,
  /** A slab (`struct slab`). */
  Slab: 5,
  /** Movable driver memory (`struct movable`). */
  Movable: 6,
  /** A page table (`struct ptdesc`). */
  PageTable: 7,
  /** A network page pool (`struct netpool`). */
  NetPool: 8,
  /** Memory that failed (`struct hwpoison`). */
  HwPoison: 9,
  /** Per-CPU memory (`struct pcpudesc`). */
  PerCpu: 10,
} as const;

/** One of {@link MemdescType}'s values (0-15; 11-15 are unassigned but encodable). */
export type MemdescType = (typeof MemdescType)[keyof typeof MemdescType];

/** Subtypes of {@link MemdescType.Misc}, kept in bits 4-10. */
export const MiscSubtype = {
  Reserved: 0,
  ZeroPage: 1,
  Unknown: 2,
  Vmalloc: 3,
  Guard: 4,
  Offline: 5,
  KmallocLarge: 6,
  Exact: 7,
  Brd: 8,
} as const;

/** Alignment every descriptor must have so the low 4 bits of its handle are free for the type. */
export const MEMDESC_ALIGN = 16;
/** Largest handle: the largest multiple of 16 below 2^53. */
export const MAX_MEMDESC_HANDLE = 2 ** 53 - MEMDESC_ALIGN;

const NAMES = ["misc", "buddy", "file", "anon", "ksm", "slab", "movable", "page-table", "net-pool", "hwpoison", "percpu", "type-11", "type-12", "type-13", "type-14", "type-15"];

/**
 * The memdesc for descriptor `handle` (a 16-byte-aligned address or id) of `type`: `handle | type`.
 * Throws `ERR_NOT_ALIGNED` for a handle whose low 4 bits are not free, `ERR_OUT_OF_RANGE` for a
 * type outside 0-15 or a handle beyond 2^53 - 16. Cost: O(1), no allocation.
 *
 * @example
 * ```ts
 * const desc = encodeMemdesc(MemdescType.Slab, 0x1230);
 * memdescType(desc);   // 5
 * memdescHandle(desc); // 0x1230
 * ```
 */
export function encodeMemdesc(type: number, handle: number): number {
  if (typeof type !== "number" || !Number.isInteger(type)) throw new MmkitError(ErrorCode.InvalidArgument, `memdesc type must be an integer, got ${describeValue(type)}`);
  if (type < 0 || type > 15) throw new MmkitError(ErrorCode.OutOfRange, `memdesc type must be in [0, 15], got ${type}`);
  if (typeof handle !== "number" || !Number.isInteger(handle)) throw new MmkitError(ErrorCode.InvalidArgument, `memdesc handle must be an integer, got ${describeValue(handle)}`);
  if (handle < 0 || handle > MAX_MEMDESC_HANDLE) throw new MmkitError(ErrorCode.OutOfRange, `memdesc handle must be in [0, ${MAX_MEMDESC_HANDLE}], got ${handle}`);
  if (alignedDown(handle) !== handle) throw new MmkitError(ErrorCode.NotAligned, `memdesc handle ${handle} is not ${MEMDESC_ALIGN}-byte aligned (its low 4 bits hold the type)`);
  return handle + type;
}

/**
 * The type tag (bits 0-3) of a memdesc, or -1 for -1 (what the tables return for no descriptor).
 * Throws `ERR_INVALID_ARGUMENT` for anything else that is not a memdesc (an integer in
 * [0, 2^53 - 1]). Cost: one combined compare, a divide by 16, a floor and a multiply.
 *
 * @example
 * ```ts
 * memdescType(encodeMemdesc(MemdescType.File, 0x40)); // 2
 * memdescType(table.get(pfn));                         // -1 when no descriptor covers pfn
 * ```
 */
export function memdescType(memdesc: number): number {
  if (!(memdesc >= -1 && memdesc <= Number.MAX_SAFE_INTEGER && Number.isInteger(memdesc))) badMemdesc(memdesc, true);
  return memdesc < 0 ? -1 : memdesc - alignedDown(memdesc);
}

/**
 * The descriptor handle of a memdesc (the word with bits 0-3 cleared). Throws
 * `ERR_INVALID_ARGUMENT` for a value that is not a memdesc. Cost: one combined compare, a divide
 * by 16, a floor and a multiply.
 *
 * @example
 * ```ts
 * memdescHandle(encodeMemdesc(MemdescType.File, 0x40)); // 0x40
 * ```
 */
export function memdescHandle(memdesc: number): number {
  if (!(memdesc >= 0 && memdesc <= Number.MAX_SAFE_INTEGER && Number.isInteger(memdesc))) badMemdesc(memdesc, false);
  return alignedDown(memdesc);
}

/**
 * A non-negative integer below 2^53 with its low 4 bits cleared, by a divide by 16 (exact: a power
 * of two), a floor and a multiply. Not `x - x % 16`: memdescs often arrive as doubles (every table
 * stores them in a Float64Array), and `%` on a double is a call to `fmod` in V8, about 10 ns.
 */
function alignedDown(x: number): number {
  return Math.floor(x / MEMDESC_ALIGN) * MEMDESC_ALIGN;
}

/** The error for a value that is not a memdesc (kept out of line). */
function badMemdesc(value: unknown, noneAllowed: boolean): never {
  throw new MmkitError(ErrorCode.InvalidArgument, `memdesc must be a non-negative integer${noneAllowed ? " (or -1 for none)" : ""}, got ${describeValue(value)}`);
}

/**
 * A short name for a type tag ("slab", "file", ...); any other number is named `invalid-<n>`.
 * Throws `ERR_INVALID_ARGUMENT` for a value that is not a number. Cost: one array read.
 *
 * @example
 * ```ts
 * memdescTypeName(MemdescType.PageTable); // "page-table"
 * memdescTypeName(-1);                    // "invalid--1"
 * ```
 */
export function memdescTypeName(type: number): string {
  // A string or BigInt would index NAMES ("3" and 3n both read NAMES[3]).
  if (typeof type !== "number") throw new MmkitError(ErrorCode.InvalidArgument, `memdesc type must be a number, got ${describeValue(type)}`);
  return NAMES[type] ?? `invalid-${type}`;
}

/**
 * True when `value` is an encodable memdesc: an integer in [0, 2^53 - 1]. Cost: O(1).
 *
 * @example
 * ```ts
 * isMemdesc(0x1235); // true
 * isMemdesc(-1);     // false ("no descriptor" in the tables)
 * ```
 */
export function isMemdesc(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/**
 * A Misc memdesc, which needs no descriptor: subtype in bits 4-10, "may be mapped to userspace"
 * in bit 11, the order of the block in bits 12-17. Throws for a subtype outside 0-127 or an order
 * outside 0-63.
 *
 * @example
 * ```ts
 * const guard = encodeMisc(MiscSubtype.Guard, 2);
 * decodeMisc(guard); // { subtype: 4, order: 2, mappable: false }
 * ```
 */
export function encodeMisc(subtype: number, order = 0, mappable = false): number {
  if (!Number.isInteger(subtype) || subtype < 0 || subtype > 127) throw new MmkitError(ErrorCode.OutOfRange, `misc subtype must be in [0, 127], got ${describeValue(subtype)}`);
  if (!Number.isInteger(order) || order < 0 || order > 63) throw new MmkitError(ErrorCode.OutOfRange, `misc order must be in [0, 63], got ${describeValue(order)}`);
  if (typeof mappable !== "boolean") throw new MmkitError(ErrorCode.InvalidArgument, `misc mappable must be a boolean, got ${describeValue(mappable)}`);
  return (subtype << 4) | (mappable ? 1 << 11 : 0) | (order << 12);
}

/**
 * The fields of a Misc memdesc (see {@link encodeMisc}). Throws `ERR_INVALID_ARGUMENT` for another
 * type. Cost: O(1).
 *
 * @example
 * ```ts
 * decodeMisc(encodeMisc(MiscSubtype.Offline, 9)); // { subtype: 5, order: 9, mappable: false }
 * ```
 */
export function decodeMisc(memdesc: number): { subtype: number; order: number; mappable: boolean } {
  if (!isMemdesc(memdesc) || memdesc % MEMDESC_ALIGN !== MemdescType.Misc || memdesc >= 2 ** 18) {
    throw new MmkitError(ErrorCode.InvalidArgument, `not a misc memdesc: ${describeValue(memdesc)}`);
  }
  return { subtype: (memdesc >> 4) & 127, order: (memdesc >> 12) & 63, mappable: (memdesc & (1 << 11)) !== 0 };
}

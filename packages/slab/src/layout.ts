import { ErrorCode, MmkitError, describeValue } from "@mmkit/physmem";

/** slub_debug's poison bytes: a free object is 0x6b with 0xa5 as its last byte. */
export const POISON_FREE = 0x6b;
export const POISON_END = 0xa5;
/** Red zone bytes after an object: 0xbb while the object is free, 0xcc while it is handed out. */
export const RED_INACTIVE = 0xbb;
export const RED_ACTIVE = 0xcc;
/** Bytes of the free pointer (an address). */
export const FREE_POINTER_BYTES = 8;

/**
 * The `slub_debug` options a cache can take: consistency checks, red zones, poison.
 *
 * @example
 * ```ts
 * const debug: SlabDebug = parseDebug("FZP");
 * ```
 */
export interface SlabDebug {
  /** `F`: check every free pointer read and walk nothing blindly; corruption throws. */
  consistency: boolean;
  /** `Z`: a red zone after each object, checked on free and allocation. */
  redZone: boolean;
  /** `P`: free objects are filled with 0x6b..0xa5, checked on allocation (caches without a constructor). */
  poison: boolean;
}

/**
 * Parses `slub_debug` letters (`"FZP"`, any subset, any order; `""` for none), as the kernel's
 * boot option takes them.
 *
 * @example
 * ```ts
 * parseDebug("ZP"); // { consistency: false, redZone: true, poison: true }
 * ```
 */
export function parseDebug(flags: unknown): SlabDebug {
  if (typeof flags !== "string" || !/^[FZP]*$/.test(flags)) {
    throw new MmkitError(ErrorCode.InvalidArgument, `debug must be a string of the slub_debug letters F, Z, P, got ${describeValue(flags)}`);
  }
  return { consistency: flags.includes("F"), redZone: flags.includes("Z"), poison: flags.includes("P") };
}

/**
 * Where things sit inside one object slot, as SLUB's `calculate_sizes` lays them out.
 *
 * @example
 * ```ts
 * objectLayout(20, 8, false, parseDebug("ZP")); // red zone at 20 (12 bytes), free pointer at 32, stride 40
 * ```
 */
export interface ObjectLayout {
  /** Bytes the user asked for. */
  objectSize: number;
  /** Offset of the red zone (the object rounded up to 8), when there is one. */
  redZoneOffset: number;
  /** Red-zone bytes (0 without `Z`). */
  redZoneBytes: number;
  /** Offset of the free pointer: 0 (inside the free object) unless a constructor or poison needs the object's bytes kept, then after the object. */
  freePointerOffset: number;
  /** Distance between objects: everything above rounded up to the alignment. */
  stride: number;
  /** Whether free objects are poisoned. */
  poison: boolean;
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/**
 * Lays out one object slot. The free pointer goes inside the free object (offset 0, SLUB's
 * default) unless the object's bytes must survive while it is free (a constructor) or are
 * poisoned, then after the object and its red zone; the red zone follows the object rounded to 8.
 *
 * @example
 * ```ts
 * objectLayout(24, 8, false, parseDebug("")).stride;   // 24
 * objectLayout(24, 8, false, parseDebug("ZP")).stride; // 40: object, 8 red-zone bytes, free pointer
 * ```
 */
export function objectLayout(size: number, align: number, hasCtor: boolean, debug: SlabDebug): ObjectLayout {
  const word = roundUp(Math.max(size, FREE_POINTER_BYTES), 8);
  let end = word;
  let redZoneOffset = 0;
  let redZoneBytes = 0;
  if (debug.redZone) {
    // From the object's last byte to 8 bytes past its word-rounded end (SLUB's right red zone).
    redZoneOffset = size;
    redZoneBytes = word - size + 8;
    end = word + 8;
  }
  const poison = debug.poison && !hasCtor;
  let freePointerOffset = 0;
  if (hasCtor || poison) {
    freePointerOffset = end;
    end += FREE_POINTER_BYTES;
  }
  return { objectSize: size, redZoneOffset, redZoneBytes, freePointerOffset, stride: roundUp(end, align), poison };
}

/**
 * SLUB's `calculate_order`: the smallest page order whose slab holds at least `minObjects`
 * objects (fewer when even `maxOrder` cannot) and wastes at most 1/16 of the slab, relaxing to
 * 1/8 and 1/4, then the order that wastes least.
 *
 * @example
 * ```ts
 * slabOrder(2560, 4096, 8, 3); // 3: 12 objects in 32 KiB, 2048 bytes left
 * ```
 */
export function slabOrder(stride: number, pageSize: number, minObjects: number, maxOrder: number): number {
  let minOrder = 0;
  while (minOrder < maxOrder && (pageSize << minOrder) < stride) minOrder++;
  for (let wanted = minObjects; wanted >= 1; wanted = Math.floor(wanted / 2)) {
    for (const fraction of [16, 8, 4]) {
      for (let order = minOrder; order <= maxOrder; order++) {
        const bytes = pageSize * 2 ** order;
        const objects = Math.floor(bytes / stride);
        if (objects < wanted) continue;
        if (bytes - objects * stride <= bytes / fraction) return order;
      }
    }
  }
  let best = minOrder;
  let bestWaste = Infinity;
  for (let order = minOrder; order <= maxOrder; order++) {
    const bytes = pageSize * 2 ** order;
    const waste = (bytes - Math.floor(bytes / stride) * stride) / bytes;
    if (waste < bestWaste) {
      bestWaste = waste;
      best = order;
    }
  }
  return best;
}

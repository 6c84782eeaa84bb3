import { LOCK_INTS, type ArrayFactory } from "@mmkit/physmem";

/**
 * The arrays of a {@link SharedPotad}, all in one `SharedArrayBuffer`, in the order they are asked
 * for (which is what `attach` replays and the shared arena checks):
 *
 * | array | what |
 * | --- | --- |
 * | `slots` int32, {@link SLOT_INTS} per granule | the block starting at that granule: [0] meta: state (bits 0-1), order (bits 2-7), front CPU (bits 8-19), 0 when no block starts there; [1] next, [2] prev: free-list links (global granule indices, -1 none; `next` also threads a front) |
 * | `heads` int32, 64 per space | first block of each order's free list |
 * | `freeCounts` int32, 64 per space | blocks on each order's free list |
 * | `fronts` int32, {@link frontStride} per CPU | per space and front order: [head, count] (a CPU's own line(s)) |
 * | `counters` float64 16 | event counts made under the zone lock ({@link C_ALLOCS}...) |
 * | `fastCounters` float64 8 per CPU | lockless allocations and frees of each CPU's front |
 * | `lock` int32 16 | the zone lock's word |
 * | `owners` int32 per CPU | owner id that claimed the CPU, 0 none |
 * | `attachWord` int32 16 | [0] next owner id, [1] attached instances |
 *
 * Why one record slot per granule instead of POTAD's address-keyed hash table: a slot that never
 * moves is what lets a worker find and push a block it frees without the lock while the lock
 * holder splits and merges other blocks; POTAD's table shifts records on delete and doubles as it
 * grows. The price is metadata proportional to the spaces (16 bytes a granule), fixed at creation.
 */
export interface SharedPotadArrays {
  slots: Int32Array;
  heads: Int32Array;
  freeCounts: Int32Array;
  fronts: Int32Array;
  counters: Float64Array;
  fastCounters: Float64Array;
  lock: Int32Array;
  owners: Int32Array;
  attachWord: Int32Array;
}

/**
 * Int32s per granule in `slots` (granule g's slot starts at `g << 2`): [0] meta, [1] next, [2] prev, [3] unused. One 16-byte slot, so a
 * block's state and link share a line and a 64-byte line holds 4 granules' slots (fewer than 16
 * with separate arrays): blocks next to each other change hands between workers, and every slot
 * on a line one worker writes is a slot another worker's write must fetch back.
 */
export const SLOT_INTS = 4;
/** Block states in `meta` (slot int 0) bits 0-1. */
export const S_NONE = 0;
export const S_FREE = 1;
export const S_CACHED = 2;
export const S_ALLOCATED = 3;
export const STATE_MASK = 3;
export const ORDER_SHIFT = 2;
export const ORDER_MASK = 63;
export const CPU_SHIFT = 8;
/** Most CPUs (fronts) a shared POTAD can have: the CPU field of `meta` is 12 bits. */
export const MAX_SHARED_CPUS = 4096;
/** Orders per space in `heads` and `freeCounts`. */
export const ORDERS = 64;
/** Front orders per space, as POTAD's. */
export const SHARED_FRONT_ORDERS = 4;

/** Slots of `counters` (written under the zone lock only). */
export const C_ALLOCS = 0;
export const C_FREES = 1;
export const C_SPLITS = 2;
export const C_MERGES = 3;
export const C_REFILLS = 4;
export const C_REFILLED = 5;
export const C_FLUSHES = 6;
export const C_FLUSHED = 7;
export const C_FAILURES = 8;
export const COUNTER_SLOTS = 16;
/** Slots of a CPU's line in `fastCounters` (written by that CPU's owner only). */
export const F_ALLOCS = 0;
export const F_FREES = 1;
export const FAST_SLOT = 8;
/** Ints of the attach word. */
export const ATTACH_INTS = 16;

/** Ints per CPU in `fronts`: [head, count] per space and front order, rounded up to whole 64-byte lines. */
export function frontStride(spaces: number): number {
  return Math.ceil((spaces * SHARED_FRONT_ORDERS * 2) / 16) * 16;
}

/** Bytes the arrays take in a shared arena (each on its own 64-byte line). */
export function sharedPotadBytes(granules: number, spaces: number, cpus: number): number {
  const line = (bytes: number): number => Math.ceil(bytes / 64) * 64;
  return (
    line(granules * SLOT_INTS * 4) +
    2 * line(spaces * ORDERS * 4) +
    line(cpus * frontStride(spaces) * 4) +
    line(COUNTER_SLOTS * 8) +
    line(cpus * FAST_SLOT * 8) +
    line(LOCK_INTS * 4) +
    line(cpus * 4) +
    line(ATTACH_INTS * 4)
  );
}

/**
 * Asks `arena` for the arrays, in the layout's order: on a fresh shared arena this makes them, on
 * an attached one it finds the same memory (and the arena refuses a different layout with
 * `ERR_LAYOUT_MISMATCH`). O(1) per array.
 *
 * @example
 * ```ts
 * const arrays = sharedPotadArrays(SharedMetadataArena.attach(handle.arena), granules, spaces, cpus);
 * ```
 */
export function sharedPotadArrays(arena: ArrayFactory, granules: number, spaces: number, cpus: number): SharedPotadArrays {
  return {
    slots: arena.int32(granules * SLOT_INTS, "potad shared slots"),
    heads: arena.int32(spaces * ORDERS, "potad shared free heads"),
    freeCounts: arena.int32(spaces * ORDERS, "potad shared free counts"),
    fronts: arena.int32(cpus * frontStride(spaces), "potad shared fronts"),
    counters: arena.float64(COUNTER_SLOTS, "potad shared counters"),
    fastCounters: arena.float64(cpus * FAST_SLOT, "potad shared fast counters"),
    lock: arena.int32(LOCK_INTS, "potad zone lock"),
    owners: arena.int32(cpus, "potad cpu owners"),
    attachWord: arena.int32(ATTACH_INTS, "potad attach word"),
  };
}

import type { BuddyCounters, BuddyState } from "./state.js";

/**
 * The event counters of a shared buddy allocator, in shared memory so any worker can read them:
 * one 128-byte slot (16 float64) per CPU, written only by the worker that owns the CPU, and one
 * more slot (index `cpus`) for allocations and frees made without a CPU front, written only under
 * the zone lock. Slot layout: the {@link COUNTER_NAMES} in order, then the fast-path allocations
 * and frees (per-CPU list hits that took no lock).
 *
 * A worker counts its locked work in its own `BuddyState.counters` object, as the single-threaded
 * code does, and {@link flushCounters} moves those counts into its slot when it leaves the lock.
 */
export const COUNTER_SLOT = 16;
export const COUNTER_NAMES: readonly (keyof BuddyCounters)[] = [
  "allocs",
  "frees",
  "splits",
  "merges",
  "pcpAllocs",
  "pcpFrees",
  "pcpRefills",
  "pcpDrains",
  "fallbacks",
  "pageblockSteals",
  "allocFailures",
  "watermarkFailures",
  "injectedFailures",
];
/** Slot offsets of the lockless fast-path counts. */
export const C_FAST_ALLOCS = 13;
export const C_FAST_FREES = 14;

/**
 * Adds this worker's counts since the last flush to slot `slot` and zeroes them. Written out field
 * by field (in {@link COUNTER_NAMES} order): a loop over the names would make every access a keyed
 * lookup, several times the cost of the lock itself.
 */
export function flushCounters(s: BuddyState, shared: Float64Array, slot: number): void {
  const c = s.counters;
  const at = slot * COUNTER_SLOT;
  shared[at] += c.allocs;
  shared[at + 1] += c.frees;
  shared[at + 2] += c.splits;
  shared[at + 3] += c.merges;
  shared[at + 4] += c.pcpAllocs;
  shared[at + 5] += c.pcpFrees;
  shared[at + 6] += c.pcpRefills;
  shared[at + 7] += c.pcpDrains;
  shared[at + 8] += c.fallbacks;
  shared[at + 9] += c.pageblockSteals;
  shared[at + 10] += c.allocFailures;
  shared[at + 11] += c.watermarkFailures;
  shared[at + 12] += c.injectedFailures;
  c.allocs = c.frees = c.splits = c.merges = c.pcpAllocs = c.pcpFrees = c.pcpRefills = c.pcpDrains = 0;
  c.fallbacks = c.pageblockSteals = c.allocFailures = c.watermarkFailures = c.injectedFailures = 0;
}

/** The counters summed over every slot, fast-path counts folded in as `allocPages`' front does. */
export function sumCounters(shared: Float64Array, slots: number): BuddyCounters {
  const out = {} as BuddyCounters;
  for (let i = 0; i < COUNTER_NAMES.length; i++) {
    let total = 0;
    for (let c = 0; c < slots; c++) total += shared[c * COUNTER_SLOT + i]!;
    out[COUNTER_NAMES[i]!] = total;
  }
  for (let c = 0; c < slots; c++) {
    const fastAllocs = shared[c * COUNTER_SLOT + C_FAST_ALLOCS]!;
    const fastFrees = shared[c * COUNTER_SLOT + C_FAST_FREES]!;
    out.allocs += fastAllocs;
    out.pcpAllocs += fastAllocs;
    out.frees += fastFrees;
    out.pcpFrees += fastFrees;
  }
  return out;
}

import { requireInteger } from "@mmkit/physmem";
import type { Contender } from "../harness/types.js";
import { randomIndices, requirePowerOfTwoLength } from "../workloads/random.js";

/** Options for {@link churnFloor}. */
export interface ChurnFloorOptions {
  /** Seed of the slot sequence (default 0); pass `ctx.seed`. */
  seed?: number;
  /** Blocks managed (default 2 x live, so half are free). */
  capacity?: number;
  /** Length of the precomputed slot sequence, a power of two (default 65536). */
  sequence?: number;
  /** Contender name (default "Int32Array stack"). */
  name?: string;
}

/**
 * The churn floor: `live` blocks stay allocated; each operation picks a live slot at random
 * (from a seeded sequence, see {@link churnSlots}), allocates a new block from an `Int32Array`
 * free-list stack into it, and frees the block it held. The free list's order becomes random, so
 * this floor pays the cache misses a real allocator's churn pays, and nothing else.
 *
 * Cost: O(1) per op: one sequence load, two `next` entries and one live slot (three random lines
 * once the arrays outgrow the cache). Steady state: the live count never changes.
 *
 * @example
 * ```ts
 * ctx.time("10k-live churn", [churnFloor(10_000, { seed: ctx.seed }), myChurn], { floor: "Int32Array stack" });
 * ```
 */
export function churnFloor(live = 10_000, options: ChurnFloorOptions = {}): Contender {
  requireInteger(live, "live", 1, 1 << 26);
  const capacity = requireInteger(options.capacity ?? live * 2, "capacity", live + 1, 1 << 27);
  const seed = requireInteger(options.seed ?? 0, "seed", 0, 0xffffffff);
  const length = requirePowerOfTwoLength(options.sequence ?? 1 << 16, "sequence");
  return {
    name: options.name ?? "Int32Array stack",
    setup() {
      const slots = churnSlots(seed, live, length);
      const next = new Int32Array(capacity);
      for (let i = 0; i < capacity; i++) next[i] = i + 1 < capacity ? i + 1 : -1;
      let head = 0;
      const held = new Int32Array(live);
      for (let i = 0; i < live; i++) {
        held[i] = head;
        head = next[head]!;
      }
      const state = Int32Array.of(head, 0); // free-list head, sequence cursor
      return (ops) => churnSteps(next, held, slots, state, ops);
    },
  };
}

/** The timed loop, at module level with its state passed in (see `Contender` and `stackFloor`). */
function churnSteps(next: Int32Array, held: Int32Array, slots: Int32Array, state: Int32Array, ops: number): number {
  const mask = slots.length - 1;
  let h = state[0]!;
  let c = state[1]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const slot = slots[c]!;
    c = (c + 1) & mask;
    const block = h; // alloc
    h = next[block]!;
    const old = held[slot]!;
    held[slot] = block;
    next[old] = h; // free the slot's previous block
    h = old;
    sum = (sum + block) | 0;
  }
  state[0] = h;
  state[1] = c;
  return sum;
}

/**
 * The slot sequence {@link churnFloor} walks: `length` indices (a power of two) in [0, live) from the stream
 * "churn" of `seed`. Give an allocator's churn contender the same sequence, so both free the same
 * slots in the same order. O(length).
 *
 * @example
 * ```ts
 * const slots = churnSlots(ctx.seed, 10_000);   // 65536 slot indices in [0, 10000)
 * ```
 */
export function churnSlots(seed: number, live: number, length = 1 << 16): Int32Array {
  return randomIndices(seed, "churn", requirePowerOfTwoLength(length, "length"), live);
}

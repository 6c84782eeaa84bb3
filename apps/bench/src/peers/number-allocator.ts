import { NumberAllocator } from "number-allocator";
import { requireInteger } from "@mmkit/physmem";
import type { Contender } from "../harness/types.js";
import { churnSlots } from "../floors/churn.js";

/** Options for the number-allocator peers. */
export interface NumberAllocatorOptions {
  /** Numbers managed (default 2 x live, or 1024 for pairs). */
  capacity?: number;
  /** Seed of the churn's slot sequence (default 0); pass `ctx.seed`. */
  seed?: number;
  /** Contender name (default "number-allocator"). */
  name?: string;
}

/**
 * Peer: `number-allocator` (vacant numbers kept as intervals in an ordered set; `alloc` returns the
 * lowest vacant number), one `alloc()` + `free` per operation.
 *
 * @example
 * ```ts
 * ctx.time("alloc+free pairs", [stackFloor(), numberAllocatorPairs()], { floor: "Int32Array stack" });
 * ```
 */
export function numberAllocatorPairs(options: NumberAllocatorOptions = {}): Contender {
  const capacity = requireInteger(options.capacity ?? 1024, "capacity", 1, 0x7fffffff);
  return {
    name: options.name ?? "number-allocator",
    setup() {
      const numbers = new NumberAllocator(0, capacity - 1);
      return (ops) => numberPairs(numbers, ops);
    },
  };
}

function numberPairs(numbers: NumberAllocator, ops: number): number {
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const n = numbers.alloc()!;
    sum = (sum + n) | 0;
    numbers.free(n);
  }
  return sum;
}

/**
 * Peer: `number-allocator` in the churn workload of `churnFloor` (same slot sequence): O(log
 * intervals) per alloc and free.
 *
 * @example
 * ```ts
 * ctx.time("churn", [churnFloor(10_000, { seed }), numberAllocatorChurn(10_000, { seed })], { floor: "Int32Array stack" });
 * ```
 */
export function numberAllocatorChurn(live: number, options: NumberAllocatorOptions = {}): Contender {
  requireInteger(live, "live", 1, 1 << 26);
  const capacity = requireInteger(options.capacity ?? live * 2, "capacity", live + 1, 0x7fffffff);
  const seed = requireInteger(options.seed ?? 0, "seed", 0, 0xffffffff);
  return {
    name: options.name ?? "number-allocator",
    setup() {
      const numbers = new NumberAllocator(0, capacity - 1);
      const held = new Int32Array(live);
      for (let i = 0; i < live; i++) held[i] = numbers.alloc()!;
      const slots = churnSlots(seed, live);
      const cursor = Int32Array.of(0);
      return (ops) => numberChurn(numbers, held, slots, cursor, ops);
    },
  };
}

function numberChurn(numbers: NumberAllocator, held: Int32Array, slots: Int32Array, cursor: Int32Array, ops: number): number {
  const mask = slots.length - 1;
  let c = cursor[0]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const slot = slots[c]!;
    c = (c + 1) & mask;
    const n = numbers.alloc()!;
    numbers.free(held[slot]!);
    held[slot] = n;
    sum = (sum + n) | 0;
  }
  cursor[0] = c;
  return sum;
}

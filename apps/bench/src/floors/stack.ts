import { requireInteger } from "@mmkit/physmem";
import type { Contender } from "../harness/types.js";

/** Options for {@link stackFloor}. */
export interface StackFloorOptions {
  /** Blocks the free list manages (default 1024). */
  capacity?: number;
  /** Contender name (default "Int32Array stack"). */
  name?: string;
}

/**
 * The floor for any allocator in JS: a LIFO free list threaded through an `Int32Array`
 * (`next[block]`), one alloc (pop the head) and one free (push it back) per operation. No checks,
 * no sizes, no metadata beyond 4 bytes per block: whatever an allocator does per alloc+free pair
 * beyond two loads and two stores shows up as its ratio to this.
 *
 * Cost: O(1) per op; touches the head block's `next` entry (one cache line). Steady state: every
 * round leaves the list as it found it.
 *
 * @example
 * ```ts
 * const results = ctx.time("order-0 alloc+free", [stackFloor(), buddyContender], { floor: "Int32Array stack" });
 * ```
 */
export function stackFloor(options: StackFloorOptions = {}): Contender {
  const capacity = requireInteger(options.capacity ?? 1024, "capacity", 1, 1 << 26);
  return {
    name: options.name ?? "Int32Array stack",
    setup() {
      const next = new Int32Array(capacity);
      for (let i = 0; i < capacity; i++) next[i] = i + 1 < capacity ? i + 1 : -1;
      const head = Int32Array.of(0);
      return (ops) => stackPairs(next, head, ops);
    },
  };
}

/**
 * The timed loop, at module level with its state passed in (see `Contender`): every instance of
 * this floor runs the same generic machine code, never a copy specialised on one closure's context.
 */
function stackPairs(next: Int32Array, head: Int32Array, ops: number): number {
  let h = head[0]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const block = h; // alloc: pop
    h = next[block]!;
    sum = (sum + block) | 0; // stays a small integer: no overflow deopt
    next[block] = h; // free: push
    h = block;
  }
  head[0] = h;
  return sum;
}

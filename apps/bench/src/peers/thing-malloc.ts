import { MemPool } from "@thi.ng/malloc";
import { requireInteger } from "@mmkit/physmem";
import type { Contender } from "../harness/types.js";
import { churnSlots } from "../floors/churn.js";

/** Options for the @thi.ng/malloc peers. */
export interface ThingMallocOptions {
  /** Bytes per allocation (default 16). */
  bytes?: number;
  /** Seed of the churn's slot sequence (default 0); pass `ctx.seed`. */
  seed?: number;
  /** Contender name (default "@thi.ng/malloc"). */
  name?: string;
}

/**
 * Peer: `@thi.ng/malloc`'s `MemPool` (a first-fit allocator over one ArrayBuffer, free list sorted
 * by address, neighbours merged), one `malloc(bytes)` + `free` per operation.
 *
 * @example
 * ```ts
 * ctx.time("alloc+free pairs", [stackFloor(), thingMallocPairs()], { floor: "Int32Array stack" });
 * ```
 */
export function thingMallocPairs(options: ThingMallocOptions = {}): Contender {
  const bytes = requireInteger(options.bytes ?? 16, "bytes", 1, 1 << 20);
  return {
    name: options.name ?? "@thi.ng/malloc",
    setup() {
      const pool = new MemPool({ size: Math.max(1 << 16, bytes * 64) });
      return (ops) => thingPairs(pool, bytes, ops);
    },
  };
}

function thingPairs(pool: MemPool, bytes: number, ops: number): number {
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const p = pool.malloc(bytes);
    sum = (sum + p) | 0;
    pool.free(p);
  }
  return sum;
}

/**
 * Peer: `@thi.ng/malloc` in the churn workload of `churnFloor`: `live` blocks of `bytes`, each
 * operation mallocs a new block and frees the one a random slot held (the floor's slot sequence).
 * Its free list is kept in address order, so each free walks it: O(free blocks) per operation.
 *
 * @example
 * ```ts
 * ctx.time("churn", [churnFloor(10_000, { seed }), thingMallocChurn(10_000, { seed })], { floor: "Int32Array stack" });
 * ```
 */
export function thingMallocChurn(live: number, options: ThingMallocOptions = {}): Contender {
  requireInteger(live, "live", 1, 1 << 22);
  const bytes = requireInteger(options.bytes ?? 16, "bytes", 1, 1 << 20);
  const seed = requireInteger(options.seed ?? 0, "seed", 0, 0xffffffff);
  return {
    name: options.name ?? "@thi.ng/malloc",
    setup() {
      // Room for every live block with its header and alignment, twice over.
      const pool = new MemPool({ size: live * (bytes + 16) * 2 + (1 << 16) });
      const held = new Int32Array(live);
      for (let i = 0; i < live; i++) held[i] = pool.malloc(bytes);
      const slots = churnSlots(seed, live);
      const cursor = Int32Array.of(0);
      return (ops) => thingChurn(pool, bytes, held, slots, cursor, ops);
    },
  };
}

function thingChurn(pool: MemPool, bytes: number, held: Int32Array, slots: Int32Array, cursor: Int32Array, ops: number): number {
  const mask = slots.length - 1;
  let c = cursor[0]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const slot = slots[c]!;
    c = (c + 1) & mask;
    const p = pool.malloc(bytes);
    pool.free(held[slot]!);
    held[slot] = p;
    sum = (sum + p) | 0;
  }
  cursor[0] = c;
  return sum;
}

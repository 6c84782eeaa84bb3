import { requireInteger } from "@mmkit/physmem";
import type { Contender } from "../harness/types.js";
import { randomIndices, requirePowerOfTwoLength } from "../workloads/random.js";
import { flatTable, type RangeLayout } from "../workloads/ranges.js";

/** Options for {@link flatLookupFloor}. */
export interface FlatLookupFloorOptions {
  /** Seed of the queried pfns (default 0); pass `ctx.seed`. */
  seed?: number;
  /** Length of the precomputed query sequence, a power of two (default 65536). */
  queries?: number;
  /** Contender name (default "flat Int32Array"). */
  name?: string;
}

/**
 * The floor for any lookup: a flat `Int32Array` indexed by pfn holding the id of the range that
 * owns the page (4 bytes per page, the smallest memmap there is). Each operation loads the id of a
 * random pfn (see {@link lookupQueries}); a range map, maple tree or memmap is measured against it.
 *
 * Cost: O(1) per op, one random line of a table of 4 x `layout.pages` bytes (built in `setup`,
 * untimed: O(pages)).
 *
 * @example
 * ```ts
 * const layout = randomRanges({ count: 1 << 20, seed: ctx.seed });
 * ctx.time("phys->desc lookup", [flatLookupFloor(layout, { seed: ctx.seed }), mapleContender], { floor: "flat Int32Array" });
 * ```
 */
export function flatLookupFloor(layout: RangeLayout, options: FlatLookupFloorOptions = {}): Contender {
  const seed = requireInteger(options.seed ?? 0, "seed", 0, 0xffffffff);
  const length = requirePowerOfTwoLength(options.queries ?? 1 << 16, "queries");
  return {
    name: options.name ?? "flat Int32Array",
    setup() {
      const table = flatTable(layout);
      const queries = lookupQueries(seed, layout, length);
      const cursor = Int32Array.of(0);
      return (ops) => flatLookups(table, queries, cursor, ops);
    },
  };
}

/** The timed loop, at module level with its state passed in (see `Contender` and `stackFloor`). */
function flatLookups(table: Int32Array, queries: Int32Array, cursor: Int32Array, ops: number): number {
  const mask = queries.length - 1;
  let c = cursor[0]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    sum = (sum + table[queries[c]!]!) | 0;
    c = (c + 1) & mask;
  }
  cursor[0] = c;
  return sum;
}

/**
 * The pfns {@link flatLookupFloor} looks up: `length` uniform pfns of the layout, stream "lookup".
 * Give a lookup structure the same queries. O(length).
 *
 * @example
 * ```ts
 * const queries = lookupQueries(ctx.seed, layout);   // 65536 pfns in [0, layout.pages)
 * ```
 */
export function lookupQueries(seed: number, layout: RangeLayout, length = 1 << 16): Int32Array {
  requireInteger(layout.pages, "layout.pages", 1, 0x7fffffff);
  return randomIndices(seed, "lookup", requirePowerOfTwoLength(length, "length"), layout.pages);
}

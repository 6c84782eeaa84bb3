import BTreeModule from "sorted-btree";
import type { Contender } from "../harness/types.js";
import { lookupQueries } from "../floors/flat-lookup.js";
import type { RangeLayout } from "../workloads/ranges.js";

// sorted-btree is CommonJS with `exports.default = BTree`; under Node's ESM interop the default
// import is the whole `exports` object.
const BTree = ((BTreeModule as unknown as { default?: typeof BTreeModule }).default ?? BTreeModule) as typeof BTreeModule;

/** Options for the range-lookup peers. */
export interface RangeLookupOptions {
  /** Seed of the queried pfns (default 0): the same queries as `flatLookupFloor` with that seed. */
  seed?: number;
  /** Contender name. */
  name?: string;
}

/**
 * Peer: binary search over the sorted range starts (an `Int32Array`, 4 bytes per range): the
 * classic answer when a flat table per page is too big. O(log ranges) per lookup, about 20 probes
 * for 1M ranges, the first ones hitting the same few cache lines every time.
 *
 * @example
 * ```ts
 * ctx.time("lookup", [flatLookupFloor(layout, { seed }), binarySearchLookup(layout, { seed })], { floor: "flat Int32Array" });
 * ```
 */
export function binarySearchLookup(layout: RangeLayout, options: RangeLookupOptions = {}): Contender {
  const seed = options.seed ?? 0;
  return {
    name: options.name ?? "binary search",
    setup() {
      const queries = lookupQueries(seed, layout);
      const cursor = Int32Array.of(0);
      return (ops) => binarySearches(layout.starts, layout.count, queries, cursor, ops);
    },
  };
}

function binarySearches(starts: Int32Array, count: number, queries: Int32Array, cursor: Int32Array, ops: number): number {
  const mask = queries.length - 1;
  let c = cursor[0]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const pfn = queries[c]!;
    c = (c + 1) & mask;
    // Last range whose start <= pfn.
    let lo = 0;
    let hi = count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid]! <= pfn) lo = mid;
      else hi = mid - 1;
    }
    sum = (sum + lo) | 0;
  }
  cursor[0] = c;
  return sum;
}

/**
 * Peer: `sorted-btree` (a B+ tree of JS objects) keyed by range start, `getPairOrNextLower(pfn)`
 * per lookup: O(log ranges), a few node objects per lookup. Building it for 1M ranges takes about
 * half a second (untimed, in `setup`).
 *
 * @example
 * ```ts
 * ctx.time("lookup", [flatLookupFloor(layout, { seed }), sortedBtreeLookup(layout, { seed })], { floor: "flat Int32Array" });
 * ```
 */
export function sortedBtreeLookup(layout: RangeLayout, options: RangeLookupOptions = {}): Contender {
  const seed = options.seed ?? 0;
  return {
    name: options.name ?? "sorted-btree",
    setup() {
      const pairs: [number, number][] = new Array(layout.count);
      for (let i = 0; i < layout.count; i++) pairs[i] = [layout.starts[i]!, i];
      const tree = new BTree<number, number>(pairs);
      const queries = lookupQueries(seed, layout);
      const cursor = Int32Array.of(0);
      return (ops) => btreeLookups(tree, queries, cursor, ops);
    },
  };
}

function btreeLookups(tree: InstanceType<typeof BTree<number, number>>, queries: Int32Array, cursor: Int32Array, ops: number): number {
  const mask = queries.length - 1;
  const reused: [number, number] = [0, 0];
  let c = cursor[0]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const pair = tree.getPairOrNextLower(queries[c]!, reused)!;
    c = (c + 1) & mask;
    sum = (sum + pair[1]) | 0;
  }
  cursor[0] = c;
  return sum;
}

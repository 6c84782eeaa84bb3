import { requireInteger } from "@mmkit/physmem";
import { SeededRandom } from "./random.js";

/**
 * A run of `count` adjacent page ranges: range `i` covers pfns `[starts[i], starts[i + 1])`. The
 * shape a page->descriptor lookup serves (folios of mixed orders laid end to end), shared by the
 * flat-lookup floor and the lookup structures measured against it, so both see the same ranges.
 */
export interface RangeLayout {
  readonly count: number;
  /** Pages covered: `starts[count]`. */
  readonly pages: number;
  /** `count + 1` boundaries; `starts[0] = 0`. */
  readonly starts: Int32Array;
}

/** Options for {@link randomRanges}. */
export interface RandomRangesOptions {
  /** Number of ranges (default 1M = 1048576). */
  count?: number;
  /** Each range is 2^order pages with order uniform in [0, maxOrder] (default 3: 1..8 pages). */
  maxOrder?: number;
  /** Seed of the sizes (default 0). */
  seed?: number;
}

/**
 * `count` ranges of random power-of-two sizes, laid end to end from pfn 0. Deterministic for a
 * seed. Cost: O(count) time and a `count + 1` Int32Array.
 *
 * @example
 * ```ts
 * const layout = randomRanges({ count: 1 << 20, maxOrder: 3, seed: 42 });
 * layout.pages;            // about 3.75M pages (mean range 3.75 pages)
 * ```
 */
export function randomRanges(options: RandomRangesOptions = {}): RangeLayout {
  const count = requireInteger(options.count ?? 1 << 20, "count", 1, 1 << 26);
  const maxOrder = requireInteger(options.maxOrder ?? 3, "maxOrder", 0, 10);
  const seed = requireInteger(options.seed ?? 0, "seed", 0, 0xffffffff);
  const maxPages = count * 2 ** maxOrder;
  requireInteger(maxPages, "count * 2^maxOrder", 1, 0x7fffffff);
  const rng = new SeededRandom(seed, "ranges");
  const starts = new Int32Array(count + 1);
  let pfn = 0;
  for (let i = 0; i < count; i++) {
    starts[i] = pfn;
    pfn += 1 << rng.below(maxOrder + 1);
  }
  starts[count] = pfn;
  return { count, pages: pfn, starts };
}

/**
 * The flat page->id table of a layout: `table[pfn]` is the index of the range holding `pfn`.
 * 4 bytes per page; O(pages) to build.
 *
 * @example
 * ```ts
 * flatTable(randomRanges({ count: 8, seed: 7 }))[5];   // 2 (pfn 5 is in range 2)
 * ```
 */
export function flatTable(layout: RangeLayout): Int32Array {
  const table = new Int32Array(layout.pages);
  const { starts, count } = layout;
  for (let i = 0; i < count; i++) table.fill(i, starts[i], starts[i + 1]);
  return table;
}

import { requireInteger } from "@mmkit/physmem";
import type { Contender } from "../harness/types.js";

/** Options for {@link flatUpdateFloor}. */
export interface FlatUpdateFloorOptions {
  /** Contender name (default "flat Uint8Array"). */
  name?: string;
}

/**
 * The floor for a per-page attribute change: a flat `Uint8Array` with one byte per page. The
 * operations come in pairs on one page of `pfns` (set 1, then back to 0), as a
 * `set_memory_ro` / `set_memory_rw` pair does; `ops` counts single changes.
 *
 * Cost: O(1) per change, one random line per pair; `pages` bytes of table.
 *
 * @example
 * ```ts
 * const pfns = randomIndices(ctx.seed, "direct-map", 4096, pages);
 * ctx.time("set_memory ro+rw", [flatUpdateFloor(pages, pfns), directMapContender], { floor: "flat Uint8Array" });
 * ```
 */
export function flatUpdateFloor(pages: number, pfns: Int32Array, options: FlatUpdateFloorOptions = {}): Contender {
  requireInteger(pages, "pages", 1, 0x7fffffff);
  requireInteger(pfns.length, "pfns.length", 1);
  return {
    name: options.name ?? "flat Uint8Array",
    setup() {
      const table = new Uint8Array(pages);
      const cursor = Int32Array.of(0);
      return (ops) => flatUpdatePairs(table, pfns, cursor, ops);
    },
  };
}

/** The timed loop, at module level with its state passed in (see `Contender` and `stackFloor`). */
function flatUpdatePairs(table: Uint8Array, pfns: Int32Array, cursor: Int32Array, ops: number): number {
  const n = pfns.length;
  let c = cursor[0]!;
  let sum = 0;
  for (let i = 0; i < ops; i += 2) {
    const pfn = pfns[c]!;
    c = c + 1 === n ? 0 : c + 1;
    table[pfn] = 1;
    sum = (sum + pfn) | 0;
    table[pfn] = 0;
  }
  cursor[0] = c;
  return sum;
}

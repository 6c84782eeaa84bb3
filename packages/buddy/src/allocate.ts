import { rmqueue } from "./buddy-core.js";
import { MigrateType } from "./constants.js";
import {
  FA_COUNT,
  FA_LISTS,
  AF_HIGH,
  AF_NON_BLOCK,
  AF_NO_WATERMARKS,
  AF_THISNODE,
  AF_CMA,
  AF_WMARK_HIGH,
  AF_WMARK_LOW,
  FA_INTS,
  FA_NR_FREE,
  PAGE_SHIFT,
  P_FLAGS,
  STATE_ALLOCATED,
  ZONE_INTS,
  Z_FREE,
  Z_FREE_CMA,
  Z_HIGH,
  Z_LOW,
  Z_MIN,
  headFlags,
} from "./layout.js";
import { drainAll, drainCpu, pcpAlloc, pcpCpuPages, pcpPages } from "./per-cpu.js";
import type { BuddyState } from "./state.js";

/** Offsets in a free_area line of the Isolate and CMA lists' block counts. */
const FA_ISOLATE_COUNT = FA_LISTS + MigrateType.Isolate * 3 + FA_COUNT;
const FA_CMA_COUNT = FA_LISTS + MigrateType.Cma * 3 + FA_COUNT;

/**
 * The allocation entry (`get_page_from_freelist` and its retry): fault injection, the watermark
 * check of each node in zonelist order, the per-CPU or buddy path, and one retry after draining
 * the per-CPU lists when everything failed.
 */

/**
 * `__zone_watermark_ok`: may `node` serve an allocation of `order` with `flags`? The mark is min
 * (or low/high when asked); `__GFP_HIGH` lowers it by half, `GFP_ATOMIC` by a further quarter; the
 * node must keep more than the mark free after the allocation and, for order > 0, have a free block
 * of at least `order` (not an isolated one; a CMA one only with `AF_CMA`, and without it free CMA
 * pages do not count). O(1) for order 0, O(maxOrder) otherwise.
 */
export function watermarkOk(s: BuddyState, node: number, order: number, flags: number): boolean {
  const z = node * ZONE_INTS;
  let mark = s.zone[z + ((flags & AF_WMARK_HIGH) !== 0 ? Z_HIGH : (flags & AF_WMARK_LOW) !== 0 ? Z_LOW : Z_MIN)]!;
  if ((flags & AF_HIGH) !== 0) {
    mark -= Math.floor(mark / 2);
    if ((flags & AF_NON_BLOCK) !== 0) mark -= Math.floor(mark / 4);
  }
  // Without ALLOC_CMA, free CMA pages are not usable (`__zone_watermark_unusable_free`).
  const cma = (flags & AF_CMA) !== 0;
  const free = s.zone[z + Z_FREE]! - ((1 << order) - 1) - (cma ? 0 : s.zone[z + Z_FREE_CMA]!);
  if (free <= mark) return false;
  if (order === 0) return true;
  const fa = s.fa;
  for (let o = order, line = (node * (s.maxOrder + 1) + order) * FA_INTS; o <= s.maxOrder; o++, line += FA_INTS) {
    // Blocks on the Isolate list cannot serve the request, nor CMA blocks without ALLOC_CMA.
    const blocks = fa[line + FA_NR_FREE]!;
    if (blocks > 0 && blocks - fa[line + FA_ISOLATE_COUNT]! - (cma ? 0 : fa[line + FA_CMA_COUNT]!) > 0) return true;
  }
  return false;
}

function tryNode(s: BuddyState, cpu: number, node: number, order: number, mt: number, flags: number): number {
  if ((flags & AF_NO_WATERMARKS) === 0 && !watermarkOk(s, node, order, mt === MigrateType.Movable ? flags | AF_CMA : flags)) {
    s.counters.watermarkFailures++;
    return -1;
  }
  const idx = cpu >= 0 && order <= s.pcpMaxOrder ? pcpAlloc(s, cpu, node, order, mt) : rmqueue(s, node, order, mt);
  if (idx >= 0) s.mem[(idx << PAGE_SHIFT) + P_FLAGS] = headFlags(node, STATE_ALLOCATED, mt, order);
  return idx;
}

/**
 * Before the one retry: drains the per-CPU lists (in shared mode only `cpu`'s own: another
 * worker's lists are that worker's alone); false when there was nothing to drain. Kept out of
 * `allocCore` so that stays small enough for V8 to inline into its callers.
 */
function drainForRetry(s: BuddyState, cpu: number): boolean {
  if (s.shared) {
    if (cpu < 0 || pcpCpuPages(s, cpu) === 0) return false;
    drainCpu(s, cpu);
    return true;
  }
  if (pcpPages(s, -1) === 0) return false;
  drainAll(s);
  return true;
}

/**
 * Allocates 2^order pages of migratetype `mt`, preferring node slot `preferred`, through `cpu`'s
 * lists (cpu >= 0, order <= 3) or straight from the free lists (cpu -1). Returns the page index or -1.
 */
export function allocCore(s: BuddyState, cpu: number, order: number, mt: number, preferred: number, flags: number): number {
  if (s.faultArmed && s.fault!.shouldFail(order, (flags & AF_NON_BLOCK) !== 0)) {
    s.counters.injectedFailures++;
    s.counters.allocFailures++;
    return -1;
  }
  if (!s.groupByMobility) mt = 1;
  for (let attempt = 0; attempt < 2; attempt++) {
    let idx = tryNode(s, cpu, preferred, order, mt, flags);
    if (idx < 0 && (flags & AF_THISNODE) === 0) {
      // The zonelist: the other nodes by distance (|id difference|), then by id.
      for (let d = 1; d < s.nodeCount && idx < 0; d++) {
        if (preferred - d >= 0) idx = tryNode(s, cpu, preferred - d, order, mt, flags);
        if (idx < 0 && preferred + d < s.nodeCount) idx = tryNode(s, cpu, preferred + d, order, mt, flags);
      }
    }
    if (idx >= 0) {
      s.counters.allocs++;
      return idx;
    }
    // What direct reclaim would do before giving up: drain the per-CPU lists and retry once.
    if (attempt > 0 || !drainForRetry(s, cpu)) break;
  }
  s.counters.allocFailures++;
  return -1;
}

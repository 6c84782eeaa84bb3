import { ZONE_INTS, Z_MANAGED } from "./layout.js";
import type { BuddyState } from "./state.js";
import { freeBlocksPerOrder } from "./statistics.js";

/**
 * Proactive compaction's arithmetic (kcompactd, mm/compaction.c): the fragmentation score of a
 * node and the watermarks `vm.compaction_proactiveness` sets. A node is compacted in the
 * background when its score is above the high mark, until its zone's score is at or below the low.
 */

/** Default `vm.compaction_proactiveness`. */
export const DEFAULT_COMPACTION_PROACTIVENESS = 20;

/**
 * `fragmentation_score_zone` (`extfrag_for_order` at the pageblock order): the percentage of free
 * pages not in blocks of a pageblock or more; 0 when nothing is free. O(maxOrder).
 */
export function fragmentationScoreZone(s: BuddyState, node: number): number {
  const blocks = freeBlocksPerOrder(s, node);
  let free = 0;
  let suitable = 0;
  for (let o = 0; o < blocks.length; o++) {
    free += blocks[o]! * 2 ** o;
    if (o >= s.pbOrder) suitable += blocks[o]! * 2 ** o;
  }
  return free === 0 ? 0 : Math.floor(((free - suitable) * 100) / free);
}

/**
 * `fragmentation_score_node`: the zone score weighted by its present pages over the node's plus
 * one (one zone per node here, so slightly below the zone score). O(maxOrder).
 */
export function fragmentationScoreNode(s: BuddyState, node: number): number {
  const present = s.zone[node * ZONE_INTS + Z_MANAGED]!;
  return Math.floor((present * fragmentationScoreZone(s, node)) / (present + 1));
}

/** `fragmentation_score_wmark`: low = max(100 - proactiveness, 5), high = min(low + 10, 100). */
export function fragmentationScoreWmark(proactiveness: number, low: boolean): number {
  const wmarkLow = Math.max(100 - proactiveness, 5);
  return low ? wmarkLow : Math.min(wmarkLow + 10, 100);
}

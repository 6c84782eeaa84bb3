import type { CompactionCounters } from "./compaction-counters.js";
import type { CompactionDeferral } from "./compaction-deferral.js";
import { compactionSuitable } from "./compaction-suitable.js";
import { COMPACT_RESULT_RANK, compactZone, type CompactResult } from "./compaction.js";
import type { PageMover } from "./page-mover.js";
import type { BuddyState } from "./state.js";

/**
 * `try_to_compact_pages`: compacts the nodes in zonelist order (`preferred`, then by distance;
 * only `preferred` when `thisNode`) for an allocation of `order` that failed. A node whose
 * compaction is deferred is passed over; one not suitable is skipped; a run that completes without
 * freeing the order defers the node's compaction; the first "success" stops the walk and resets
 * the deferral's failed order. Returns the highest result seen. O(pages of the nodes compacted).
 */
export function tryToCompactPages(
  s: BuddyState,
  counters: CompactionCounters,
  deferral: CompactionDeferral,
  mover: PageMover,
  order: number,
  preferred: number,
  thisNode: boolean,
  extfragThreshold: number,
): CompactResult {
  const nodes = [preferred];
  if (!thisNode) {
    for (let d = 1; d < s.nodeCount; d++) {
      if (preferred - d >= 0) nodes.push(preferred - d);
      if (preferred + d < s.nodeCount) nodes.push(preferred + d);
    }
  }
  let rc: CompactResult = "skipped";
  for (const node of nodes) {
    if (deferral.deferred(node, order)) {
      if (COMPACT_RESULT_RANK.deferred > COMPACT_RESULT_RANK[rc]) rc = "deferred";
      continue;
    }
    let status = compactionSuitable(s, node, order, extfragThreshold);
    if (status === "continue") status = compactZone(s, counters, mover, node, order).result;
    if (COMPACT_RESULT_RANK[status] > COMPACT_RESULT_RANK[rc]) rc = status;
    if (status === "success") {
      deferral.reset(node, order, false);
      break;
    }
    if (status === "complete") deferral.defer(node, order);
  }
  return rc;
}

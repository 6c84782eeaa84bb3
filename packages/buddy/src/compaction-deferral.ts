/** `COMPACT_MAX_DEFER_SHIFT`: after repeated failures, compaction is tried once per 2^6 requests. */
export const COMPACT_MAX_DEFER_SHIFT = 6;

/**
 * Deferred compaction (`defer_compaction`, `compaction_deferred`, `compaction_defer_reset` in
 * mm/compaction.c), one record per node: after a compaction run fails for an order, the next
 * 2^shift requests of that order or above skip compaction, the shift growing by one per failure up
 * to {@link COMPACT_MAX_DEFER_SHIFT}. A success resets it. Internal: held by the allocator.
 */
export class CompactionDeferral {
  /** `compact_considered`: requests seen since the last failure. */
  readonly considered: Int32Array;
  /** `compact_defer_shift`. */
  readonly shift: Int32Array;
  /** `compact_order_failed`: lowest order that failed; smaller orders are never deferred. */
  readonly orderFailed: Int32Array;

  constructor(nodes: number) {
    this.considered = new Int32Array(nodes);
    this.shift = new Int32Array(nodes);
    this.orderFailed = new Int32Array(nodes);
  }

  /** `defer_compaction`: a run for `order` on `node` failed. O(1). */
  defer(node: number, order: number): void {
    this.considered[node] = 0;
    if (this.shift[node]! < COMPACT_MAX_DEFER_SHIFT) this.shift[node]!++;
    if (order < this.orderFailed[node]!) this.orderFailed[node] = order;
  }

  /** `compaction_deferred`: should this request for `order` skip compaction? Counts the request. O(1). */
  deferred(node: number, order: number): boolean {
    if (order < this.orderFailed[node]!) return false;
    const limit = 1 << this.shift[node]!;
    if (++this.considered[node]! >= limit) {
      this.considered[node] = limit;
      return false;
    }
    return true;
  }

  /** `compaction_defer_reset`: a run for `order` succeeded (and the allocation too when `allocSuccess`). O(1). */
  reset(node: number, order: number, allocSuccess: boolean): void {
    if (allocSuccess) {
      this.considered[node] = 0;
      this.shift[node] = 0;
    }
    if (order >= this.orderFailed[node]!) this.orderFailed[node] = order + 1;
  }
}

import { ErrorCode, MmkitError, describeValue, type MemoryMap } from "@mmkit/physmem";

/**
 * Validates `count` pages at `startPfn` as one stretch of RAM on one node (what a contiguous range
 * and a CMA area must be): integers, `count` at least 1, no hole and no node boundary inside.
 * Returns the node id. Throws `ERR_INVALID_ARGUMENT` (a non-integer; a range across nodes),
 * `ERR_OUT_OF_RANGE` (count < 1) or `ERR_NOT_RAM` (outside RAM, across a hole), naming the value
 * with `what` ("startPfn", "cma.startPfn"). O(RAM ranges crossed).
 *
 * @example
 * ```ts
 * requireRamSpan(map, 512, 512, "startPfn");   // 0: pfns 512..1023 are RAM of node 0
 * ```
 */
export function requireRamSpan(map: MemoryMap, startPfn: unknown, count: unknown, what: string): number {
  if (typeof startPfn !== "number" || !Number.isSafeInteger(startPfn)) throw new MmkitError(ErrorCode.InvalidArgument, `${what} must be an integer, got ${describeValue(startPfn)}`);
  const countName = what.replace(/startPfn$/, "count");
  if (typeof count !== "number" || !Number.isSafeInteger(count)) throw new MmkitError(ErrorCode.InvalidArgument, `${countName} must be an integer, got ${describeValue(count)}`);
  if (count < 1) throw new MmkitError(ErrorCode.OutOfRange, `${countName} must be at least 1 page, got ${count}`);
  const endPfn = startPfn + count;
  let r = map.rangeIndexOf(startPfn);
  if (r < 0) throw new MmkitError(ErrorCode.NotRam, `${what} ${startPfn} is not RAM (outside the memory map or in a hole)`);
  const nodeId = map.ranges[r]!.node;
  // Walk the RAM ranges the span crosses: each must start where the previous ended, on the same node.
  while (map.ranges[r]!.endPfn < endPfn) {
    const at = map.ranges[r]!.endPfn;
    const next = map.ranges[r + 1];
    if (next === undefined || next.startPfn !== at) {
      throw new MmkitError(ErrorCode.NotRam, `the range of ${count} pages at pfn ${startPfn} crosses a hole or the end of RAM at pfn ${at}`);
    }
    if (next.node !== nodeId) {
      throw new MmkitError(ErrorCode.InvalidArgument, `the range of ${count} pages at pfn ${startPfn} crosses from node ${nodeId} to node ${next.node} at pfn ${at}; it must lie on one node`);
    }
    r++;
  }
  return nodeId;
}

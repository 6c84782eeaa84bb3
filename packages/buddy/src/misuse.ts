import { ErrorCode, MmkitError, describeValue, requireInteger } from "@mmkit/physmem";
import { MIGRATE_PCPTYPES, type MigrateType } from "./constants.js";
import {
  AF_HIGH,
  AF_NON_BLOCK,
  AF_NO_WATERMARKS,
  AF_THISNODE,
  AF_WMARK_HIGH,
  AF_WMARK_LOW,
  ORDER_MASK,
  ORDER_SHIFT,
  PAGE_SHIFT,
  PG_CONTIG,
  PG_RESERVED,
  STATE_ALLOCATED,
  STATE_BUDDY,
  STATE_MASK,
  STATE_PCP,
} from "./layout.js";
import { requireOptions } from "./options.js";
import type { BuddyState } from "./state.js";

/**
 * Argument checking off the hot path: the allocation options, and the exact diagnosis of a bad
 * `freePages` (the fast path only compares one flags word and calls here when it differs).
 */

/**
 * Options of one allocation (the kernel's gfp flags, by name).
 *
 * @example
 * ```ts
 * buddy.allocPages(0, { migratetype: MigrateType.Unmovable, node: 0, watermark: "high" });   // a pfn, or -1
 * ```
 */
export interface AllocOptions {
  /** Migratetype of the request (default: the allocator's `defaultMigratetype`). */
  migratetype?: MigrateType;
  /** Preferred node id (default: the CPU's home node, or the first node). */
  node?: number;
  /** Never fall back to another node (`__GFP_THISNODE`). */
  thisNode?: boolean;
  /** May use half of the min reserve (`__GFP_HIGH`). */
  highPriority?: boolean;
  /** Non-blocking high-priority request (`GFP_ATOMIC`): may use 5/8 of the min reserve. */
  atomic?: boolean;
  /** Check against this watermark instead of min. */
  watermark?: "min" | "low" | "high";
  /** Ignore watermarks entirely (`ALLOC_NO_WATERMARKS`, as for `PF_MEMALLOC`). */
  noWatermarks?: boolean;
  /** Allocate through this CPU's per-CPU lists (orders 0..3); only on `BuddyAllocator`. */
  cpu?: number;
}

/** Parsed options, written into a reused record so the caller allocates nothing. */
export interface ParsedAlloc {
  mt: number;
  node: number;
  flags: number;
  cpu: number;
}



function bool(value: unknown, name: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") throw new MmkitError(ErrorCode.InvalidArgument, `${name} must be a boolean, got ${describeValue(value)}`);
  return value;
}

/** Throws the error for an order that is not an integer in [0, maxOrder]. */
export function orderError(s: BuddyState, order: unknown): MmkitError {
  try {
    requireInteger(order, "order", 0, s.maxOrder);
  } catch (e) {
    return e as MmkitError;
  }
  return new MmkitError(ErrorCode.InvalidArgument, `order ${describeValue(order)} is invalid`);
}

/** Validates `options` into `out`; `homeNode` is the node slot used when none is named. */
export function parseAllocOptions(s: BuddyState, options: AllocOptions, homeNode: number, out: ParsedAlloc, allowCpu: boolean): void {
  requireOptions(options, "allocation options");
  const mt = options.migratetype === undefined ? s.defaultMt : requireInteger(options.migratetype, "migratetype", 0, MIGRATE_PCPTYPES - 1);
  let cpu = -1;
  if (options.cpu !== undefined) {
    if (!allowCpu) throw new MmkitError(ErrorCode.InvalidArgument, `options.cpu is not accepted here (got ${describeValue(options.cpu)}): this front is already CPU-bound`);
    cpu = requireInteger(options.cpu, "cpu", 0, s.cpuCount - 1);
  }
  const home = cpu >= 0 ? s.cpuHome[cpu]! : homeNode;
  const node = options.node === undefined ? home : s.requireNode(options.node, "node");
  let flags = 0;
  if (bool(options.thisNode, "thisNode")) flags |= AF_THISNODE;
  if (bool(options.highPriority, "highPriority")) flags |= AF_HIGH;
  if (bool(options.atomic, "atomic")) flags |= AF_HIGH | AF_NON_BLOCK;
  if (bool(options.noWatermarks, "noWatermarks")) flags |= AF_NO_WATERMARKS;
  const w = options.watermark;
  if (w === "low") flags |= AF_WMARK_LOW;
  else if (w === "high") flags |= AF_WMARK_HIGH;
  else if (w !== undefined && w !== "min") {
    throw new MmkitError(ErrorCode.InvalidArgument, `watermark must be "min", "low" or "high", got ${describeValue(w)}`);
  }
  out.mt = s.groupByMobility ? mt : 1;
  out.node = node;
  out.flags = flags;
  out.cpu = cpu;
}

/** Throws unless `i` is a CPU index. */
export function requireCpu(s: BuddyState, i: unknown): number {
  return requireInteger(i, "cpu", 0, s.cpuCount - 1);
}

/**
 * The precise error for `freePages(pfn, order)` once the fast check failed: non-integers, order
 * out of range, not RAM, misaligned, already free (double free), allocated with another order, or
 * never handed out (for example a page inside an allocated block). O(maxOrder).
 */
export function diagnoseFree(s: BuddyState, pfn: unknown, order: unknown): MmkitError {
  if (typeof pfn !== "number" || !Number.isSafeInteger(pfn)) {
    return new MmkitError(ErrorCode.InvalidArgument, `pfn must be an integer, got ${describeValue(pfn)}`);
  }
  if (typeof order !== "number" || !Number.isSafeInteger(order) || order < 0 || order > s.maxOrder) return orderError(s, order);
  const idx = pfn - s.base;
  if (idx < 0 || idx >= s.pages || (s.mem[idx << PAGE_SHIFT]! & PG_RESERVED) !== 0) {
    return new MmkitError(ErrorCode.NotRam, `pfn ${pfn} is not RAM (outside the memory map or in a hole)`);
  }
  if (pfn % 2 ** order !== 0) {
    return new MmkitError(ErrorCode.NotAligned, `pfn ${pfn} is not aligned to order ${order} (a multiple of ${2 ** order})`);
  }
  const f = s.mem[idx << PAGE_SHIFT]!;
  const state = f & STATE_MASK;
  const headOrder = (f >> ORDER_SHIFT) & ORDER_MASK;
  if (state === STATE_PCP || state === STATE_BUDDY) {
    const where = state === STATE_PCP ? "on a per-CPU list" : "on the free lists";
    return new MmkitError(ErrorCode.DoubleFree, `double free: pfn ${pfn} (order ${headOrder}) is already free, ${where}`);
  }
  if (state === STATE_ALLOCATED && (f & PG_CONTIG) !== 0) {
    return new MmkitError(ErrorCode.NotAllocated, `pfn ${pfn} (order ${headOrder}) belongs to a range taken by allocContigRange; give it back with freeContigRange`);
  }
  if (state === STATE_ALLOCATED) {
    return new MmkitError(ErrorCode.WrongSize, `pfn ${pfn} was allocated at order ${headOrder}, freed at order ${order}`);
  }
  // Not a head: inside some block. Find it (the smallest enclosing head).
  for (let o = 1; o <= s.maxOrder; o++) {
    const h = idx & ~((1 << o) - 1);
    const hf = s.mem[h << PAGE_SHIFT]!;
    const hs = hf & STATE_MASK;
    if (hs === 0 || ((hf >> ORDER_SHIFT) & ORDER_MASK) < o) continue;
    const hp = h + s.base;
    const ho = (hf >> ORDER_SHIFT) & ORDER_MASK;
    if (hs === STATE_ALLOCATED) {
      return new MmkitError(ErrorCode.NotAllocated, `pfn ${pfn} was never handed out: it is inside the order-${ho} block allocated at pfn ${hp}`);
    }
    return new MmkitError(ErrorCode.DoubleFree, `double free: pfn ${pfn} is inside the free order-${ho} block at pfn ${hp}`);
  }
  return new MmkitError(ErrorCode.NotAllocated, `pfn ${pfn} was never handed out`);
}

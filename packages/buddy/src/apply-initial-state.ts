/** Laying a described starting state (`BuddyOptions.initialState`) out on a freshly built allocator. */
import { ErrorCode, MmkitError, describeValue, requireInteger } from "@mmkit/physmem";
import { MIGRATE_PCPTYPES, MIGRATE_TYPE_NAMES, MigrateType } from "./constants.js";
import { addToFreeList } from "./free-lists.js";
import { NODE_MASK, NODE_SHIFT, ORDER_SHIFT, PAGE_SHIFT, PCP_BATCH, PCP_HIGH, PCP_INTS, PG_RESERVED, STATE_ALLOCATED, ZONE_INTS, Z_HIGH, Z_LOW, Z_MIN, headFlags } from "./layout.js";
import { requireOptions } from "./options.js";
import type { BuddyState } from "./state.js";
import type { Watermarks } from "./watermarks.js";
import type { BuddyInitialState, DescribedBlock, PerCpuLimits } from "./initial-state.js";


function requireArray<T>(value: unknown, name: string): readonly T[] {
  if (!Array.isArray(value)) throw new MmkitError(ErrorCode.InvalidArgument, `${name} must be an array, got ${describeValue(value)}`);
  return value as readonly T[];
}

/** The RAM range holding `pfn`, or -1. O(ranges). */
function rangeOf(s: BuddyState, pfn: number): number {
  const ranges = s.map.ranges;
  for (let i = 0; i < ranges.length; i++) if (pfn >= ranges[i]!.startPfn && pfn < ranges[i]!.endPfn) return i;
  return -1;
}

/** Validates one described block and returns its page index. */
function requireBlock(s: BuddyState, block: unknown, name: string): number {
  if (block === null || typeof block !== "object") throw new MmkitError(ErrorCode.InvalidArgument, `${name} must be a { pfn, order } object, got ${describeValue(block)}`);
  const { pfn, order } = block as DescribedBlock;
  requireInteger(pfn, `${name}.pfn`, 0, Number.MAX_SAFE_INTEGER);
  requireInteger(order, `${name}.order`, 0, s.maxOrder);
  const size = 2 ** order;
  if (pfn % size !== 0) throw new MmkitError(ErrorCode.NotAligned, `${name}: pfn ${pfn} is not aligned to order ${order}`);
  const r = rangeOf(s, pfn);
  if (r < 0) throw new MmkitError(ErrorCode.NotRam, `${name}: pfn ${pfn} is not RAM (outside the memory map or in a hole)`);
  if (pfn + size > s.map.ranges[r]!.endPfn) throw new MmkitError(ErrorCode.NotRam, `${name}: the order-${order} block at pfn ${pfn} crosses the end of its RAM range at pfn ${s.map.ranges[r]!.endPfn}`);
  return pfn - s.base;
}

/**
 * Validates `init` completely, then lays it out on the freshly constructed state `s` (all pages
 * still unowned). O(spanned pages + blocks).
 */
export function applyInitialState(s: BuddyState, init: BuddyInitialState): void {
  requireOptions(init, "initialState");
  const pbPages = 2 ** s.pbOrder;
  const pbCount = s.pages >> s.pbOrder;
  // Pageblock types, by index into s.pb (relative to s.base).
  const types = new Uint8Array(pbCount).fill(MigrateType.Movable);
  if (init.pageblocks !== undefined) {
    const pbs = init.pageblocks;
    if (pbs === null || typeof pbs !== "object" || typeof pbs.length !== "number") {
      throw new MmkitError(ErrorCode.InvalidArgument, `initialState.pageblocks must be an array of migratetypes, got ${describeValue(pbs)}`);
    }
    const first = s.base / pbPages;
    for (let i = 0; i < pbs.length; i++) {
      const mt = pbs[i];
      if (typeof mt !== "number" || !Number.isInteger(mt) || mt < 0 || mt >= MIGRATE_PCPTYPES) {
        throw new MmkitError(ErrorCode.InvalidArgument, `initialState.pageblocks[${i}] must be a migratetype 0..${MIGRATE_PCPTYPES - 1} (${MIGRATE_TYPE_NAMES.slice(0, MIGRATE_PCPTYPES).join(", ")}), got ${describeValue(mt)}`);
      }
      const b = i - first;
      if (b >= 0 && b < pbCount) types[b] = mt;
    }
  }
  const owner = new Uint8Array(s.pages); // 0 none, 1 free, 2 allocated (listed)
  const place = (list: readonly DescribedBlock[] | undefined, what: "free" | "allocated", mark: number): number[] => {
    const out: number[] = [];
    if (list === undefined) return out;
    const blocks = requireArray<DescribedBlock>(list, `initialState.${what}`);
    for (let i = 0; i < blocks.length; i++) {
      const name = `initialState.${what}[${i}]`;
      const idx = requireBlock(s, blocks[i], name);
      const order = blocks[i]!.order;
      for (let p = idx; p < idx + 2 ** order; p++) {
        if (owner[p] !== 0) throw new MmkitError(ErrorCode.Overlap, `${name}: the order-${order} block at pfn ${idx + s.base} overlaps another described block at pfn ${p + s.base}`);
        owner[p] = mark;
      }
      if (mark === 1 && order >= s.pbOrder) {
        const t = types[idx >> s.pbOrder]!;
        for (let b = 1; b < 2 ** (order - s.pbOrder); b++) {
          if (types[(idx >> s.pbOrder) + b] !== t) throw new MmkitError(ErrorCode.InvalidArgument, `${name}: the free order-${order} block at pfn ${idx + s.base} spans pageblocks of different migratetypes`);
        }
      }
      out.push(idx, order);
    }
    return out;
  };
  const free = place(init.free, "free", 1);
  const allocated = place(init.allocated, "allocated", 2);
  // Free buddies of the same order would have been merged by the kernel, and check() refuses them.
  const freeHead = new Map<number, number>();
  for (let i = 0; i < free.length; i += 2) freeHead.set(free[i]!, free[i + 1]!);
  for (let i = 0; i < free.length; i += 2) {
    const idx = free[i]!;
    const order = free[i + 1]!;
    if (order >= s.maxOrder) continue;
    const buddy = idx ^ (2 ** order);
    const sameNode = ((s.mem[buddy << PAGE_SHIFT]! >>> NODE_SHIFT) & NODE_MASK) === ((s.mem[idx << PAGE_SHIFT]! >>> NODE_SHIFT) & NODE_MASK);
    if (freeHead.get(buddy) === order && sameNode && (s.mem[buddy << PAGE_SHIFT]! & PG_RESERVED) === 0) {
      throw new MmkitError(ErrorCode.InvalidArgument, `initialState.free: the order-${order} blocks at pfn ${idx + s.base} and ${buddy + s.base} are buddies; the allocator would merge them`);
    }
  }
  const watermarks = init.watermarks === undefined ? undefined : requireArray<Watermarks>(init.watermarks, "initialState.watermarks");
  if (watermarks !== undefined) {
    if (watermarks.length !== s.nodeCount) throw new MmkitError(ErrorCode.InvalidArgument, `initialState.watermarks must have one entry per node (${s.nodeCount}), got ${watermarks.length}`);
    watermarks.forEach((w, n) => {
      const name = `initialState.watermarks[${n}]`;
      if (w === null || typeof w !== "object") throw new MmkitError(ErrorCode.InvalidArgument, `${name} must be { min, low, high }, got ${describeValue(w)}`);
      const min = requireInteger(w.min, `${name}.min`, 0, 2 ** 31 - 1);
      const low = requireInteger(w.low, `${name}.low`, 0, 2 ** 31 - 1);
      const high = requireInteger(w.high, `${name}.high`, 0, 2 ** 31 - 1);
      if (min > low || low > high) throw new MmkitError(ErrorCode.InvalidArgument, `${name} must have min <= low <= high, got ${min}/${low}/${high}`);
    });
  }
  const limits = init.perCpuLimits === undefined ? undefined : requireArray<PerCpuLimits>(init.perCpuLimits, "initialState.perCpuLimits");
  if (limits !== undefined) {
    if (limits.length !== s.nodeCount) throw new MmkitError(ErrorCode.InvalidArgument, `initialState.perCpuLimits must have one entry per node (${s.nodeCount}), got ${limits.length}`);
    limits.forEach((l, n) => {
      const name = `initialState.perCpuLimits[${n}]`;
      if (l === null || typeof l !== "object") throw new MmkitError(ErrorCode.InvalidArgument, `${name} must be { batch, high }, got ${describeValue(l)}`);
      requireInteger(l.batch, `${name}.batch`, 1, 2 ** 20);
      requireInteger(l.high, `${name}.high`, 1, 2 ** 30);
    });
  }

  // Everything is valid: lay it out.
  s.pb.set(types);
  const mem = s.mem;
  const nodeOf = (idx: number): number => (mem[idx << PAGE_SHIFT]! >>> NODE_SHIFT) & NODE_MASK;
  for (let i = 0; i < allocated.length; i += 2) {
    const idx = allocated[i]!;
    mem[idx << PAGE_SHIFT] = headFlags(nodeOf(idx), STATE_ALLOCATED, types[idx >> s.pbOrder]!, allocated[i + 1]!);
  }
  for (let i = 0; i < free.length; i += 2) {
    const idx = free[i]!;
    addToFreeList(s, nodeOf(idx), idx, free[i + 1]!, types[idx >> s.pbOrder]!, true);
  }
  // The rest of RAM: allocated in the largest aligned blocks that fit between the described ones.
  for (const range of s.map.ranges) {
    for (let idx = range.startPfn - s.base; idx < range.endPfn - s.base; ) {
      if (owner[idx] !== 0) {
        idx += 2 ** ((mem[idx << PAGE_SHIFT]! >> ORDER_SHIFT) & 31);
        continue;
      }
      let o = 0;
      while (o < s.maxOrder) {
        const size = 2 ** (o + 1);
        if (idx % size !== 0 || idx + size > range.endPfn - s.base) break;
        let clear = true;
        for (let p = idx + 2 ** o; p < idx + size && clear; p++) clear = owner[p] === 0;
        if (!clear) break;
        o++;
      }
      mem[idx << PAGE_SHIFT] = headFlags(nodeOf(idx), STATE_ALLOCATED, types[idx >> s.pbOrder]!, o);
      idx += 2 ** o;
    }
  }
  if (watermarks !== undefined) {
    watermarks.forEach((w, n) => {
      s.zone[n * ZONE_INTS + Z_MIN] = w.min;
      s.zone[n * ZONE_INTS + Z_LOW] = w.low;
      s.zone[n * ZONE_INTS + Z_HIGH] = w.high;
    });
  }
  if (limits !== undefined) {
    for (let c = 0; c < s.cpuCount; c++) {
      limits.forEach((l, n) => {
        const p = (c * s.nodeCount + n) * PCP_INTS;
        s.pcp[p + PCP_BATCH] = l.batch;
        s.pcp[p + PCP_HIGH] = l.high;
      });
    }
  }
}

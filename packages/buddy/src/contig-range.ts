import { ErrorCode, MmkitError } from "@mmkit/physmem";
import { watermarkOk } from "./allocate.js";
import { freeToBuddy, rmqueue } from "./buddy-core.js";
import type { CompactionCounters } from "./compaction-counters.js";
import { MigrateType } from "./constants.js";
import { addToFreeList, delFromFreeList } from "./free-lists.js";
import { AF_CMA, MT_MASK, MT_SHIFT, NODE_MASK, NODE_SHIFT, ORDER_MASK, ORDER_SHIFT, PAGE_SHIFT, PG_CONTIG, STATE_ALLOCATED, STATE_BUDDY, STATE_MASK, headFlags } from "./layout.js";
import { askMover, moveBlock } from "./migrate-block.js";
import { enterMigration, leaveMigration } from "./migration-guard.js";
import { isolatePageblocks, undoIsolatePageblocks, walkBlocks } from "./page-isolation.js";
import type { PageMover } from "./page-mover.js";
import { requireRamSpan } from "./ram-span.js";
import { drainAll } from "./per-cpu.js";
import type { BuddyState } from "./state.js";

/**
 * Contiguous ranges (`alloc_contig_range` / `free_contig_range` in mm/page_alloc.c): isolate the
 * pageblocks covering the range, migrate the allocated movable blocks inside it to free pages
 * elsewhere (through the owner's {@link PageMover}), check every page of the range is free, take
 * it, and undo the isolation, whatever happened. The pages taken are allocated blocks marked as a
 * contiguous range, which only {@link freeContigRange} gives back.
 */

/** `alloc_contig_range` gives up on a block after this many migration attempts (its `tries == 5`). */
export const ALLOC_CONTIG_MIGRATE_TRIES = 5;

/**
 * Why a contiguous allocation returned -1 (none of these is misuse):
 * - `"unmovable"`: an allocated page in the range can never move (allocated Unmovable, or part of
 *   another contiguous range): `has_unmovable_pages`, found before anything was isolated;
 * - `"pinned"`: the owner said a page may not move now (`isMovable` false);
 * - `"migrate-failed"`: the owner refused to move a page {@link ALLOC_CONTIG_MIGRATE_TRIES} times;
 * - `"no-memory"`: no free block outside the range to move a page to;
 * - `"busy"`: a page of the range was still not free after migration (the owner freed or
 *   allocated behind the allocator's back, `test_pages_isolated` failing);
 * - `"no-range"`: the search form found no suitably aligned range of free or movable pages.
 */
export type ContigFailureReason = "unmovable" | "pinned" | "migrate-failed" | "no-memory" | "busy" | "no-range";

/**
 * What stopped the last contiguous allocation that returned -1.
 *
 * @example
 * ```ts
 * if (buddy.allocContigRange(4096, 512, mover) < 0) buddy.lastContigFailure;   // { reason: "unmovable", pfn: 4100, order: 0 }
 * ```
 */
export interface ContigFailure {
  /** Why (see {@link ContigFailureReason}). */
  readonly reason: ContigFailureReason;
  /** First pfn of the block that stopped it (-1 for "no-range"). */
  readonly pfn: number;
  /** Order of that block (-1 for "no-range"). */
  readonly order: number;
}

/** The range [start, end) of page indices on one node slot, validated. */
export interface ContigSpan {
  readonly start: number;
  readonly end: number;
  readonly node: number;
}

/**
 * Validates a range of `count` pages at `startPfn` for the contiguous-range calls: integers, count
 * at least 1, every page RAM (no hole) and on one node. Throws `ERR_INVALID_ARGUMENT`,
 * `ERR_OUT_OF_RANGE` or `ERR_NOT_RAM` naming the value. O(RAM ranges crossed).
 *
 * @example
 * ```ts
 * requireContigSpan(s, 512, 512);   // { start: 512 - s.base, end: 1024 - s.base, node: 0 }
 * ```
 */
export function requireContigSpan(s: BuddyState, startPfn: unknown, count: unknown): ContigSpan {
  const nodeId = requireRamSpan(s.map, startPfn, count, "startPfn");
  const start = (startPfn as number) - s.base;
  return { start, end: start + (count as number), node: s.nodeIds.indexOf(nodeId) };
}

/** `has_unmovable_pages` over [start, end): the first allocated block that can never move, or -1. */
function findUnmovable(s: BuddyState, start: number, end: number): number {
  return walkBlocks(s, start, end, (_, f) => (f & STATE_MASK) === STATE_ALLOCATED && ((f & PG_CONTIG) !== 0 || ((f >> MT_SHIFT) & MT_MASK) === MigrateType.Unmovable));
}

/** `test_pages_isolated` over [start, end): the first block that is not free on an Isolate list, or -1. */
function firstNotFree(s: BuddyState, start: number, end: number): number {
  return walkBlocks(s, start, end, (_, f) => (f & STATE_MASK) !== STATE_BUDDY || ((f >> MT_SHIFT) & MT_MASK) !== MigrateType.Isolate);
}

/**
 * `alloc_migration_target`: a free block of `order` for a block of migratetype `mt` leaving an
 * isolated range, allocated as that type (a Movable one may use CMA, a Reclaimable one may not),
 * from node slot `node`, then the others nearest first, keeping the min watermark. Isolated pages
 * are on lists no allocation reads, so the target is never inside the range. Returns the page
 * index (marked allocated as `mt`) or -1.
 */
function allocMigrationTarget(s: BuddyState, node: number, order: number, mt: number): number {
  const flags = mt === MigrateType.Movable ? AF_CMA : 0;
  for (let d = 0; d < s.nodeCount; d++) {
    for (const n of d === 0 ? [node] : [node - d, node + d]) {
      if (n < 0 || n >= s.nodeCount || !watermarkOk(s, n, order, flags)) continue;
      const idx = rmqueue(s, n, order, mt);
      if (idx >= 0) {
        s.mem[idx << PAGE_SHIFT] = headFlags(n, STATE_ALLOCATED, mt, order);
        return idx;
      }
    }
  }
  return -1;
}

/** A failure record for the block at page index `idx`. */
function failureAt(s: BuddyState, reason: ContigFailureReason, idx: number): ContigFailure {
  return { reason, pfn: idx + s.base, order: (s.mem[idx << PAGE_SHIFT]! >> ORDER_SHIFT) & ORDER_MASK };
}

/**
 * `__alloc_contig_migrate_range`: moves every allocated block overlapping [start, end) out, each
 * to a new block from {@link allocMigrationTarget}, at most {@link ALLOC_CONTIG_MIGRATE_TRIES}
 * attempts each. Returns null when the range holds no allocated block any more, else what stopped
 * it. A mover that throws or lies stops it with a typed error, the block where it was and its
 * target freed.
 */
function migrateRange(s: BuddyState, counters: CompactionCounters, mover: PageMover, start: number, end: number): ContigFailure | null {
  const mem = s.mem;
  let stop: ContigFailure | null = null;
  walkBlocks(s, start, end, (p, f) => {
    const order = (f >> ORDER_SHIFT) & ORDER_MASK;
    const n = 1 << order;
    counters.compactMigrateScanned += n;
    if ((f & STATE_MASK) !== STATE_ALLOCATED) return false;
    const mt = (f >> MT_SHIFT) & MT_MASK;
    if ((f & PG_CONTIG) !== 0 || mt === MigrateType.Unmovable) stop = failureAt(s, "unmovable", p);
    else if (!askMover(() => mover.isMovable(p + s.base, order), "isMovable")) stop = failureAt(s, "pinned", p);
    if (stop !== null) return true;
    counters.compactIsolated += n;
    let moved = false;
    let dst = -1;
    for (let tries = 0; tries < ALLOC_CONTIG_MIGRATE_TRIES && !moved; tries++) {
      dst = allocMigrationTarget(s, (f >>> NODE_SHIFT) & NODE_MASK, order, mt);
      if (dst < 0) {
        counters.pgmigrateFail += n;
        stop = failureAt(s, "no-memory", p);
        return true;
      }
      try {
        moved = moveBlock(s, mover, p, dst, order, f, mem[dst << PAGE_SHIFT]!);
      } catch (error) {
        freeToBuddy(s, dst, order);
        counters.pgmigrateFail += n;
        throw error;
      }
      if (!moved) {
        freeToBuddy(s, dst, order);
        counters.pgmigrateFail += n;
      }
    }
    if (!moved) {
      stop = failureAt(s, "migrate-failed", p);
      return true;
    }
    // The target, allocated as the source's migratetype and order, keeps its own node.
    freeToBuddy(s, p, order);
    counters.pgmigrateSuccess += n;
    return false;
  });
  return stop;
}

/**
 * Splits the block `idx` of `order` into aligned pieces each wholly inside or outside [start, end),
 * calling `inside` or `outside` with each piece (page index, order). O(order).
 */
function splitAround(idx: number, order: number, start: number, end: number, inside: (h: number, o: number) => void, outside: (h: number, o: number) => void): void {
  const size = 1 << order;
  if (idx >= start && idx + size <= end) inside(idx, order);
  else if (idx + size <= start || idx >= end) outside(idx, order);
  else {
    splitAround(idx, order - 1, start, end, inside, outside);
    splitAround(idx + (size >> 1), order - 1, start, end, inside, outside);
  }
}

/**
 * `isolate_freepages_range` on an isolated range whose pages are all free: takes each free block
 * overlapping [start, end) off the Isolate list; its pieces inside become allocated blocks marked
 * as a contiguous range, the pieces outside go back on the Isolate list (the undo frees them).
 */
function takeRange(s: BuddyState, start: number, end: number): void {
  const mem = s.mem;
  walkBlocks(s, start, end, (p, f) => {
    const order = (f >> ORDER_SHIFT) & ORDER_MASK;
    const node = (f >>> NODE_SHIFT) & NODE_MASK;
    delFromFreeList(s, node, p, order, MigrateType.Isolate);
    splitAround(
      p,
      order,
      start,
      end,
      (h, o) => (mem[h << PAGE_SHIFT] = headFlags(node, STATE_ALLOCATED, MigrateType.Unmovable, o) | PG_CONTIG),
      (h, o) => addToFreeList(s, node, h, o, MigrateType.Isolate, true),
    );
  });
}

/**
 * `alloc_contig_range` of the validated span: returns the span's first page index, or -1 with
 * `failure` set. Drains the per-CPU lists; isolates the covering pageblocks and always undoes it
 * (on success, failure or a throwing mover). Counts into `counters` as compaction does.
 * O(pages of the covering pageblocks + moves).
 *
 * @example
 * ```ts
 * const failure = { last: null };
 * allocContigSpan(s, counters, mover, requireContigSpan(s, 4096, 2048), failure);   // 4096 - s.base, or -1 with failure.last set
 * ```
 */
export function allocContigSpan(s: BuddyState, counters: CompactionCounters, mover: PageMover, span: ContigSpan, failure: { last: ContigFailure | null }): number {
  const { start, end } = span;
  enterMigration(s, "allocContigRange");
  try {
    drainAll(s);
    const bad = findUnmovable(s, start, end);
    if (bad >= 0) {
      failure.last = failureAt(s, "unmovable", bad);
      return -1;
    }
    const pbMask = (1 << s.pbOrder) - 1;
    const coverStart = start & ~pbMask;
    const coverEnd = (end + pbMask) & ~pbMask;
    const saved = isolatePageblocks(s, coverStart, coverEnd);
    try {
      let stop = migrateRange(s, counters, mover, start, end);
      if (stop === null) {
        // Pages the owner freed through a CPU front meanwhile went straight to the Isolate lists; drain anyway, as the kernel does.
        drainAll(s);
        const busy = firstNotFree(s, start, end);
        if (busy >= 0) stop = failureAt(s, "busy", busy);
      }
      if (stop !== null) {
        failure.last = stop;
        return -1;
      }
      takeRange(s, start, end);
      failure.last = null;
      return start;
    } finally {
      undoIsolatePageblocks(s, coverStart, coverEnd, saved);
    }
  } finally {
    leaveMigration(s);
  }
}

/**
 * `free_contig_range` of the validated span: every page of it must belong to a block taken by
 * `allocContigRange` (else `ERR_NOT_ALLOCATED` naming the first page that does not, nothing
 * changed); blocks reaching past either end are split, and the pages inside freed, merging. Any
 * part of a taken range may be given back, as the kernel frees such ranges page by page.
 * O(pages of the span + merges).
 *
 * @example
 * ```ts
 * freeContigSpan(s, requireContigSpan(s, 4096, 1024));   // the first half of a taken 2048-page range
 * ```
 */
export function freeContigSpan(s: BuddyState, span: ContigSpan): void {
  const { start, end } = span;
  const mem = s.mem;
  const bad = walkBlocks(s, start, end, (_, f) => (f & STATE_MASK) !== STATE_ALLOCATED || (f & PG_CONTIG) === 0);
  if (bad >= 0) {
    const state = mem[bad << PAGE_SHIFT]! & STATE_MASK;
    const what = state === STATE_ALLOCATED ? "allocated by allocPages, not allocContigRange" : "free";
    throw new MmkitError(ErrorCode.NotAllocated, `pfn ${Math.max(bad, start) + s.base} in the range of ${end - start} pages at pfn ${start + s.base} was not taken by allocContigRange (it is ${what})`);
  }
  walkBlocks(s, start, end, (p, f) => {
    const node = (f >>> NODE_SHIFT) & NODE_MASK;
    // Split first (the pieces reaching outside stay taken), then free the inside pieces, merging.
    const inside: number[] = [];
    splitAround(
      p,
      (f >> ORDER_SHIFT) & ORDER_MASK,
      start,
      end,
      (h, o) => inside.push(h, o),
      (h, o) => (mem[h << PAGE_SHIFT] = headFlags(node, STATE_ALLOCATED, MigrateType.Unmovable, o) | PG_CONTIG),
    );
    for (let i = 0; i < inside.length; i += 2) freeToBuddy(s, inside[i]!, inside[i + 1]!);
  });
}

/** Page-index stretches [start, end) of RAM of node slot `node`, adjacent ranges joined. */
function nodeStretches(s: BuddyState, node: number): [number, number][] {
  const out: [number, number][] = [];
  const id = s.nodeIds[node]!;
  for (const r of s.map.ranges) {
    if (r.node !== id) continue;
    const last = out[out.length - 1];
    if (last !== undefined && last[1] === r.startPfn - s.base) last[1] = r.endPfn - s.base;
    else out.push([r.startPfn - s.base, r.endPfn - s.base]);
  }
  return out;
}

/**
 * `alloc_contig_pages`: looks for `count` pages at a multiple of `align` pages (a pfn alignment)
 * on the node slots `nodes` in order — in the CMA area first, then over each node's RAM — whose
 * pages are all free or movable (no Unmovable or contiguous-range block: `pfn_range_valid_contig`
 * plus `has_unmovable_pages`), and tries {@link allocContigSpan} on each such range until one
 * succeeds. Returns the first page index or -1 with `failure` set (the last range's failure, or
 * "no-range" when none qualified). O(pages scanned + the tries).
 *
 * @example
 * ```ts
 * allocContigSearch(s, counters, mover, 2048, 256, [0], { last: null });   // 8 MiB at a 1 MiB boundary on node slot 0, or -1
 * ```
 */
export function allocContigSearch(s: BuddyState, counters: CompactionCounters, mover: PageMover, count: number, align: number, nodes: readonly number[], failure: { last: ContigFailure | null }): number {
  let tried = false;
  const scan = (node: number, lo: number, hi: number, skipCma: boolean): number => {
    let p = Math.ceil((lo + s.base) / align) * align - s.base;
    while (p + count <= hi) {
      if (skipCma && p >= s.cmaStart && p + count <= s.cmaEnd) {
        p = Math.ceil((s.cmaEnd + s.base) / align) * align - s.base;
        continue;
      }
      const bad = findUnmovable(s, p, p + count);
      if (bad >= 0) {
        // Every candidate holding this block fails as well: go past it.
        const after = bad + (1 << ((s.mem[bad << PAGE_SHIFT]! >> ORDER_SHIFT) & ORDER_MASK));
        p = Math.ceil((after + s.base) / align) * align - s.base;
        continue;
      }
      tried = true;
      if (allocContigSpan(s, counters, mover, { start: p, end: p + count, node }, failure) >= 0) return p;
      p += align;
    }
    return -1;
  };
  for (const node of nodes) {
    if (s.cmaStart < 0 || ((s.mem[s.cmaStart << PAGE_SHIFT]! >>> NODE_SHIFT) & NODE_MASK) !== node) continue;
    const got = scan(node, s.cmaStart, s.cmaEnd, false);
    if (got >= 0) return got;
  }
  for (const node of nodes) {
    for (const [lo, hi] of nodeStretches(s, node)) {
      const got = scan(node, lo, hi, s.cmaStart >= 0);
      if (got >= 0) return got;
    }
  }
  if (!tried) failure.last = { reason: "no-range", pfn: -1, order: -1 };
  return -1;
}

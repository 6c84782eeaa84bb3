import { watermarkOk } from "./allocate.js";
import { freeOnePage, freeToBuddy } from "./buddy-core.js";
import type { CompactionCounters } from "./compaction-counters.js";
import { MigrateType } from "./constants.js";
import { delFromFreeList } from "./free-lists.js";
import { MT_MASK, MT_SHIFT, NODE_MASK, NODE_SHIFT, ORDER_MASK, ORDER_SHIFT, PAGE_SHIFT, STATE_ALLOCATED, STATE_BUDDY, STATE_MASK, ZONE_INTS, Z_FREE, Z_MIN, Z_SPAN_END, Z_SPAN_START, headFlags } from "./layout.js";
import { askMover, moveBlock } from "./migrate-block.js";
import { enterMigration, leaveMigration } from "./migration-guard.js";
import type { PageMover } from "./page-mover.js";
import { drainAll } from "./per-cpu.js";
import { fragmentationScoreZone } from "./proactive-compaction.js";
import type { BuddyState } from "./state.js";

/**
 * One compaction run over a node's zone (`compact_zone` in mm/compaction.c): a migration scanner
 * walks up from the zone's start, pageblock by pageblock, isolating allocated Movable blocks of
 * Movable and CMA pageblocks in batches of up to {@link COMPACT_CLUSTER_MAX} pages; a free scanner walks down
 * from the zone's end isolating free blocks of Movable and CMA pageblocks as targets; each isolated block
 * is moved by its owner (the {@link PageMover}) and its old place freed. The run ends when the
 * scanners meet ("complete") or, for an order, when a block of that order is free with the min
 * watermark met ("success"). Free targets left over go back to the free lists, so every page is
 * accounted for after the run, even when the mover throws.
 */

/** `COMPACT_CLUSTER_MAX`: pages isolated per batch (`SWAP_CLUSTER_MAX`). */
export const COMPACT_CLUSTER_MAX = 32;

/** The kernel's `compact_result` values this package produces, lowest to highest. */
export type CompactResult = "skipped" | "deferred" | "continue" | "complete" | "success";

/** Rank of a result, for `max()` over nodes as `try_to_compact_pages` takes it. */
export const COMPACT_RESULT_RANK: Readonly<Record<CompactResult, number>> = { skipped: 0, deferred: 1, continue: 2, complete: 3, success: 4 };

/**
 * What one compaction run over one node did.
 *
 * @example
 * ```ts
 * const [run] = buddy.compact(mover, { order: 9, node: 0 });
 * run.result;     // "success": an order-9 block is free and the watermark is met
 * run.migrated;   // 37 pages moved
 * ```
 */
export interface CompactionRun {
  /** Node id compacted. */
  readonly node: number;
  /** Order compacted for, -1 for the whole zone. */
  readonly order: number;
  /** "complete" (scanners met), "success" (the order is free) or "skipped"/"deferred" when not run. */
  readonly result: CompactResult;
  /** Pages moved (`pgmigrate_success`). */
  readonly migrated: number;
  /** Pages tried that did not move: refused, no target, or the mover failed (`pgmigrate_fail`). */
  readonly failed: number;
  /** Pages the migration scanner walked over. */
  readonly migrateScanned: number;
  /** Pages the free scanner walked over. */
  readonly freeScanned: number;
  /** Pages isolated by both scanners. */
  readonly isolated: number;
}

/** `struct compact_control`: the state of one run. */
class CompactControl {
  migrateIdx: number;
  freeIdx: number;
  readonly zoneEnd: number;
  /** Isolated Movable blocks waiting to move (page indices), and their pages. */
  readonly migrateList: number[] = [];
  migratePages = 0;
  /** Isolated free targets per order (page indices), and their pages. */
  readonly freeLists: number[][];
  freePages = 0;
  migrated = 0;
  failed = 0;
  migrateScanned = 0;
  freeScanned = 0;
  isolated = 0;

  constructor(
    readonly s: BuddyState,
    readonly node: number,
    readonly order: number,
    readonly mover: PageMover,
    /** Proactive run: finished once the zone's fragmentation score is at most this; -1 otherwise. */
    readonly proactiveLow: number,
    /** Also scan Reclaimable pageblocks and offer Reclaimable blocks to the mover. */
    readonly reclaimable: boolean,
  ) {
    const z = node * ZONE_INTS;
    const pb = 1 << s.pbOrder;
    this.migrateIdx = s.zone[z + Z_SPAN_START]!;
    this.zoneEnd = s.zone[z + Z_SPAN_END]!;
    this.freeIdx = (this.zoneEnd - 1) & ~(pb - 1);
    this.freeLists = Array.from({ length: s.maxOrder + 1 }, () => []);
  }
}

/** Is the block whose flags are `f` a head on `node`? (Holes and tail pages have state 0.) */
function headOnNode(f: number, node: number): boolean {
  return (f & STATE_MASK) !== 0 && ((f >>> NODE_SHIFT) & NODE_MASK) === node;
}

/** May blocks allocated as (or pageblocks of) migratetype `mt` be migration sources in this run? Movable, and Reclaimable when asked. */
function migratable(cc: CompactControl, mt: number): boolean {
  return mt === MigrateType.Movable || (cc.reclaimable && mt === MigrateType.Reclaimable);
}

/** `compact_scanners_met`: the free scanner's pageblock is at or below the migration scanner's. */
function scannersMet(cc: CompactControl): boolean {
  return cc.freeIdx >> cc.s.pbOrder <= cc.migrateIdx >> cc.s.pbOrder;
}

/** `__compact_finished`: scanners met; a proactive run's score low enough; the order free with the watermark met. */
function compactFinished(cc: CompactControl): CompactResult {
  if (scannersMet(cc)) return "complete";
  if (cc.proactiveLow >= 0) return fragmentationScoreZone(cc.s, cc.node) > cc.proactiveLow ? "continue" : "success";
  if (cc.order >= 0 && watermarkOk(cc.s, cc.node, cc.order, 0)) return "success";
  return "continue";
}

/**
 * `isolate_migratepages_block`: walks [low, end) isolating allocated Movable blocks the owner lets
 * move, until COMPACT_CLUSTER_MAX pages are isolated. Returns where it stopped.
 */
function isolateMigratepagesBlock(cc: CompactControl, low: number, end: number): number {
  const s = cc.s;
  const mem = s.mem;
  let p = low;
  while (p < end && cc.migratePages < COMPACT_CLUSTER_MAX) {
    const f = mem[p << PAGE_SHIFT]!;
    if (!headOnNode(f, cc.node)) {
      p++;
      cc.migrateScanned++;
      continue;
    }
    const order = (f >> ORDER_SHIFT) & ORDER_MASK;
    const n = 1 << order;
    if ((f & STATE_MASK) === STATE_ALLOCATED && migratable(cc, (f >> MT_SHIFT) & MT_MASK)) {
      const pfn = p + s.base;
      if (askMover(() => cc.mover.isMovable(pfn, order), "isMovable")) {
        cc.migrateList.push(p);
        cc.migratePages += n;
        cc.isolated += n;
      }
    }
    p += n;
    cc.migrateScanned += n;
  }
  return p;
}

/**
 * `isolate_migratepages`: scans the next Movable or CMA pageblock below the free scanner (skipping other
 * pageblocks unscanned, as `suitable_migration_source` does) and leaves the scanner where it stopped.
 */
function isolateMigratepages(cc: CompactControl): void {
  const s = cc.s;
  const pb = 1 << s.pbOrder;
  let low = cc.migrateIdx;
  for (;;) {
    const blockStart = low & ~(pb - 1);
    const blockEnd = blockStart + pb;
    if (blockEnd > cc.freeIdx) break;
    const blockMt = s.pb[blockStart >> s.pbOrder]!;
    // is_migrate_movable: Movable and CMA pageblocks (Reclaimable ones too when asked).
    if (blockMt !== MigrateType.Cma && !migratable(cc, blockMt)) {
      low = blockEnd;
      continue;
    }
    low = isolateMigratepagesBlock(cc, low, blockEnd);
    break;
  }
  cc.migrateIdx = low;
}

/**
 * `suitable_migration_target`: a Movable or CMA pageblock (`is_migrate_movable`; not CMA when
 * Reclaimable blocks may move, as only Movable ones may live there) that does not start with a
 * free block of the order sought (of a pageblock for a whole-zone run): breaking that up would
 * undo the work.
 */
function suitableMigrationTarget(cc: CompactControl, blockStart: number): boolean {
  const s = cc.s;
  const f = s.mem[blockStart << PAGE_SHIFT]!;
  if ((f & STATE_MASK) === STATE_BUDDY && ((f >> ORDER_SHIFT) & ORDER_MASK) >= (cc.order > 0 ? cc.order : s.pbOrder)) return false;
  const mt = s.pb[blockStart >> s.pbOrder];
  return mt === MigrateType.Movable || (mt === MigrateType.Cma && !cc.reclaimable);
}

/**
 * `isolate_freepages_block`: takes the free blocks of [start, end) off the free lists as targets
 * (marked allocated while isolated), until there are as many free pages as pages to move or the zone
 * would drop to its min watermark (`__isolate_free_page`). Returns where it stopped.
 */
function isolateFreepagesBlock(cc: CompactControl, start: number, end: number, target: number): number {
  const s = cc.s;
  const mem = s.mem;
  const z = cc.node * ZONE_INTS;
  let p = start;
  while (p < end && cc.freePages < target) {
    const f = mem[p << PAGE_SHIFT]!;
    if (!headOnNode(f, cc.node)) {
      p++;
      cc.freeScanned++;
      continue;
    }
    const order = (f >> ORDER_SHIFT) & ORDER_MASK;
    const n = 1 << order;
    if ((f & STATE_MASK) === STATE_BUDDY) {
      if (s.zone[z + Z_FREE]! - n <= s.zone[z + Z_MIN]!) break;
      delFromFreeList(s, cc.node, p, order, (f >> MT_SHIFT) & MT_MASK);
      mem[p << PAGE_SHIFT] = headFlags(cc.node, STATE_ALLOCATED, MigrateType.Movable, order);
      cc.freeLists[order]!.push(p);
      cc.freePages += n;
      cc.isolated += n;
    }
    p += n;
    cc.freeScanned += n;
  }
  return p;
}

/**
 * `isolate_freepages`: walks pageblocks down from the free scanner, staying above the migration
 * scanner's pageblock, until as many pages are isolated as are to move, and at least one more block
 * (the isolated ones may all be too small for the block to move); the scanner stays in a pageblock
 * it did not finish.
 */
function isolateFreepages(cc: CompactControl): void {
  const s = cc.s;
  const pb = 1 << s.pbOrder;
  const lowLimit = (cc.migrateIdx & ~(pb - 1)) + pb;
  const target = Math.max(cc.migratePages, cc.freePages + 1);
  let pos = cc.freeIdx;
  while (cc.freePages < target) {
    const blockStart = pos & ~(pb - 1);
    if (blockStart < lowLimit) {
      pos = blockStart - pb;
      break;
    }
    const blockEnd = Math.min(blockStart + pb, cc.zoneEnd);
    if (!suitableMigrationTarget(cc, blockStart)) {
      pos = blockStart - pb;
      continue;
    }
    const stop = isolateFreepagesBlock(cc, pos, blockEnd, target);
    if (stop >= blockEnd) pos = blockStart - pb;
    else {
      pos = stop;
      break;
    }
  }
  cc.freeIdx = Math.max(pos, -pb);
}

/** `compaction_alloc`: a target block of `order` from the isolated free blocks (split as `expand` does), or -1. */
function compactionAlloc(cc: CompactControl, order: number): number {
  for (let attempt = 0; attempt < 2; attempt++) {
    for (let o = order; o <= cc.s.maxOrder; o++) {
      const list = cc.freeLists[o]!;
      if (list.length === 0) continue;
      const idx = list.shift()!;
      for (let high = o; high > order; ) {
        high--;
        const half = idx + (1 << high);
        cc.s.mem[half << PAGE_SHIFT] = headFlags(cc.node, STATE_ALLOCATED, MigrateType.Movable, high);
        cc.freeLists[high]!.push(half);
      }
      cc.s.mem[idx << PAGE_SHIFT] = headFlags(cc.node, STATE_ALLOCATED, MigrateType.Movable, order);
      cc.freePages -= 1 << order;
      return idx;
    }
    if (attempt === 0 && !scannersMet(cc)) isolateFreepages(cc);
  }
  return -1;
}

/** A target not used goes back first in line. */
function returnTarget(cc: CompactControl, idx: number, order: number): void {
  cc.freeLists[order]!.unshift(idx);
  cc.freePages += 1 << order;
}

/**
 * `migrate_pages`: moves each isolated block to a target through the mover. A refusal or a lack of
 * targets counts as failed; a throw or a lie (checked with `holds`) stops the run with a typed error,
 * the block left where it was.
 */
function migratePages(cc: CompactControl): void {
  const s = cc.s;
  const mem = s.mem;
  while (cc.migrateList.length > 0) {
    const src = cc.migrateList.shift()!;
    const f = mem[src << PAGE_SHIFT]!;
    const order = (f >> ORDER_SHIFT) & ORDER_MASK;
    const n = 1 << order;
    // The owner may have freed the block since it was isolated (from a mover callback): skip it.
    if ((f & STATE_MASK) !== STATE_ALLOCATED || !migratable(cc, (f >> MT_SHIFT) & MT_MASK)) {
      cc.migratePages -= n;
      continue;
    }
    // The free scanner isolates as many pages as are still to move, this block included.
    const dst = compactionAlloc(cc, order);
    if (dst < 0) {
      // -ENOMEM: this block failed; the rest go back untried (migrate_pages does not count them).
      cc.failed += n;
      cc.migrateList.length = 0;
      cc.migratePages = 0;
      return;
    }
    cc.migratePages -= n;
    let moved: boolean;
    try {
      moved = moveBlock(s, cc.mover, src, dst, order, f, headFlags(cc.node, STATE_ALLOCATED, MigrateType.Movable, order));
    } catch (error) {
      returnTarget(cc, dst, order);
      cc.failed += n;
      throw error;
    }
    if (!moved) {
      returnTarget(cc, dst, order);
      cc.failed += n;
      continue;
    }
    mem[dst << PAGE_SHIFT] = f;
    freeToBuddy(s, src, order);
    cc.migrated += n;
  }
}

/** `release_free_list`: isolated targets not used go back to the free lists, merging. */
function releaseFreepages(cc: CompactControl): void {
  const s = cc.s;
  for (let o = 0; o < cc.freeLists.length; o++) {
    for (const idx of cc.freeLists[o]!) freeOnePage(s, cc.node, idx, o, s.pb[idx >> s.pbOrder]!, false);
    cc.freeLists[o]!.length = 0;
  }
  cc.freePages = 0;
}

/**
 * `compact_zone`: one run over node slot `node` for `order` (-1: the whole zone, as
 * `/proc/sys/vm/compact_memory`), or a proactive run (`proactiveLow` >= 0: until the zone's
 * fragmentation score is at most that). Drains the per-CPU lists first. Adds its figures to
 * `counters` even when the mover throws. O(pages of the zone) scanned at most once by each scanner.
 */
export function compactZone(s: BuddyState, counters: CompactionCounters, mover: PageMover, node: number, order: number, proactiveLow = -1, reclaimable = false): CompactionRun {
  enterMigration(s, "compaction");
  drainAll(s);
  const cc = new CompactControl(s, node, order, mover, proactiveLow, reclaimable);
  let result: CompactResult = "continue";
  try {
    for (;;) {
      result = compactFinished(cc);
      if (result !== "continue") break;
      isolateMigratepages(cc);
      if (cc.migrateList.length > 0) migratePages(cc);
    }
  } finally {
    // putback_movable_pages: blocks isolated but not tried stay allocated where they are.
    cc.migrateList.length = 0;
    cc.migratePages = 0;
    releaseFreepages(cc);
    leaveMigration(s);
    counters.compactMigrateScanned += cc.migrateScanned;
    counters.compactFreeScanned += cc.freeScanned;
    counters.compactIsolated += cc.isolated;
    counters.pgmigrateSuccess += cc.migrated;
    counters.pgmigrateFail += cc.failed;
  }
  return { node: s.nodeIds[node]!, order, result, migrated: cc.migrated, failed: cc.failed, migrateScanned: cc.migrateScanned, freeScanned: cc.freeScanned, isolated: cc.isolated };
}

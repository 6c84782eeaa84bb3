import { MIGRATE_TYPES, MIGRATE_TYPE_NAMES, type MigrateType } from "./constants.js";
import { fragmentationIndex, unusableFreeIndex } from "./fragmentation.js";
import { FA_COUNT, FA_HEAD, FA_INTS, FA_LISTS, FA_NR_FREE, PAGE_SHIFT, P_NEXT } from "./layout.js";
import type { BuddyState } from "./state.js";

/**
 * Read-only views of the free lists, as the kernel's `/proc/buddyinfo`, `/proc/pagetypeinfo` and
 * extfrag files show them. Each costs O(nodes x orders x migratetypes) (and `freeLists` the length
 * of the lists). Per-CPU pages are not free pages here, as in the kernel.
 */

/**
 * One line of `/proc/buddyinfo`: free blocks of each order on one node.
 *
 * @example
 * ```ts
 * const buddy = new BuddyAllocator(MemoryMap.uniform(64 * MiB));
 * buddy.allocPages(2);
 * buddy.buddyinfo();   // [{ node: 0, freeBlocks: [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 15] }]
 * ```
 */
export interface BuddyInfo {
  /** Node id. */
  readonly node: number;
  /** `freeBlocks[o]` = free blocks of order o. */
  readonly freeBlocks: readonly number[];
}

/**
 * One node's part of `/proc/pagetypeinfo`.
 *
 * @example
 * ```ts
 * buddy.pagetypeinfo()[0]?.pageblocks;   // [0, 32, 0]: 32 Movable pageblocks on a 64 MiB node
 * ```
 */
export interface PageTypeInfo {
  /** Node id. */
  readonly node: number;
  /** `freeBlocks[mt][o]` = free blocks of order o on migratetype mt's lists. */
  readonly freeBlocks: readonly (readonly number[])[];
  /** `pageblocks[mt]` = pageblocks of the node whose type is mt. */
  readonly pageblocks: readonly number[];
}

/**
 * One non-empty free list, its blocks in list order (head first).
 *
 * @example
 * ```ts
 * buddy.allocPages(2, { migratetype: MigrateType.Movable });
 * buddy.freeLists(0)[0];   // { node: 0, order: 2, migratetype: 1, pfns: [4] }
 * ```
 */
export interface FreeList {
  /** Node id. */
  readonly node: number;
  /** Order of every block on the list. */
  readonly order: number;
  /** Migratetype of the list. */
  readonly migratetype: MigrateType;
  /** First pfn of each block, head first. */
  readonly pfns: readonly number[];
}

export function freeBlocksPerOrder(s: BuddyState, node: number): number[] {
  const out: number[] = [];
  for (let o = 0; o <= s.maxOrder; o++) out.push(s.fa[(node * (s.maxOrder + 1) + o) * FA_INTS + FA_NR_FREE]!);
  return out;
}

export function buddyinfo(s: BuddyState): BuddyInfo[] {
  const out: BuddyInfo[] = [];
  for (let n = 0; n < s.nodeCount; n++) out.push({ node: s.nodeIds[n]!, freeBlocks: freeBlocksPerOrder(s, n) });
  return out;
}

export function formatBuddyinfo(s: BuddyState): string {
  return buddyinfo(s)
    .map((row) => `Node ${row.node}, zone   Normal ${row.freeBlocks.map((b) => String(b).padStart(6)).join(" ")}`)
    .join("\n");
}

export function pagetypeinfo(s: BuddyState): PageTypeInfo[] {
  // A pageblock belongs to the node of its first page of RAM (ranges are sorted by address).
  const pageblocks: number[][] = s.nodeIds.map(() => new Array<number>(MIGRATE_TYPES).fill(0));
  let last = -1;
  for (const r of s.map.ranges) {
    const slot = s.nodeIds.indexOf(r.node);
    const first = (r.startPfn - s.base) >> s.pbOrder;
    const end = (r.endPfn - 1 - s.base) >> s.pbOrder;
    for (let b = Math.max(first, last + 1); b <= end; b++) pageblocks[slot]![s.pb[b]!]!++;
    last = Math.max(last, end);
  }
  const out: PageTypeInfo[] = [];
  for (let n = 0; n < s.nodeCount; n++) {
    const freeBlocks: number[][] = [];
    for (let m = 0; m < MIGRATE_TYPES; m++) {
      const row: number[] = [];
      for (let o = 0; o <= s.maxOrder; o++) row.push(s.fa[(n * (s.maxOrder + 1) + o) * FA_INTS + FA_LISTS + m * 3 + FA_COUNT]!);
      freeBlocks.push(row);
    }
    out.push({ node: s.nodeIds[n]!, freeBlocks, pageblocks: pageblocks[n]! });
  }
  return out;
}

export function formatPagetypeinfo(s: BuddyState): string {
  const lines = [`Page block order: ${s.pbOrder}`, `Pages per block:  ${2 ** s.pbOrder}`, ""];
  const orders = Array.from({ length: s.maxOrder + 1 }, (_, o) => String(o).padStart(6)).join(" ");
  lines.push(`Free pages count per migrate type at order ${orders}`);
  const info = pagetypeinfo(s);
  for (const node of info) {
    for (let m = 0; m < MIGRATE_TYPES; m++) {
      lines.push(`Node ${String(node.node).padStart(4)}, zone   Normal, type ${MIGRATE_TYPE_NAMES[m]!.padStart(12)} ${node.freeBlocks[m]!.map((b) => String(b).padStart(6)).join(" ")}`);
    }
  }
  lines.push("", `Number of blocks type ${MIGRATE_TYPE_NAMES.map((n) => n.padStart(12)).join(" ")}`);
  for (const node of info) lines.push(`Node ${node.node}, zone   Normal ${node.pageblocks.map((b) => String(b).padStart(12)).join(" ")}`);
  return lines.join("\n");
}

export function freeLists(s: BuddyState, node: number): FreeList[] {
  const out: FreeList[] = [];
  for (let n = 0; n < s.nodeCount; n++) {
    if (node >= 0 && n !== node) continue;
    for (let o = 0; o <= s.maxOrder; o++) {
      for (let m = 0; m < MIGRATE_TYPES; m++) {
        const pfns: number[] = [];
        for (let idx = s.fa[(n * (s.maxOrder + 1) + o) * FA_INTS + FA_LISTS + m * 3 + FA_HEAD]!; idx >= 0; idx = s.mem[(idx << PAGE_SHIFT) + P_NEXT]!) {
          pfns.push(idx + s.base);
        }
        if (pfns.length > 0) out.push({ node: s.nodeIds[n]!, order: o, migratetype: m as MigrateType, pfns });
      }
    }
  }
  return out;
}

export function nodeUnusableFreeIndex(s: BuddyState, node: number, order: number): number {
  return unusableFreeIndex(order, freeBlocksPerOrder(s, node));
}

export function nodeFragmentationIndex(s: BuddyState, node: number, order: number): number {
  return fragmentationIndex(order, freeBlocksPerOrder(s, node));
}

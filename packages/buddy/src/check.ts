import { ErrorCode, MmkitError } from "@mmkit/physmem";
import { MIGRATE_TYPES, MIGRATE_TYPE_NAMES, MigrateType, migratetypeIsMergeable } from "./constants.js";
import {
  FA_COUNT,
  FA_HEAD,
  FA_INTS,
  FA_LISTS,
  FA_NR_FREE,
  FA_TAIL,
  HEAD_KEY,
  MT_MASK,
  MT_SHIFT,
  NODE_MASK,
  NODE_SHIFT,
  ORDER_MASK,
  ORDER_SHIFT,
  PAGE_SHIFT,
  PCP_COUNT,
  PCP_LISTS,
  PG_RESERVED,
  P_NEXT,
  P_PREV,
  STATE_BUDDY,
  STATE_MASK,
  STATE_PCP,
  ZONE_INTS,
  Z_FREE,
  Z_FREE_CMA,
} from "./layout.js";
import { pcpBase } from "./per-cpu.js";
import type { BuddyState } from "./state.js";

function fail(message: string): never {
  throw new MmkitError(ErrorCode.Invariant, message);
}

/**
 * Validates every invariant of the allocator and throws `ERR_INVARIANT` naming the first broken
 * one: every page of RAM belongs to exactly one block (free, per-CPU or allocated) that is aligned
 * to its order and lies in one RAM range of one node; hole pages are reserved; every free block is
 * on exactly one list, the one of its node, order and pageblock type, with consistent links,
 * counts and free-page totals (Isolate lists left out, CMA lists also counted apart); no two free
 * buddies of the same order are left unmerged unless their types may not merge; CMA pageblocks
 * lie exactly on the CMA area (Isolate ones there too during a contiguous allocation); per-CPU
 * lists hold per-CPU blocks of their order and type and their counts match.
 * O(spanned pages + free blocks).
 */
export function checkInvariants(s: BuddyState): void {
  const mem = s.mem;
  const max = s.maxOrder;
  const listed = new Uint8Array(s.pages); // 1: on a free list, 2: on a pcp list
  // Free lists.
  for (let n = 0; n < s.nodeCount; n++) {
    let freePages = 0;
    let cmaPages = 0;
    for (let o = 0; o <= max; o++) {
      const line = (n * (max + 1) + o) * FA_INTS;
      let blocks = 0;
      for (let m = 0; m < MIGRATE_TYPES; m++) {
        const list = line + FA_LISTS + m * 3;
        const name = `node ${s.nodeIds[n]} order ${o} ${MIGRATE_TYPE_NAMES[m]} free list`;
        let prev = -1;
        let count = 0;
        for (let idx = s.fa[list + FA_HEAD]!; idx >= 0; idx = mem[(idx << PAGE_SHIFT) + P_NEXT]!) {
          if (idx >= s.pages) fail(`${name}: link to page index ${idx} beyond the memmap`);
          const pfn = idx + s.base;
          if (listed[idx] !== 0) fail(`${name}: pfn ${pfn} is on more than one list (or the list has a cycle)`);
          listed[idx] = 1;
          const f = mem[idx << PAGE_SHIFT]!;
          if ((f & HEAD_KEY) !== ((n << NODE_SHIFT) | (o << ORDER_SHIFT) | STATE_BUDDY)) fail(`${name}: pfn ${pfn} has flags 0x${f.toString(16)}, not a free order-${o} head of this node`);
          if (((f >> MT_SHIFT) & MT_MASK) !== m) fail(`${name}: pfn ${pfn} records migratetype ${(f >> MT_SHIFT) & MT_MASK}`);
          if (mem[(idx << PAGE_SHIFT) + P_PREV] !== prev) fail(`${name}: pfn ${pfn} has a wrong prev link`);
          if (idx % 2 ** o !== 0) fail(`${name}: pfn ${pfn} is not aligned to order ${o}`);
          const first = idx >> s.pbOrder;
          const pbs = o >= s.pbOrder ? 2 ** (o - s.pbOrder) : 1;
          for (let b = 0; b < pbs; b++) if (s.pb[first + b] !== m) fail(`${name}: pfn ${pfn} lies in a pageblock of type ${MIGRATE_TYPE_NAMES[s.pb[first + b]!]}`);
          prev = idx;
          count++;
        }
        if (s.fa[list + FA_TAIL] !== prev) fail(`${name}: tail is ${s.fa[list + FA_TAIL]}, the last entry is ${prev}`);
        if (s.fa[list + FA_COUNT] !== count) fail(`${name}: count is ${s.fa[list + FA_COUNT]}, the list holds ${count}`);
        blocks += count;
        // NR_FREE_PAGES leaves out isolated pages; NR_FREE_CMA_PAGES counts the CMA lists.
        if (m !== MigrateType.Isolate) freePages += count * 2 ** o;
        if (m === MigrateType.Cma) cmaPages += count * 2 ** o;
      }
      if (s.fa[line + FA_NR_FREE] !== blocks) fail(`node ${s.nodeIds[n]} order ${o}: nr_free is ${s.fa[line + FA_NR_FREE]}, the lists hold ${blocks}`);
    }
    if (s.zone[n * ZONE_INTS + Z_FREE] !== freePages) fail(`node ${s.nodeIds[n]}: free pages counter is ${s.zone[n * ZONE_INTS + Z_FREE]}, the lists other than Isolate hold ${freePages}`);
    if (s.zone[n * ZONE_INTS + Z_FREE_CMA] !== cmaPages) fail(`node ${s.nodeIds[n]}: free CMA pages counter is ${s.zone[n * ZONE_INTS + Z_FREE_CMA]}, the CMA lists hold ${cmaPages}`);
  }
  // Per-CPU lists.
  for (let c = 0; c < s.cpuCount; c++) {
    for (let n = 0; n < s.nodeCount; n++) {
      const base = pcpBase(s, c, n);
      let pages = 0;
      for (let pindex = 0; pindex < (s.pcpMaxOrder + 1) * 3; pindex++) {
        const o = (pindex / 3) | 0;
        const m = pindex % 3;
        const list = base + PCP_LISTS + pindex * 2;
        const name = `cpu ${c} node ${s.nodeIds[n]} order ${o} ${MIGRATE_TYPE_NAMES[m]} per-CPU list`;
        let prev = -1;
        for (let idx = s.pcp[list]!; idx >= 0; idx = mem[(idx << PAGE_SHIFT) + P_NEXT]!) {
          if (idx >= s.pages) fail(`${name}: link to page index ${idx} beyond the memmap`);
          const pfn = idx + s.base;
          if (listed[idx] !== 0) fail(`${name}: pfn ${pfn} is on more than one list (or the list has a cycle)`);
          listed[idx] = 2;
          const f = mem[idx << PAGE_SHIFT]!;
          if ((f & HEAD_KEY) !== ((n << NODE_SHIFT) | (o << ORDER_SHIFT) | STATE_PCP) || ((f >> MT_SHIFT) & MT_MASK) !== m) {
            fail(`${name}: pfn ${pfn} has flags 0x${f.toString(16)}, not a per-CPU order-${o} ${MIGRATE_TYPE_NAMES[m]} head of this node`);
          }
          if (mem[(idx << PAGE_SHIFT) + P_PREV] !== prev) fail(`${name}: pfn ${pfn} has a wrong prev link`);
          if (idx % 2 ** o !== 0) fail(`${name}: pfn ${pfn} is not aligned to order ${o}`);
          prev = idx;
          pages += 2 ** o;
        }
        if (s.pcp[list + 1] !== prev) fail(`${name}: tail is ${s.pcp[list + 1]}, the last entry is ${prev}`);
      }
      if (s.pcp[base + PCP_COUNT] !== pages) fail(`cpu ${c} node ${s.nodeIds[n]}: per-CPU count is ${s.pcp[base + PCP_COUNT]}, the lists hold ${pages}`);
    }
  }
  // Pageblock types: CMA exactly on the CMA area (Isolate there too while a contiguous allocation runs).
  for (let b = 0; b < s.pb.length; b++) {
    const mt = s.pb[b]!;
    if (mt >= MIGRATE_TYPES) fail(`pageblock ${b} (pfn ${(b << s.pbOrder) + s.base}) has migratetype ${mt}`);
    const inCma = b << s.pbOrder >= s.cmaStart && b << s.pbOrder < s.cmaEnd;
    if (inCma ? mt !== MigrateType.Cma && mt !== MigrateType.Isolate : mt === MigrateType.Cma) {
      fail(`pageblock at pfn ${(b << s.pbOrder) + s.base} is ${MIGRATE_TYPE_NAMES[mt]} ${inCma ? "inside" : "outside"} the CMA area`);
    }
  }
  // The memmap: blocks tile RAM, holes are reserved, nothing is left unmerged.
  let rangeIndex = 0;
  const ranges = s.map.ranges;
  for (let idx = 0; idx < s.pages; ) {
    const pfn = idx + s.base;
    while (rangeIndex < ranges.length && ranges[rangeIndex]!.endPfn <= pfn) rangeIndex++;
    const range = ranges[rangeIndex];
    const inRam = range !== undefined && pfn >= range.startPfn;
    const f = mem[idx << PAGE_SHIFT]!;
    if (!inRam) {
      if (f !== PG_RESERVED) fail(`pfn ${pfn} is not RAM but its flags are 0x${f.toString(16)}`);
      idx++;
      continue;
    }
    const node = s.nodeIds.indexOf(range.node);
    if (((f >>> NODE_SHIFT) & NODE_MASK) !== node || (f & PG_RESERVED) !== 0) fail(`pfn ${pfn} records node slot ${(f >>> NODE_SHIFT) & NODE_MASK}, it is on node ${range.node}`);
    const state = f & STATE_MASK;
    if (state === 0) fail(`pfn ${pfn} is not inside any block (free, per-CPU or allocated)`);
    const o = (f >> ORDER_SHIFT) & ORDER_MASK;
    if (o > max) fail(`pfn ${pfn} heads a block of order ${o} > maxOrder ${max}`);
    const size = 2 ** o;
    if (idx % size !== 0) fail(`pfn ${pfn} heads an order-${o} block but is not aligned to it`);
    if (pfn + size > range.endPfn) fail(`the order-${o} block at pfn ${pfn} crosses the end of its RAM range at pfn ${range.endPfn}`);
    if (state === STATE_BUDDY && listed[idx] !== 1) fail(`pfn ${pfn} is a free block but on no free list`);
    if (state === STATE_PCP && listed[idx] !== 2) fail(`pfn ${pfn} is a per-CPU block but on no per-CPU list`);
    if (state !== STATE_BUDDY && state !== STATE_PCP && listed[idx] !== 0) fail(`pfn ${pfn} is allocated but on a list`);
    for (let t = 1; t < size; t++) {
      const tf = mem[(idx + t) << PAGE_SHIFT]!;
      if (tf !== node << NODE_SHIFT) fail(`pfn ${pfn + t} inside the order-${o} block at pfn ${pfn} has flags 0x${tf.toString(16)}`);
    }
    if (state === STATE_BUDDY && o < max) {
      const buddy = idx ^ size;
      const bf = mem[buddy << PAGE_SHIFT]!;
      // Unless their types may not merge (an Isolate or CMA block beside another type, `migratetype_is_mergeable`).
      const fmt = (f >> MT_SHIFT) & MT_MASK;
      const bmt = (bf >> MT_SHIFT) & MT_MASK;
      const mergeable = fmt === bmt || (migratetypeIsMergeable(fmt) && migratetypeIsMergeable(bmt));
      if (mergeable && (bf & HEAD_KEY) === ((node << NODE_SHIFT) | (o << ORDER_SHIFT) | STATE_BUDDY)) fail(`free buddies at pfn ${pfn} and ${buddy + s.base} (order ${o}) were not merged`);
    }
    idx += size;
  }
}

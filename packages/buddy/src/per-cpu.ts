import { freeOnePage, rmqueue } from "./buddy-core.js";
import { MIGRATE_PCPTYPES, MigrateType } from "./constants.js";
import { NODE_SHIFT, PAGE_SHIFT, PCP_BATCH, PCP_COUNT, PCP_HIGH, PCP_INTS, PCP_LISTS, P_FLAGS, P_NEXT, P_PREV, STATE_PCP, headFlags } from "./layout.js";
import type { BuddyState } from "./state.js";

/**
 * Per-CPU page lists (the kernel's `per_cpu_pages`): for each CPU and node, one list per order
 * 0..3 and migratetype, threaded through the page records like the free lists, with a page count,
 * `batch` and `high` in the CPU's `pcp` lines. Allocation pops the head (refilling `batch` pages
 * from the free lists when the list is empty, `rmqueue_bulk`); free pushes the head and, once the
 * count reaches `high`, returns `batch` pages from the tails (`free_pcppages_bulk`). The fast paths
 * touch the pcp line, the page's record and its list neighbour's record: never the free lists.
 */

/** Index into `s.pcp` of (cpu, node)'s first int. */
export function pcpBase(s: BuddyState, cpu: number, node: number): number {
  return (cpu * s.nodeCount + node) * PCP_INTS;
}

/** Refills list (cpu, node, order, mt) with up to `batch` blocks (`rmqueue_bulk`); returns how many. */
function refill(s: BuddyState, base: number, node: number, order: number, mt: number): number {
  const pcp = s.pcp;
  const mem = s.mem;
  let batch = pcp[base + PCP_BATCH]!;
  if (order > 0 && batch > 1) batch = Math.max(batch >> order, 2);
  const list = base + PCP_LISTS + (order * 3 + mt) * 2;
  const flags = headFlags(node, STATE_PCP, mt, order);
  let got = 0;
  for (; got < batch; got++) {
    const idx = rmqueue(s, node, order, mt);
    if (idx < 0) break;
    const rec = idx << PAGE_SHIFT;
    mem[rec + P_FLAGS] = flags;
    const t = pcp[list + 1]!;
    mem[rec + P_NEXT] = -1;
    mem[rec + P_PREV] = t;
    if (t >= 0) mem[(t << PAGE_SHIFT) + P_NEXT] = idx;
    else pcp[list] = idx;
    pcp[list + 1] = idx;
  }
  pcp[base + PCP_COUNT] += got << order;
  s.counters.pcpRefills++;
  return got;
}

/** Takes a block of `order` (<= pcpMaxOrder) from (cpu, node)'s list for `mt`, refilling it if empty; -1 if none. */
export function pcpAlloc(s: BuddyState, cpu: number, node: number, order: number, mt: number): number {
  const pcp = s.pcp;
  const mem = s.mem;
  const base = (cpu * s.nodeCount + node) * PCP_INTS;
  const list = base + PCP_LISTS + (order * 3 + mt) * 2;
  let head = pcp[list]!;
  if (head < 0) {
    if (refill(s, base, node, order, mt) === 0) return -1;
    head = pcp[list]!;
  }
  const next = mem[(head << PAGE_SHIFT) + P_NEXT]!;
  pcp[list] = next;
  if (next >= 0) mem[(next << PAGE_SHIFT) + P_PREV] = -1;
  else pcp[list + 1] = -1;
  pcp[base + PCP_COUNT] -= 1 << order;
  s.counters.pcpAllocs++;
  return head;
}

/** Frees block `idx` of `order` (<= pcpMaxOrder) onto `cpu`'s list for its node and pageblock type (CMA: Movable; Isolate: to the free lists). */
export function pcpFree(s: BuddyState, cpu: number, idx: number, order: number): void {
  const pcp = s.pcp;
  const mem = s.mem;
  const rec = idx << PAGE_SHIFT;
  const node = (mem[rec + P_FLAGS]! >>> NODE_SHIFT) & 1023;
  let mt = s.pb[idx >> s.pbOrder]!;
  if (mt >= MIGRATE_PCPTYPES) {
    // free_unref_page: a page of an isolated pageblock goes straight to the buddy lists (where
    // nobody takes it); a CMA page goes on the Movable list.
    if (mt === MigrateType.Isolate) {
      freeOnePage(s, node, idx, order, mt, false);
      return;
    }
    mt = MigrateType.Movable;
  }
  const base = (cpu * s.nodeCount + node) * PCP_INTS;
  const pindex = order * 3 + mt;
  const list = base + PCP_LISTS + pindex * 2;
  const h = pcp[list]!;
  mem[rec + P_FLAGS] = headFlags(node, STATE_PCP, mt, order);
  mem[rec + P_NEXT] = h;
  mem[rec + P_PREV] = -1;
  if (h >= 0) mem[(h << PAGE_SHIFT) + P_PREV] = idx;
  else pcp[list + 1] = idx;
  pcp[list] = idx;
  const count = (pcp[base + PCP_COUNT] += 1 << order);
  s.counters.pcpFrees++;
  if (count >= pcp[base + PCP_HIGH]!) freePcppagesBulk(s, base, node, pcp[base + PCP_BATCH]!, pindex);
}

/**
 * `free_pcppages_bulk`: returns at least `count` pages (or all there are) from (cpu, node)'s
 * lists to the free lists, starting with list `pindex` and going round robin, coldest (tail) first.
 */
export function freePcppagesBulk(s: BuddyState, base: number, node: number, count: number, pindex: number): void {
  const pcp = s.pcp;
  const mem = s.mem;
  const lists = (s.pcpMaxOrder + 1) * 3;
  count = Math.min(count, pcp[base + PCP_COUNT]!);
  pindex--;
  while (count > 0) {
    let list: number;
    do {
      if (++pindex >= lists) pindex = 0;
      list = base + PCP_LISTS + pindex * 2;
    } while (pcp[list]! < 0);
    const order = (pindex / 3) | 0;
    const pages = 1 << order;
    do {
      const idx = pcp[list + 1]!;
      const prev = mem[(idx << PAGE_SHIFT) + P_PREV]!;
      pcp[list + 1] = prev;
      if (prev >= 0) mem[(prev << PAGE_SHIFT) + P_NEXT] = -1;
      else pcp[list] = -1;
      count -= pages;
      pcp[base + PCP_COUNT] -= pages;
      freeOnePage(s, node, idx, order, s.pb[idx >> s.pbOrder]!, false);
    } while (count > 0 && pcp[list]! >= 0);
  }
  s.counters.pcpDrains++;
}

/** Returns every page on `cpu`'s lists (all nodes) to the free lists (`drain_local_pages`). */
export function drainCpu(s: BuddyState, cpu: number): void {
  for (let n = 0; n < s.nodeCount; n++) {
    const base = pcpBase(s, cpu, n);
    const count = s.pcp[base + PCP_COUNT]!;
    if (count > 0) freePcppagesBulk(s, base, n, count, 0);
  }
}

/** Pages on all per-CPU lists of `node` (-1: all nodes). O(cpus x nodes). */
export function pcpPages(s: BuddyState, node: number): number {
  let total = 0;
  for (let c = 0; c < s.cpuCount; c++) {
    for (let n = 0; n < s.nodeCount; n++) if (node < 0 || n === node) total += s.pcp[pcpBase(s, c, n) + PCP_COUNT]!;
  }
  return total;
}

/** Pages on one CPU's lists, all nodes. O(nodes). */
export function pcpCpuPages(s: BuddyState, cpu: number): number {
  let total = 0;
  for (let n = 0; n < s.nodeCount; n++) total += s.pcp[pcpBase(s, cpu, n) + PCP_COUNT]!;
  return total;
}

/** `drain_all_pages`: every CPU's lists back to the free lists. */
export function drainAll(s: BuddyState): void {
  for (let c = 0; c < s.cpuCount; c++) drainCpu(s, c);
}

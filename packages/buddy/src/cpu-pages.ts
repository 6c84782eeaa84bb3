import { allocCore } from "./allocate.js";
import { freeToBuddy } from "./buddy-core.js";
import {
  MT_SHIFT,
  NODE_MASK,
  NODE_SHIFT,
  ORDER_MASK,
  ORDER_SHIFT,
  PAGE_SHIFT,
  PCP_BATCH,
  PCP_COUNT,
  PCP_HIGH,
  PCP_LISTS,
  P_NEXT,
  P_PREV,
  STATE_ALLOCATED,
  STATE_MASK,
  STATE_PCP,
  ZONE_INTS,
  Z_FREE,
  Z_MIN,
  headFlags,
} from "./layout.js";
import { diagnoseFree, orderError, parseAllocOptions, type AllocOptions, type ParsedAlloc } from "./misuse.js";
import { drainCpu, freePcppagesBulk, pcpBase, pcpFree, pcpPages } from "./per-cpu.js";
import type { BuddyState } from "./state.js";

/**
 * One CPU's front to a {@link BuddyAllocator}: allocations and frees of orders 0..3 go through this
 * CPU's per-CPU lists, larger ones straight to the free lists. It has the same `allocPages` /
 * `freePages` face as the allocator, so it fits anything that wants a page source.
 *
 * Costs (4 KiB pages, list warm): order-0 `allocPages` O(1), 4 cache lines (zone, pcp, the page, its
 * list neighbour); `freePages` O(1), 4 lines (the page, the pageblock flags, pcp, the old list head);
 * every `batch` operations one refill or drain of `batch` pages through the free lists.
 *
 * @example
 * ```ts
 * const cpu0 = buddy.cpu(0);
 * const pfn = cpu0.allocPages(0);   // refills cpu 0's list with `batch` pages, returns one
 * cpu0.freePages(pfn, 0);           // back on cpu 0's list, not the free lists
 * cpu0.drain();                     // everything on cpu 0's lists back to the free lists
 * ```
 */
export interface CpuPages {
  /** This CPU's index. */
  readonly cpu: number;
  /** Id of the node this CPU allocates from by default. */
  readonly node: number;
  /** Pages held on this CPU's lists (all nodes). */
  readonly pages: number;
  /** First pfn of 2^order free pages, or -1 when none can be had. Throws on a bad order or options. */
  allocPages(order: number, options?: Omit<AllocOptions, "cpu">): number;
  /** Frees a block this allocator handed out (through any front). Throws on misuse, changing nothing. */
  freePages(pfn: number, order: number): void;
  /** Returns every page on this CPU's lists to the free lists (`drain_local_pages`). */
  drain(): void;
}

/** The implementation of {@link CpuPages}. Internal: obtain one with `BuddyAllocator.cpu(i)`. */
export class CpuFront implements CpuPages {
  readonly cpu: number;
  readonly node: number;
  readonly #s: BuddyState;
  readonly #home: number;
  readonly #base: number;
  readonly #allocFlags0: number;
  readonly #parsed: ParsedAlloc = { mt: 0, node: 0, flags: 0, cpu: -1 };
  // The fast paths' arrays, held directly (the same arrays as the state's; never replaced).
  readonly #mem: Int32Array;
  readonly #pcp: Int32Array;
  readonly #zone: Int32Array;
  readonly #pb: Uint8Array;
  readonly #list0: number;
  readonly #zoneLine: number;
  readonly #pbShift: number;
  readonly #baseP: number;
  readonly #pages: number;
  /** Order-0 fast-path allocations and frees, not yet in the state's counters (see `counters()`). */
  fastAllocs = 0;
  fastFrees = 0;

  constructor(s: BuddyState, cpu: number) {
    this.#s = s;
    this.#mem = s.mem;
    this.#pcp = s.pcp;
    this.#zone = s.zone;
    this.#pb = s.pb;
    this.#pbShift = s.pbOrder;
    this.#baseP = s.base;
    this.#pages = s.pages;
    this.cpu = cpu;
    this.#home = s.cpuHome[cpu]!;
    this.node = s.nodeIds[this.#home]!;
    this.#base = pcpBase(s, cpu, this.#home);
    this.#allocFlags0 = headFlags(this.#home, STATE_ALLOCATED, s.defaultMt, 0);
    this.#list0 = this.#base + PCP_LISTS + s.defaultMt * 2;
    this.#zoneLine = this.#home * ZONE_INTS;
  }

  get pages(): number {
    let total = 0;
    for (let n = 0; n < this.#s.nodeCount; n++) total += this.#s.pcp[pcpBase(this.#s, this.cpu, n) + PCP_COUNT]!;
    return total;
  }

  allocPages(order: number, options?: Omit<AllocOptions, "cpu">): number {
    if (order === 0 && options === undefined) {
      // The order-0 fast path: pop this CPU's list head if the zone is above its min watermark.
      const pcp = this.#pcp;
      const list = this.#list0;
      const head = pcp[list]!;
      const zone = this.#zone;
      const z = this.#zoneLine;
      if (head >= 0 && zone[z + Z_FREE]! > zone[z + Z_MIN]! && !this.#s.faultArmed) {
        const mem = this.#mem;
        const rec = head << PAGE_SHIFT;
        const next = mem[rec + P_NEXT]!;
        pcp[list] = next;
        if (next >= 0) mem[(next << PAGE_SHIFT) + P_PREV] = -1;
        else pcp[list + 1] = -1;
        pcp[this.#base + PCP_COUNT]--;
        mem[rec] = this.#allocFlags0;
        this.fastAllocs++;
        return head + this.#baseP;
      }
    }
    const s = this.#s;
    if ((order & 31) !== order || order > s.maxOrder) throw orderError(s, order);
    if (options === undefined) {
      const idx = allocCore(s, this.cpu, order, s.defaultMt, this.#home, 0);
      return idx < 0 ? -1 : idx + s.base;
    }
    const p = this.#parsed;
    parseAllocOptions(s, options, this.#home, p, false);
    const idx = allocCore(s, this.cpu, order, p.mt, p.node, p.flags);
    return idx < 0 ? -1 : idx + s.base;
  }

  freePages(pfn: number, order: number): void {
    const mem = this.#mem;
    const idx = pfn - this.#baseP;
    if (order === 0 && typeof pfn === "number" && (idx | 0) === idx && idx >= 0 && idx < this.#pages && (mem[idx << PAGE_SHIFT]! & (STATE_MASK | (ORDER_MASK << ORDER_SHIFT))) === STATE_ALLOCATED) {
      // The order-0 fast path: push onto this CPU's list for the page's node and pageblock type.
      const rec = idx << PAGE_SHIFT;
      const f = mem[rec]!;
      const node = (f >>> NODE_SHIFT) & NODE_MASK;
      if (node === this.#home) {
        const pcp = this.#pcp;
        const mt = this.#pb[idx >> this.#pbShift]!;
        const list = this.#base + PCP_LISTS + mt * 2;
        const h = pcp[list]!;
        mem[rec] = (f & (NODE_MASK << NODE_SHIFT)) | (mt << MT_SHIFT) | STATE_PCP;
        mem[rec + P_NEXT] = h;
        mem[rec + P_PREV] = -1;
        if (h >= 0) mem[(h << PAGE_SHIFT) + P_PREV] = idx;
        else pcp[list + 1] = idx;
        pcp[list] = idx;
        this.fastFrees++;
        const base = this.#base;
        if (++pcp[base + PCP_COUNT]! >= pcp[base + PCP_HIGH]!) freePcppagesBulk(this.#s, base, node, pcp[base + PCP_BATCH]!, mt);
        return;
      }
    }
    const s = this.#s;
    if (typeof pfn !== "number" || (idx | 0) !== idx || idx < 0 || idx >= s.pages || (order & 31) !== order) throw diagnoseFree(s, pfn, order);
    const f = mem[idx << PAGE_SHIFT]!;
    if ((f & (STATE_MASK | (ORDER_MASK << ORDER_SHIFT))) !== (STATE_ALLOCATED | (order << ORDER_SHIFT))) throw diagnoseFree(s, pfn, order);
    s.counters.frees++;
    if (order <= s.pcpMaxOrder) pcpFree(s, this.cpu, idx, order);
    else freeToBuddy(s, idx, order);
  }

  drain(): void {
    drainCpu(this.#s, this.cpu);
  }
}

/** Pages on every CPU's lists of node slot `node` (-1: all). */
export function perCpuPages(s: BuddyState, node: number): number {
  return pcpPages(s, node);
}

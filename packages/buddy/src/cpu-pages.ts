import { allocCore, watermarkOk } from "./allocate.js";
import { freeToBuddy } from "./buddy-core.js";
import { MIGRATE_PCPTYPES, MigrateType } from "./constants.js";
import {
  AF_CMA,
  FREE_KEY_MASK,
  MT_MASK,
  MT_SHIFT,
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
  Z_FREE_CMA,
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
 * orders 1..3 the same plus the `free_area` lines the watermark check looks at; every `batch`
 * operations one refill or drain of `batch` pages through the free lists. Requests without options
 * and order-0 frees of the CPU's home node take a fast path of a few typed-array loads and stores;
 * everything else (options, other nodes, an empty list, a watermark, misuse) the full path.
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

/** What the allocator needs of a front beyond {@link CpuPages}. Internal. */
export interface CpuFront extends CpuPages {
  /** Fast-path allocations and frees (orders 0..3), not yet in the state's counters (see `counters()`). */
  readonly fastAllocs: number;
  readonly fastFrees: number;
  /** Zeroes `fastAllocs` and `fastFrees`. */
  resetFastCounters(): void;
  /** Re-reads the state's fault injection; called whenever it is armed or disarmed. */
  syncFault(): void;
}

/**
 * Builds CPU `cpu`'s front. Internal: obtain one with `BuddyAllocator.cpu(i)`.
 *
 * Each front is the one instance of a class of its own, and its methods read nothing from `this`:
 * the allocator's typed arrays (never replaced), this CPU's indices into them and the layout
 * constants are `const`s of this closure, its counters and fault-injection limit `let`s. When a
 * caller's loop inlines `allocPages(0)` / `freePages(pfn, 0)` (a call site that sees this front:
 * the method and its context are known constants), V8 folds all of it to constants: no field
 * loads, map checks or length loads per operation, the same code as a loop over the arrays
 * themselves (an order-0 alloc+free pair about 2x faster than methods reading the arrays from
 * fields of one shared class). Reading nothing from `this` matters: the methods of every front share one feedback
 * vector, so a field read there would turn megamorphic once a process had used five fronts, and
 * every front would then slow down several times over. The price of one class per front: a call
 * site that sees several fronts dispatches on their classes (inlining up to four), and one that
 * sees more than four calls them without inlining.
 *
 * The fast paths (`allocFast`, `freeFast`, one each for orders 0..3: with the orders apart, a
 * process that used orders 1-3 anywhere left V8 too little inlining budget for order 0) are small,
 * and branch to the slow functions (`allocSlow`, `freeSlow`) for everything else (options, orders above 3, an empty
 * list, a failed watermark, fault injection that may fail the order, a page of another node, the
 * batch drain, and every kind of misuse, diagnosed before anything is changed).
 */
export function createCpuFront(s: BuddyState, cpu: number): CpuFront {
  const mem = s.mem;
  const pcp = s.pcp;
  const zone = s.zone;
  const pb = s.pb;
  const pbShift = s.pbOrder;
  const baseP = s.base;
  const pages = s.pages;
  const defaultMt = s.defaultMt;
  const pcpMaxOrder = s.pcpMaxOrder;
  // Everything below is a `const` (the helpers too: a function declaration is a mutable binding,
  // which V8 would not fold, so a call of it would not inline with its context known).
  // The layout constants, as locals of this closure: V8 folds an immutable slot of a known
  // function context to its value, but reloads (and Smi-checks) a module's.
  const pageShift = PAGE_SHIFT;
  const pNext = P_NEXT;
  const pPrev = P_PREV;
  const mtShift = MT_SHIFT;
  const orderShift = ORDER_SHIFT;
  const notMt = ~(MT_MASK << MT_SHIFT);
  const pcpTypes = MIGRATE_PCPTYPES;
  // This CPU.
  const home = s.cpuHome[cpu]!;
  const node = s.nodeIds[home]!;
  const base = pcpBase(s, cpu, home);
  const count = base + PCP_COUNT;
  const high = pcp[base + PCP_HIGH]!;
  /** pcp index of the home node's order-0 list of migratetype 0 (the first of its lists). */
  const lists0 = base + PCP_LISTS;
  const zoneFree = home * ZONE_INTS + Z_FREE;
  const zoneMin = home * ZONE_INTS + Z_MIN;
  const zoneFreeCma = home * ZONE_INTS + Z_FREE_CMA;
  /** Default requests are Movable, so they may count and use free CMA pages (ALLOC_CMA). */
  const cmaUsable = defaultMt === MigrateType.Movable;
  const fastWatermarkFlags = cmaUsable ? AF_CMA : 0;
  /** Flags word of an order-0 page allocated by the fast path (home node, default migratetype). */
  const allocFlags0 = headFlags(home, STATE_ALLOCATED, defaultMt, 0);
  /** State, order and node bits of an allocated order-0 head on the home node (any migratetype). */
  const allocatedKey0 = headFlags(home, STATE_ALLOCATED, 0, 0);
  /** Flags of a page on the home node's order-0 list of migratetype 0. */
  const pcpFlags0 = headFlags(home, STATE_PCP, 0, 0);
  const parsed: ParsedAlloc = { mt: 0, node: 0, flags: 0, cpu: -1 };
  /**
   * Orders below this never fail by fault injection (its `minOrder` while armed, else 32): the
   * fast paths serve only those, so an armed injector sees every request it could fail.
   */
  let faultMinOrder = 32;
  let fastAllocs = 0;
  let fastFrees = 0;

  const syncFault = function syncFault(): void {
    const f = s.fault;
    faultMinOrder = s.faultArmed && f !== null ? f.options.minOrder : 32;
  };

  const allocSlow = function allocSlow(order: number, options: Omit<AllocOptions, "cpu"> | undefined): number {
    if (typeof order !== "number" || (order & 31) !== order || order > s.maxOrder) throw orderError(s, order);
    if (options === undefined) {
      const idx = allocCore(s, cpu, order, defaultMt, home, 0);
      return idx < 0 ? -1 : idx + baseP;
    }
    parseAllocOptions(s, options, home, parsed, false);
    const idx = allocCore(s, cpu, order, parsed.mt, parsed.node, parsed.flags);
    return idx < 0 ? -1 : idx + baseP;
  };

  /**
   * `allocPages(order)` without options, 0 <= order <= 3: pops the head of this CPU's list of that
   * order and the default migratetype when the home node passes the watermark check (order 0: free
   * pages above min; order > 0 also a free block of at least `order`, `__zone_watermark_ok`) and
   * fault injection cannot fail the order; otherwise the full path (which refills an empty list).
   * O(1); order 0 touches 4 lines (pcp, zone, the page, its list neighbour), orders 1-3 also the
   * `free_area` lines the watermark check reads. One function for the four orders keeps the fast
   * paths small enough for V8 to inline all of them into one caller.
   */
  const allocFast = function allocFast(order: number): number {
    const list = lists0 + (order * 3 + defaultMt) * 2;
    const head = pcp[list]!;
    if (head >= 0 && order < faultMinOrder && (order === 0 ? zone[zoneFree]! - (cmaUsable ? 0 : zone[zoneFreeCma]!) > zone[zoneMin]! : watermarkOk(s, home, order, fastWatermarkFlags))) {
      const rec = head << pageShift;
      const next = mem[rec + pNext]!;
      pcp[list] = next;
      if (next >= 0) mem[(next << pageShift) + pPrev] = -1;
      else pcp[list + 1] = -1;
      pcp[count] -= 1 << order;
      mem[rec] = allocFlags0 | (order << orderShift);
      fastAllocs++;
      return head + baseP;
    }
    return allocSlow(order, undefined);
  };

  const freeSlow = function freeSlow(pfn: number, order: number): void {
    const idx = typeof pfn === "number" ? pfn - baseP : -1;
    if ((idx | 0) !== idx || idx < 0 || idx >= pages || typeof order !== "number" || (order & 31) !== order) throw diagnoseFree(s, pfn, order);
    const f = mem[idx << PAGE_SHIFT]!;
    if ((f & FREE_KEY_MASK) !== (STATE_ALLOCATED | (order << ORDER_SHIFT))) throw diagnoseFree(s, pfn, order);
    s.counters.frees++;
    if (order <= pcpMaxOrder) pcpFree(s, cpu, idx, order);
    else freeToBuddy(s, idx, order);
  };

  /** `free_pcppages_bulk` of `batch` pages, starting with list `pindex` (order * 3 + migratetype). */
  const drainBatch = function drainBatch(pindex: number): void {
    freePcppagesBulk(s, base, home, pcp[base + PCP_BATCH]!, pindex);
  };

  /**
   * `freePages(pfn, order)`, 0 <= order <= 3: when `pfn` heads an allocated block of `order` on the
   * home node (one compare of its flags word: state, order and node; such a head is aligned),
   * pushes it on the head of this CPU's list for its order and pageblock migratetype, draining a
   * batch once the CPU holds `high` pages. Anything else, misuse included, takes the full path,
   * which throws before changing anything. O(1); 4 lines: the page, its pageblock flags, pcp, the
   * old list head.
   */
  const freeFast = function freeFast(pfn: number, order: number): void {
    const idx = typeof pfn === "number" ? pfn - baseP : -1; // no arithmetic on a BigInt (a TypeError)
    if ((idx | 0) === idx && idx >= 0 && idx < pages) {
      const rec = idx << pageShift;
      const mt = pb[idx >> pbShift]!;
      // A CMA or isolated pageblock (mt >= 3) takes the full path.
      if ((mem[rec]! & notMt) === (allocatedKey0 | (order << orderShift)) && mt < pcpTypes) {
        // The common case, with the list's index known before the pageblock byte is read (the
        // branch is predicted), which shortens the dependency chain through pcp.
        const pindex = order * 3 + (mt === defaultMt ? defaultMt : mt);
        const list = lists0 + (pindex << 1);
        const h = pcp[list]!;
        mem[rec] = pcpFlags0 | (order << orderShift) | (mt << mtShift);
        mem[rec + pNext] = h;
        mem[rec + pPrev] = -1;
        if (h >= 0) mem[(h << pageShift) + pPrev] = idx;
        else pcp[list + 1] = idx;
        pcp[list] = idx;
        fastFrees++;
        if ((pcp[count] += 1 << order) >= high) drainBatch(pindex);
        return;
      }
    }
    freeSlow(pfn, order);
  };

  class Front implements CpuFront {
    get cpu(): number {
      return cpu;
    }

    get node(): number {
      return node;
    }

    get fastAllocs(): number {
      return fastAllocs;
    }

    get fastFrees(): number {
      return fastFrees;
    }

    resetFastCounters(): void {
      fastAllocs = 0;
      fastFrees = 0;
    }

    syncFault(): void {
      syncFault();
    }

    get pages(): number {
      let total = 0;
      for (let n = 0; n < s.nodeCount; n++) total += pcp[pcpBase(s, cpu, n) + PCP_COUNT]!;
      return total;
    }

    allocPages(order: number, options?: Omit<AllocOptions, "cpu">): number {
      // `(order & 31) === order`: an integer in [0, 31], and a number (not "2"); `typeof` first, as
      // `&` on a BigInt throws a TypeError.
      if (options === undefined && typeof order === "number" && (order & 31) === order && order <= pcpMaxOrder) return allocFast(order);
      return allocSlow(order, options);
    }

    freePages(pfn: number, order: number): void {
      if (typeof order === "number" && (order & 31) === order && order <= pcpMaxOrder) freeFast(pfn, order);
      else freeSlow(pfn, order);
    }

    drain(): void {
      drainCpu(s, cpu);
    }
  }

  syncFault();
  return new Front();
}

/** Pages on every CPU's lists of node slot `node` (-1: all). */
export function perCpuPages(s: BuddyState, node: number): number {
  return pcpPages(s, node);
}

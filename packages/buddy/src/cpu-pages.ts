import { allocCore, watermarkOk } from "./allocate.js";
import { freeToBuddy } from "./buddy-core.js";
import {
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
  fastAllocs: number;
  fastFrees: number;
  /** Re-reads the state's fault injection; called whenever it is armed or disarmed. */
  syncFault(): void;
}

/**
 * Builds the front class of one allocator. Internal: `BuddyAllocator` makes one per allocator and
 * one instance per CPU (`new Front(cpu)`); obtain them with `BuddyAllocator.cpu(i)`.
 *
 * The class's methods close over `const`s: the allocator's typed arrays (never replaced) and the
 * layout constants. When a caller's loop inlines `allocPages(0)` / `freePages(pfn, 0)` (a call site
 * that sees the fronts of one allocator: one class, so the method and its context are known
 * constants), V8 folds those arrays to constants: no field loads, map checks or length loads per
 * operation, the same code as a loop over the arrays themselves. With one class for every
 * allocator, V8 could not know which arrays a receiver holds and reloaded and rechecked each of
 * them on every call (an order-0 alloc+free pair took about twice as long). A front's own indices
 * (its lists, count, home node) are integer fields. The fronts of one allocator share the class, so
 * a loop over several CPUs stays monomorphic; a call site that sees the fronts of more than four
 * allocators becomes megamorphic and calls them without inlining (one class per CPU instead was
 * faster still for one CPU, and 3-6x slower as soon as a call site saw two).
 *
 * The fast paths (`allocPage`, `allocSmall`, `freePage`, `freeSmall`) are
 * small, and branch to the slow methods (`allocSlow`, `freeSlow`) for everything else (options,
 * orders above 3, an empty list, a failed watermark, fault injection that may fail the order, a
 * page of another node, the batch drain, and every kind of misuse, diagnosed before anything is
 * changed). Those methods are ordinary (public at run time, absent from the `CpuPages` type): a
 * `#private` method costs a brand check per call, which made an order-0 pair 25% slower; the
 * front's integer fields are `#private`, which costs nothing.
 */
export function cpuFrontClass(s: BuddyState): new (cpu: number) => CpuFront {
  const mem = s.mem;
  const pcp = s.pcp;
  const zone = s.zone;
  const pb = s.pb;
  const pbShift = s.pbOrder;
  const baseP = s.base;
  const pages = s.pages;
  const defaultMt = s.defaultMt;
  // The layout constants the fast paths use, as locals of this closure: V8 folds an immutable
  // slot of a known function context to its value, but reloads (and Smi-checks) a module's.
  const pageShift = PAGE_SHIFT;
  const pNext = P_NEXT;
  const pPrev = P_PREV;
  const mtShift = MT_SHIFT;
  const notMt = ~(MT_MASK << MT_SHIFT);
  const orderShift = ORDER_SHIFT;
  const pcpMaxOrder = s.pcpMaxOrder;

  class Front implements CpuFront {
    // Every field starts as the type it keeps (a small integer), so V8 keeps it a Smi field: one
    // first set to `undefined` (a bare declaration) would be generalised and checked on every load.
    readonly cpu: number = 0;
    readonly node: number = 0;
    /** Home node slot. */
    readonly #home: number = 0;
    /** Index into pcp of (cpu, home)'s record, and of its page count. */
    readonly #base: number = 0;
    readonly #count: number = 0;
    readonly #high: number = 0;
    /** pcp index of the home node's order-0 lists (migratetype 0), and of the default migratetype's. */
    readonly #lists0: number = 0;
    readonly #list0: number = 0;
    readonly #zoneFree: number = 0;
    readonly #zoneMin: number = 0;
    /** Flags word of an order-0 page allocated by the fast path (home node, default migratetype). */
    readonly #allocFlags0: number = 0;
    /** State, order and node bits of an allocated order-0 head on the home node (any migratetype). */
    readonly #allocatedKey0: number = 0;
    /** Flags of a page on the home node's order-0 list of migratetype 0, and of the default one. */
    readonly #pcpFlags0: number = 0;
    readonly #pcpFlagsDefault: number = 0;
    readonly #parsed: ParsedAlloc = { mt: 0, node: 0, flags: 0, cpu: -1 };
    /**
     * Orders below this never fail by fault injection (its `minOrder` while armed, else 32): the
     * fast paths serve only those, so an armed injector sees every request it could fail.
     */
    #faultMinOrder = 32;
    fastAllocs = 0;
    fastFrees = 0;

    constructor(cpu: number) {
      const home = s.cpuHome[cpu]!;
      const base = pcpBase(s, cpu, home);
      this.cpu = cpu;
      this.node = s.nodeIds[home]!;
      this.#home = home;
      this.#base = base;
      this.#count = base + PCP_COUNT;
      this.#high = pcp[base + PCP_HIGH]!;
      this.#lists0 = base + PCP_LISTS;
      this.#list0 = this.#lists0 + defaultMt * 2;
      this.#zoneFree = home * ZONE_INTS + Z_FREE;
      this.#zoneMin = home * ZONE_INTS + Z_MIN;
      this.#allocFlags0 = headFlags(home, STATE_ALLOCATED, defaultMt, 0);
      this.#allocatedKey0 = headFlags(home, STATE_ALLOCATED, 0, 0);
      this.#pcpFlags0 = headFlags(home, STATE_PCP, 0, 0);
      this.#pcpFlagsDefault = headFlags(home, STATE_PCP, defaultMt, 0);
      this.syncFault();
    }

    syncFault(): void {
      const f = s.fault;
      this.#faultMinOrder = s.faultArmed && f !== null ? f.options.minOrder : 32;
    }

    get pages(): number {
      let total = 0;
      for (let n = 0; n < s.nodeCount; n++) total += pcp[pcpBase(s, this.cpu, n) + PCP_COUNT]!;
      return total;
    }

    allocPages(order: number, options?: Omit<AllocOptions, "cpu">): number {
      if (options === undefined) {
        if (order === 0) return this.allocPage();
        // `(order & 31) === order`: an integer in [0, 31], and a number (not "2").
        if ((order & 31) === order && order <= pcpMaxOrder) return this.allocSmall(order);
      }
      return this.allocSlow(order, options);
    }

    /**
     * `allocPages(0)`: pops the head of this CPU's order-0 list of the default migratetype when the
     * home node is above its min watermark; otherwise the full path (which refills an empty list).
     * O(1); 4 lines: pcp, zone, the page, its list neighbour.
     */
    allocPage(): number {
      const list = this.#list0;
      const head = pcp[list]!;
      if (head >= 0 && zone[this.#zoneFree]! > zone[this.#zoneMin]! && this.#faultMinOrder > 0) {
        const rec = head << pageShift;
        const next = mem[rec + pNext]!;
        pcp[list] = next;
        if (next >= 0) mem[(next << pageShift) + pPrev] = -1;
        else pcp[list + 1] = -1;
        pcp[this.#count]--;
        mem[rec] = this.#allocFlags0;
        this.fastAllocs++;
        return head + baseP;
      }
      return this.allocSlow(0, undefined);
    }

    /**
     * `allocPages(order)` for 1 <= order <= 3 without options: pops this CPU's list of that order
     * and the default migratetype after the kernel's watermark check for `order` (which looks for a
     * free block of at least `order` on the home node); otherwise the full path. O(1) plus the
     * watermark's look at the free_area lines.
     */
    allocSmall(order: number): number {
      const list = this.#lists0 + (order * 3 + defaultMt) * 2;
      const head = pcp[list]!;
      if (head >= 0 && order < this.#faultMinOrder && watermarkOk(s, this.#home, order, 0)) {
        const rec = head << pageShift;
        const next = mem[rec + pNext]!;
        pcp[list] = next;
        if (next >= 0) mem[(next << pageShift) + pPrev] = -1;
        else pcp[list + 1] = -1;
        pcp[this.#count] -= 1 << order;
        mem[rec] = this.#allocFlags0 | (order << orderShift);
        this.fastAllocs++;
        return head + baseP;
      }
      return this.allocSlow(order, undefined);
    }

    freePages(pfn: number, order: number): void {
      if (order === 0) this.freePage(pfn);
      else if ((order & 31) === order && order <= pcpMaxOrder) this.freeSmall(pfn, order);
      else this.freeSlow(pfn, order);
    }

    /**
     * `freePages(pfn, 0)`: when `pfn` heads an allocated order-0 block of the home node (one compare
     * of its flags word), pushes it on the head of this CPU's list for its pageblock's migratetype,
     * draining a batch once the CPU holds `high` pages. Anything else, misuse included, takes the
     * full path, which throws before changing anything. O(1); 4 lines: the page, its pageblock
     * flags, pcp, the old list head.
     */
    freePage(pfn: number): void {
      const idx = pfn - baseP;
      if (typeof pfn === "number" && (idx | 0) === idx && idx >= 0 && idx < pages) {
        const rec = idx << pageShift;
        if ((mem[rec]! & notMt) === this.#allocatedKey0) {
          const mt = pb[idx >> pbShift]!;
          let list: number;
          if (mt === defaultMt) {
            // The common case, with the list's index known before the pageblock byte is read (the
            // branch is predicted), which shortens the dependency chain through pcp.
            list = this.#list0;
            mem[rec] = this.#pcpFlagsDefault;
          } else {
            list = this.#lists0 + (mt << 1);
            mem[rec] = this.#pcpFlags0 | (mt << mtShift);
          }
          const h = pcp[list]!;
          mem[rec + pNext] = h;
          mem[rec + pPrev] = -1;
          if (h >= 0) mem[(h << pageShift) + pPrev] = idx;
          else pcp[list + 1] = idx;
          pcp[list] = idx;
          this.fastFrees++;
          if (++pcp[this.#count]! >= this.#high) this.drainBatch(mt);
          return;
        }
      }
      this.freeSlow(pfn, 0);
    }

    /**
     * `freePages(pfn, order)` for 1 <= order <= 3: the same push as `freePage` onto the list
     * of that order (an allocated head of `order` is aligned to it, so one compare of its flags word
     * checks state, order and node). O(1); 4 lines.
     */
    freeSmall(pfn: number, order: number): void {
      const idx = pfn - baseP;
      if (typeof pfn === "number" && (idx | 0) === idx && idx >= 0 && idx < pages) {
        const rec = idx << pageShift;
        if ((mem[rec]! & notMt) === (this.#allocatedKey0 | (order << orderShift))) {
          const mt = pb[idx >> pbShift]!;
          const pindex = order * 3 + mt;
          const list = this.#lists0 + (pindex << 1);
          const h = pcp[list]!;
          mem[rec] = this.#pcpFlags0 | (order << orderShift) | (mt << mtShift);
          mem[rec + pNext] = h;
          mem[rec + pPrev] = -1;
          if (h >= 0) mem[(h << pageShift) + pPrev] = idx;
          else pcp[list + 1] = idx;
          pcp[list] = idx;
          this.fastFrees++;
          if ((pcp[this.#count] += 1 << order) >= this.#high) this.drainBatch(pindex);
          return;
        }
      }
      this.freeSlow(pfn, order);
    }

    allocSlow(order: number, options: Omit<AllocOptions, "cpu"> | undefined): number {
      if ((order & 31) !== order || order > s.maxOrder) throw orderError(s, order);
      if (options === undefined) {
        const idx = allocCore(s, this.cpu, order, defaultMt, this.#home, 0);
        return idx < 0 ? -1 : idx + baseP;
      }
      const parsed = this.#parsed;
      parseAllocOptions(s, options, this.#home, parsed, false);
      const idx = allocCore(s, this.cpu, order, parsed.mt, parsed.node, parsed.flags);
      return idx < 0 ? -1 : idx + baseP;
    }

    freeSlow(pfn: number, order: number): void {
      const idx = pfn - baseP;
      if (typeof pfn !== "number" || (idx | 0) !== idx || idx < 0 || idx >= pages || (order & 31) !== order) throw diagnoseFree(s, pfn, order);
      const f = mem[idx << PAGE_SHIFT]!;
      if ((f & (STATE_MASK | (ORDER_MASK << ORDER_SHIFT))) !== (STATE_ALLOCATED | (order << ORDER_SHIFT))) throw diagnoseFree(s, pfn, order);
      s.counters.frees++;
      if (order <= s.pcpMaxOrder) pcpFree(s, this.cpu, idx, order);
      else freeToBuddy(s, idx, order);
    }

    /** `free_pcppages_bulk` of `batch` pages, starting with list `pindex` (order * 3 + migratetype). */
    drainBatch(pindex: number): void {
      freePcppagesBulk(s, this.#base, this.#home, pcp[this.#base + PCP_BATCH]!, pindex);
    }

    drain(): void {
      drainCpu(s, this.cpu);
    }
  }

  return Front;
}

/** Pages on every CPU's lists of node slot `node` (-1: all). */
export function perCpuPages(s: BuddyState, node: number): number {
  return pcpPages(s, node);
}

import { ErrorCode, MmkitError, type SharedLock } from "@mmkit/physmem";
import { allocCore, watermarkOk } from "./allocate.js";
import { freeToBuddy } from "./buddy-core.js";
import type { CpuPages } from "./cpu-pages.js";
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
import { drainCpu, freePcppagesBulk, pcpBase, pcpCpuPages, pcpFree } from "./per-cpu.js";
import { COUNTER_SLOT, C_FAST_ALLOCS, C_FAST_FREES, flushCounters } from "./shared-counters.js";
import type { BuddyState } from "./state.js";

/** A shared CPU front plus what its {@link SharedBuddy} needs to retire it. Internal. */
export interface SharedCpuFront extends CpuPages {
  /** Makes every later call throw `ERR_DETACHED`. */
  kill(): void;
}

/** The error every call on a detached allocator or front throws. */
export function detachedError(what: string): MmkitError {
  return new MmkitError(ErrorCode.Detached, `${what} was detached from the shared allocator; attach again to use it`);
}

/**
 * CPU `cpu`'s front to a shared buddy allocator, for the one worker that claimed the CPU: the
 * kernel's pcp discipline across threads. The CPU's own lists are touched by this worker alone, so
 * an order 0..3 allocation that finds its list non-empty, and a free of a block of this CPU's home
 * node, take no lock at all; everything that touches the shared free lists (a refill, a drain once
 * the CPU holds `high` pages, larger orders, options, misuse diagnosis) runs under the zone lock.
 * A block freed here goes to *this* CPU's list whoever allocated it, so pages migrate between CPUs
 * and `high`/`batch` bound what each one holds.
 *
 * Why the lockless paths are safe: a block changes to or from "free" (on the free lists) only
 * under the zone lock, and the lock holder writes only free blocks' records and the free lists;
 * this worker writes only its own lists and the records of blocks on them or in its hands. Merging
 * reads a neighbour's flags, which say "per-CPU" or "allocated" whichever this worker is writing.
 * The watermark test reads the zone's free count without the lock, as the kernel does.
 *
 * Costs: lockless alloc or free O(1), the same lines as `BuddyAllocator.cpu(i)` plus this CPU's
 * counter line; a locked operation adds the lock word's line, one compare-exchange and one atomic
 * subtract (uncontended), and copying 13 counters into shared memory.
 */
export function createSharedCpuFront(s: BuddyState, cpu: number, lock: SharedLock, counters: Float64Array): SharedCpuFront {
  const mem = s.mem;
  const pcp = s.pcp;
  const zone = s.zone;
  const pb = s.pb;
  const pbShift = s.pbOrder;
  const baseP = s.base;
  const pages = s.pages;
  const defaultMt = s.defaultMt;
  const pcpMaxOrder = s.pcpMaxOrder;
  const notMt = ~(MT_MASK << MT_SHIFT);
  const home = s.cpuHome[cpu]!;
  const node = s.nodeIds[home]!;
  const base = pcpBase(s, cpu, home);
  const count = base + PCP_COUNT;
  const lists0 = base + PCP_LISTS;
  const zoneFree = home * ZONE_INTS + Z_FREE;
  const zoneMin = home * ZONE_INTS + Z_MIN;
  const allocFlags0 = headFlags(home, STATE_ALLOCATED, defaultMt, 0);
  const allocatedKey0 = headFlags(home, STATE_ALLOCATED, 0, 0);
  const pcpFlags0 = headFlags(home, STATE_PCP, 0, 0);
  const slot = cpu * COUNTER_SLOT;
  const parsed: ParsedAlloc = { mt: 0, node: 0, flags: 0, cpu: -1 };
  let live = true;

  const locked = function locked<T>(fn: () => T): T {
    lock.lock();
    try {
      return fn();
    } finally {
      flushCounters(s, counters, cpu);
      lock.unlock();
    }
  };

  const allocSlow = function allocSlow(order: number, options: Omit<AllocOptions, "cpu"> | undefined): number {
    if (typeof order !== "number" || (order & 31) !== order || order > s.maxOrder) throw orderError(s, order);
    if (options !== undefined) parseAllocOptions(s, options, home, parsed, false);
    const idx = locked(() => (options === undefined ? allocCore(s, cpu, order, defaultMt, home, 0) : allocCore(s, cpu, order, parsed.mt, parsed.node, parsed.flags)));
    return idx < 0 ? -1 : idx + baseP;
  };

  const freeSlow = function freeSlow(pfn: number, order: number): void {
    locked(() => {
      // Diagnosed under the lock: the block's flags may be changing only under it.
      const idx = typeof pfn === "number" ? pfn - baseP : -1;
      if ((idx | 0) !== idx || idx < 0 || idx >= pages || typeof order !== "number" || (order & 31) !== order) throw diagnoseFree(s, pfn, order);
      const f = mem[idx << PAGE_SHIFT]!;
      if ((f & (STATE_MASK | (ORDER_MASK << ORDER_SHIFT))) !== (STATE_ALLOCATED | (order << ORDER_SHIFT))) throw diagnoseFree(s, pfn, order);
      s.counters.frees++;
      if (order <= pcpMaxOrder) pcpFree(s, cpu, idx, order);
      else freeToBuddy(s, idx, order);
    });
  };

  class SharedFront implements SharedCpuFront {
    get cpu(): number {
      return cpu;
    }

    get node(): number {
      return node;
    }

    get pages(): number {
      if (!live) throw detachedError(`cpu ${cpu}'s front`);
      return pcpCpuPages(s, cpu);
    }

    allocPages(order: number, options?: Omit<AllocOptions, "cpu">): number {
      if (!live) throw detachedError(`cpu ${cpu}'s front`);
      if (options === undefined && typeof order === "number" && (order & 31) === order && order <= pcpMaxOrder) {
        const list = lists0 + (order * 3 + defaultMt) * 2;
        const head = pcp[list]!;
        if (head >= 0 && (order === 0 ? zone[zoneFree]! > zone[zoneMin]! : watermarkOk(s, home, order, 0))) {
          const rec = head << PAGE_SHIFT;
          const next = mem[rec + P_NEXT]!;
          pcp[list] = next;
          if (next >= 0) mem[(next << PAGE_SHIFT) + P_PREV] = -1;
          else pcp[list + 1] = -1;
          pcp[count] -= 1 << order;
          mem[rec] = allocFlags0 | (order << ORDER_SHIFT);
          counters[slot + C_FAST_ALLOCS]++;
          return head + baseP;
        }
      }
      return allocSlow(order, options);
    }

    freePages(pfn: number, order: number): void {
      if (!live) throw detachedError(`cpu ${cpu}'s front`);
      if (typeof order === "number" && (order & 31) === order && order <= pcpMaxOrder) {
        const idx = typeof pfn === "number" ? pfn - baseP : -1;
        if ((idx | 0) === idx && idx >= 0 && idx < pages) {
          const rec = idx << PAGE_SHIFT;
          if ((mem[rec]! & notMt) === (allocatedKey0 | (order << ORDER_SHIFT))) {
            const mt = pb[idx >> pbShift]!;
            const pindex = order * 3 + mt;
            const list = lists0 + (pindex << 1);
            const h = pcp[list]!;
            mem[rec] = pcpFlags0 | (order << ORDER_SHIFT) | (mt << MT_SHIFT);
            mem[rec + P_NEXT] = h;
            mem[rec + P_PREV] = -1;
            if (h >= 0) mem[(h << PAGE_SHIFT) + P_PREV] = idx;
            else pcp[list + 1] = idx;
            pcp[list] = idx;
            counters[slot + C_FAST_FREES]++;
            if ((pcp[count] += 1 << order) >= pcp[base + PCP_HIGH]!) locked(() => freePcppagesBulk(s, base, home, pcp[base + PCP_BATCH]!, pindex));
            return;
          }
        }
      }
      freeSlow(pfn, order);
    }

    drain(): void {
      if (!live) throw detachedError(`cpu ${cpu}'s front`);
      locked(() => drainCpu(s, cpu));
    }

    kill(): void {
      live = false;
    }
  }

  return new SharedFront();
}

import { ErrorCode, MmkitError, describeValue, type MemoryFailure } from "@mmkit/physmem";
import { MemdescType, encodeMemdesc, memdescType, type DescriptorTable } from "@mmkit/memdesc-lookup";

/** The two calls every page allocator of a system has (buddy, a buddy CPU front, POTAD's page face). */
export interface PageAllocator {
  allocPages(order: number): number;
  freePages(pfn: number, order: number): void;
}

/** Most blocks one allocation may draw and quarantine because they hold a poisoned page, before it gives up. */
const MAX_POISONED_DRAWS = 64;

/**
 * A system's one page-allocator face. Every allocation is recorded in the system's descriptor
 * table under a memdesc of the caller's type (so `physToDesc` finds its owner) and erased when it is
 * freed. Poisoned pages never go out again: a block that holds one is kept back (quarantined, its
 * pages re-tagged `HwPoison` in the table) when the allocator hands it out or when its owner frees it.
 *
 * Cost over the allocator: one `table.set` per allocation and one `table.clear` per free (one
 * maple-tree store/erase, or a write per page of a memmap), plus a poisoned-page check that is a
 * single compare while no page of the machine has failed.
 *
 * @example
 * ```ts
 * const face = new SystemPages(buddy.cpu(0), table, machine.failures);
 * const pfn = face.allocPages(0, MemdescType.Anon);
 * table.get(pfn); // the anon memdesc
 * face.freePages(pfn, 0);
 * ```
 */
export class SystemPages implements PageAllocator {
  readonly allocator: PageAllocator;
  readonly table: DescriptorTable;
  readonly failures: MemoryFailure;
  #handle = 0;
  /** Pages held back because they (or a page of their block) failed. */
  quarantinedPages = 0;
  /** Blocks held back: first pfn and order, in the order they were quarantined. */
  readonly quarantine: { pfn: number; order: number }[] = [];
  /** Allocations and frees through this face. */
  allocs = 0;
  frees = 0;

  /** The allocator's per-CPU fronts (a buddy's `cpu(i)`), when it has them; empty otherwise. */
  readonly fronts: readonly PageAllocator[];

  constructor(allocator: PageAllocator, table: DescriptorTable, failures: MemoryFailure, fronts: readonly PageAllocator[] = []) {
    this.allocator = allocator;
    this.table = table;
    this.failures = failures;
    this.fronts = fronts;
  }

  /** 2^order pages recorded under a memdesc of `type` (default anon), or -1. */
  allocPages(order: number, type: number = MemdescType.Anon): number {
    return this.#allocFrom(this.allocator, order, type);
  }

  #allocFrom(allocator: PageAllocator, order: number, type: number): number {
    let pfn = allocator.allocPages(order);
    if (pfn >= 0 && this.failures.count > 0) {
      for (let draws = 0; pfn >= 0 && this.#holdsPoison(pfn, order); draws++) {
        this.#quarantine(pfn, order);
        pfn = draws < MAX_POISONED_DRAWS ? allocator.allocPages(order) : -1;
      }
    }
    if (pfn < 0) return -1;
    this.#handle += 16;
    this.table.set(pfn, pfn + 2 ** order - 1, encodeMemdesc(type, this.#handle));
    this.allocs++;
    return pfn;
  }

  /** Gives back 2^order pages at `pfn`; a block holding a poisoned page is quarantined instead. */
  freePages(pfn: number, order: number): void {
    this.#freeTo(this.allocator, pfn, order);
  }

  #freeTo(allocator: PageAllocator, pfn: number, order: number): void {
    const memdesc = this.table.get(pfn);
    if (memdesc < 0) throw new MmkitError(ErrorCode.NotAllocated, `pfn ${describeValue(pfn)} was not allocated through this system`);
    if (memdescType(memdesc) === MemdescType.HwPoison) throw new MmkitError(ErrorCode.DoubleFree, `pfn ${describeValue(pfn)} is quarantined after a memory failure (freed already)`);
    this.frees++;
    if (this.failures.count > 0 && this.#holdsPoison(pfn, order)) {
      this.#quarantine(pfn, order);
      return;
    }
    this.table.clear(pfn);
    allocator.freePages(pfn, order);
  }

  /**
   * A page source whose allocations are tagged `type` (what a cache takes its pages from).
   *
   * @example
   * ```ts
   * const cache = new FragmentCache(face.source(MemdescType.NetPool));
   * ```
   */
  source(type: number): PageAllocator {
    return { allocPages: (order) => this.allocPages(order, type), freePages: (pfn, order) => this.freePages(pfn, order) };
  }

  /**
   * One page source per CPU front (empty when the allocator has none), each tagging its
   * allocations `type`: what a trace replay drives so each event goes through its CPU's lists.
   *
   * @example
   * ```ts
   * const [cpu0, cpu1] = face.cpuSources(MemdescType.Anon);
   * cpu1.freePages(cpu0.allocPages(0), 0); // onto CPU 1's list
   * ```
   */
  cpuSources(type: number): PageAllocator[] {
    return this.fronts.map((front) => ({ allocPages: (order) => this.#allocFrom(front, order, type), freePages: (pfn, order) => this.#freeTo(front, pfn, order) }));
  }

  #holdsPoison(pfn: number, order: number): boolean {
    const end = pfn + 2 ** order;
    for (let p = pfn; p < end; p++) if (this.failures.isPoisoned(p)) return true;
    return false;
  }

  #quarantine(pfn: number, order: number): void {
    this.#handle += 16;
    this.table.set(pfn, pfn + 2 ** order - 1, encodeMemdesc(MemdescType.HwPoison, this.#handle));
    this.quarantine.push({ pfn, order });
    this.quarantinedPages += 2 ** order;
  }
}

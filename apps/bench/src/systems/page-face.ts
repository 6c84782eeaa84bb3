import { ErrorCode, MmkitError, describeValue, type MemoryFailure } from "@mmkit/physmem";
import { MEMDESC_ALIGN, MemdescType, encodeMemdesc, type DescriptorTable, type PfnRange } from "@mmkit/memdesc-lookup";

/** The two calls every page allocator of a system has (buddy, a buddy CPU front, POTAD's page face). */
export interface PageAllocator {
  allocPages(order: number): number;
  freePages(pfn: number, order: number): void;
}

/**
 * How a system serves contiguous (CMA-style) ranges, in pages: POTAD carves a range out of
 * adjacent blocks; a buddy system serves one naturally aligned block. {@link SystemPages} wraps it
 * so a range obeys the same poison rule as a block.
 */
export interface RangeAllocator {
  /** First pfn of `pages` contiguous pages aligned to `alignPages` pages, or -1 when none are free. */
  allocRange(pages: number, alignPages: number): number;
  /** Gives back the range `allocRange(pages, ...)` returned at `pfn`; throws (changing nothing) on anything else. */
  freeRange(pfn: number, pages: number): void;
}

/**
 * Whether pages of memdesc `type` may move (the kernel's `GFP_MOVABLE` users: anon and file
 * folios, movable driver memory). Everything else (slab, page tables, network pools) is pinned
 * where it lands, so a buddy system allocates it from Unmovable pageblocks. O(1).
 *
 * @example
 * ```ts
 * isMovableType(MemdescType.Anon);      // true
 * isMovableType(MemdescType.PageTable); // false
 * ```
 */
export function isMovableType(type: number): boolean {
  return type === MemdescType.Anon || type === MemdescType.File || type === MemdescType.Movable;
}

/**
 * Where a system draws pages its owners can never move (see {@link isMovableType}): the same
 * allocator asked for the Unmovable migratetype (`GFP_KERNEL` rather than `GFP_HIGHUSER_MOVABLE`),
 * and the same for each CPU front. Without it (POTAD, a custom allocator) every type draws alike.
 */
export interface UnmovableSources {
  /** `allocator`, asked for Unmovable pages. */
  allocator: PageAllocator;
  /** Each of `fronts`, asked for Unmovable pages (same order). */
  fronts: readonly PageAllocator[];
}

/**
 * Where a system's memdescs come from when they are real objects rather than counted handles
 * (seed 001: a folio's memdesc from `kmem_cache_alloc(folio_cache)`). The face asks for one before
 * it takes the pages of an allocation of a covered type, and gives it back after the pages.
 */
export interface MemdescSource {
  /** Whether memdescs of `type` come from here (a type not covered gets a counted handle). */
  covers(type: number): boolean;
  /** A memdesc for an allocation of `type`: its address (16-byte aligned), or -1 when there is no memory for one. */
  alloc(type: number): number;
  /** Gives back what `alloc(type)` returned. */
  free(type: number, address: number): void;
}

/** Most blocks one allocation may draw and quarantine because they hold a poisoned page, before it gives up. */
const MAX_POISONED_DRAWS = 64;

/** One quarantined allocation: its first pfn and its length in pages. */
export interface QuarantinedRange {
  pfn: number;
  pages: number;
}

/**
 * A system's one page-allocator face: every page a system hands out or takes back — blocks of any
 * order, contiguous ranges, the caches' refills and drains, anon faults behind direct reclaim —
 * passes here. Every allocation is recorded in the system's descriptor table under a memdesc of the
 * caller's type (so `physToDesc` finds its owner) and erased when it is freed.
 *
 * The poison rule, one for every path: a poisoned page never goes out again. An allocation drawn
 * from the allocator that holds a poisoned page (it failed while free) is kept back and another is
 * drawn; an allocation freed while it holds one (it failed while in use) is kept back instead of
 * going to the allocator. Kept back means quarantined: the whole allocation (the kernel would split
 * it; neither allocator can free part of one) is re-tagged `HwPoison` in the table, counted in
 * {@link quarantinedPages} and listed in {@link quarantine}, and never freed again.
 *
 * Cost over the allocator: one `table.set` per allocation and one `table.clear` per free (one
 * maple-tree store/erase, or a write per page of a memmap; the clear comes first and gives the
 * range, so a free the allocator refuses is put back with one `set`), plus a poisoned-page check
 * that is a single compare while no page of the machine has failed; after a failure, a lookup per
 * page of the allocation per free.
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
  readonly ranges: RangeAllocator;
  readonly table: DescriptorTable;
  readonly failures: MemoryFailure;
  #handle = 0;
  readonly #range: PfnRange = { firstPfn: 0, lastPfn: 0 };
  /** Pages held back because they (or a page of their allocation) failed. */
  quarantinedPages = 0;
  /** Allocations held back, in the order they were quarantined. */
  readonly quarantine: QuarantinedRange[] = [];
  /** Allocations and frees through this face (blocks and ranges). */
  allocs = 0;
  frees = 0;
  /**
   * Fault injection (the kernel's `fail_page_alloc`): when set, every allocation asks it first, and
   * one it answers true for fails (-1) without reaching the allocator. Null (the default) costs one compare.
   */
  failAllocation: ((pages: number) => boolean) | null = null;
  /**
   * Where memdescs come from (null, the default: each allocation gets a counted handle and no
   * memory). With a source, an allocation of a type it covers first takes a memdesc from it and
   * fails (-1) without one; the memdesc goes back when the allocation is freed or quarantined.
   */
  memdescs: MemdescSource | null = null;
  /** Pages of live allocations (recorded, not quarantined). */
  livePages = 0;

  /**
   * `ranges` defaults to one naturally aligned block of `allocator` per range (a power-of-two
   * number of pages, served as that order; anything else gets -1).
   */
  /** The allocator's per-CPU fronts (a buddy's `cpu(i)`), when it has them; empty otherwise. */
  readonly fronts: readonly PageAllocator[];
  /** Where pages of a type that never moves come from (the allocator itself when it has no migratetypes). */
  readonly unmovable: UnmovableSources;

  constructor(allocator: PageAllocator, table: DescriptorTable, failures: MemoryFailure, ranges?: RangeAllocator, fronts: readonly PageAllocator[] = [], unmovable?: UnmovableSources) {
    this.allocator = allocator;
    this.table = table;
    this.failures = failures;
    this.ranges = ranges ?? blockRanges(allocator);
    this.fronts = fronts;
    this.unmovable = unmovable ?? { allocator, fronts };
  }

  /** 2^order pages recorded under a memdesc of `type` (default anon), or -1; a type that never moves comes from {@link unmovable}. */
  allocPages(order: number, type: number = MemdescType.Anon): number {
    return this.#allocFrom(type === MemdescType.Anon || isMovableType(type) ? this.allocator : this.unmovable.allocator, order, type);
  }

  #allocFrom(allocator: PageAllocator, order: number, type: number): number {
    if (this.failAllocation !== null && this.failAllocation(2 ** order)) return -1;
    // folio_alloc: the memdesc first, then the pages (given back when there are none).
    const desc = this.#takeMemdesc(type);
    if (desc === NO_MEMDESC) return -1;
    let pfn = allocator.allocPages(order);
    if (pfn >= 0 && this.failures.count > 0) {
      const pages = 2 ** order;
      for (let draws = 0; pfn >= 0 && this.#holdsPoison(pfn, pages); draws++) {
        this.#quarantine(pfn, pages);
        pfn = draws < MAX_POISONED_DRAWS ? allocator.allocPages(order) : -1;
      }
    }
    if (pfn < 0) {
      this.#dropMemdesc(type, desc);
      return -1;
    }
    this.#record(pfn, 2 ** order, type, desc);
    return pfn;
  }

  /** Gives back 2^order pages at `pfn`; an allocation holding a poisoned page is quarantined instead. */
  freePages(pfn: number, order: number): void {
    this.#freeTo(this.allocator, pfn, order);
  }

  #freeTo(allocator: PageAllocator, pfn: number, order: number): void {
    const r = this.#range;
    const memdesc = this.#takeLive(pfn, r);
    if (this.failures.count > 0 && this.#keptBack(pfn, 2 ** order, "order", order, memdesc)) {
      this.#freeMemdesc(memdesc);
      return;
    }
    // The table forgot the allocation first (one descent, not a lookup and then an erase); a free
    // the allocator refuses (it throws, changing nothing) puts the entry back.
    try {
      allocator.freePages(pfn, order);
    } catch (error) {
      this.table.set(r.firstPfn, r.lastPfn, memdesc);
      throw error;
    }
    this.frees++;
    this.livePages -= 2 ** order;
    this.#freeMemdesc(memdesc);
  }

  /**
   * `pages` contiguous pages aligned to `alignPages` pages (CMA-style), recorded under a memdesc of
   * `type` (default movable), or -1. A range holding a poisoned page is quarantined and another drawn.
   *
   * @example
   * ```ts
   * const pfn = face.allocRange(16, 16, MemdescType.Movable); // 64 KiB at 64 KiB
   * face.freeRange(pfn, 16);
   * ```
   */
  allocRange(pages: number, alignPages: number, type: number = MemdescType.Movable): number {
    if (this.failAllocation !== null && this.failAllocation(pages)) return -1;
    const desc = this.#takeMemdesc(type);
    if (desc === NO_MEMDESC) return -1;
    let pfn = this.ranges.allocRange(pages, alignPages);
    if (pfn >= 0 && this.failures.count > 0) {
      for (let draws = 0; pfn >= 0 && this.#holdsPoison(pfn, pages); draws++) {
        this.#quarantine(pfn, pages);
        pfn = draws < MAX_POISONED_DRAWS ? this.ranges.allocRange(pages, alignPages) : -1;
      }
    }
    if (pfn < 0) {
      this.#dropMemdesc(type, desc);
      return -1;
    }
    this.#record(pfn, pages, type, desc);
    return pfn;
  }

  /** Gives back the `pages`-page range at `pfn`; a range holding a poisoned page is quarantined instead. */
  freeRange(pfn: number, pages: number): void {
    const r = this.#range;
    const memdesc = this.#takeLive(pfn, r);
    if (this.failures.count > 0 && this.#keptBack(pfn, pages, "pages", pages, memdesc)) {
      this.#freeMemdesc(memdesc);
      return;
    }
    try {
      this.ranges.freeRange(pfn, pages);
    } catch (error) {
      this.table.set(r.firstPfn, r.lastPfn, memdesc);
      throw error;
    }
    this.frees++;
    this.livePages -= pages;
    this.#freeMemdesc(memdesc);
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
    const from = isMovableType(type) ? this.fronts : this.unmovable.fronts;
    return from.map((front, i) => ({ allocPages: (order) => this.#allocFrom(front, order, type), freePages: (pfn, order) => this.#freeTo(this.fronts[i]!, pfn, order) }));
  }

  /** A memdesc address from the source, -1 when the type gets a counted handle, or {@link NO_MEMDESC}. */
  #takeMemdesc(type: number): number {
    const source = this.memdescs;
    if (source === null || !source.covers(type)) return -1;
    const address = source.alloc(type);
    return address < 0 ? NO_MEMDESC : address;
  }

  #dropMemdesc(type: number, desc: number): void {
    if (desc >= 0) this.memdescs!.free(type, desc);
  }

  /** Gives back the memdesc behind a table entry, when it came from the source. */
  #freeMemdesc(memdesc: number): void {
    const source = this.memdescs;
    if (source === null) return;
    // A live entry of this face's own table: encodeMemdesc checked it when it was recorded, so its
    // type and handle are plain arithmetic (memdescType / memdescHandle would check it again).
    const type = typeTag(memdesc);
    if (source.covers(type)) source.free(type, memdesc - type);
  }

  /** Records the allocation under `desc` (a memdesc's address), or under a counted handle when `desc` is -1. */
  #record(pfn: number, pages: number, type: number, desc: number): void {
    let handle = desc;
    if (handle < 0) {
      this.#handle += 16;
      handle = this.#handle;
    }
    this.table.set(pfn, pfn + pages - 1, encodeMemdesc(type, handle));
    this.allocs++;
    this.livePages += pages;
  }

  /**
   * Takes the live (not quarantined) allocation of this face covering `pfn` out of the table, its
   * range into `r`; its memdesc. Throws, the table as it was, when there is none.
   */
  #takeLive(pfn: number, r: PfnRange): number {
    const memdesc = this.table.clear(pfn, r);
    if (memdesc < 0) throw new MmkitError(ErrorCode.NotAllocated, `pfn ${describeValue(pfn)} was not allocated through this system`);
    if (typeTag(memdesc) === MemdescType.HwPoison) {
      this.table.set(r.firstPfn, r.lastPfn, memdesc);
      throw new MmkitError(ErrorCode.DoubleFree, `pfn ${describeValue(pfn)} is quarantined after a memory failure (freed already)`);
    }
    return memdesc;
  }

  /**
   * The free half of the poison rule, for the allocation {@link #takeLive} just took out of the
   * table (its range in {@link #range}): when it holds a poisoned page, quarantine it and return
   * true. The allocator never sees a quarantined free, so its checks are done here: `pfn` must start
   * an allocation of exactly `pages` pages (`what` = `value` names the argument); a refusal puts the
   * entry back.
   */
  #keptBack(pfn: number, pages: number, what: string, value: number, memdesc: number): boolean {
    const r = this.#range;
    if (r.firstPfn !== pfn) {
      this.table.set(r.firstPfn, r.lastPfn, memdesc);
      throw new MmkitError(ErrorCode.NotAllocated, `pfn ${describeValue(pfn)} is inside the allocation at pfn ${r.firstPfn}, not its start`);
    }
    if (r.lastPfn - r.firstPfn + 1 !== pages) {
      this.table.set(r.firstPfn, r.lastPfn, memdesc);
      throw new MmkitError(ErrorCode.WrongSize, `pfn ${pfn} starts an allocation of ${r.lastPfn - r.firstPfn + 1} pages, freed with ${what} ${describeValue(value)}`);
    }
    if (!this.#holdsPoison(pfn, pages)) return false;
    this.#quarantine(pfn, pages);
    this.frees++;
    this.livePages -= pages;
    return true;
  }

  #holdsPoison(pfn: number, pages: number): boolean {
    const end = pfn + pages;
    for (let p = pfn; p < end; p++) if (this.failures.isPoisoned(p)) return true;
    return false;
  }

  #quarantine(pfn: number, pages: number): void {
    this.#handle += 16;
    this.table.set(pfn, pfn + pages - 1, encodeMemdesc(MemdescType.HwPoison, this.#handle));
    this.quarantine.push({ pfn, pages });
    this.quarantinedPages += pages;
  }
}

/** 1 / MEMDESC_ALIGN, exact (a power of two). */
const PER_ALIGN = 1 / MEMDESC_ALIGN;

/**
 * The type tag (low 4 bits) of a memdesc the face recorded (a non-negative integer below 2^53).
 * Not `memdesc % 16`: a table hands its values back as doubles, and `%` on a double is a call to
 * `fmod` in V8 (about 10 ns here, against 1-4 ns for this multiply, floor and subtract, all exact).
 */
function typeTag(memdesc: number): number {
  return memdesc - Math.floor(memdesc * PER_ALIGN) * MEMDESC_ALIGN;
}

/** What `#takeMemdesc` says when the source has no memory for a memdesc. */
const NO_MEMDESC = -2;

/** Ranges served as single blocks of `allocator`: a power-of-two page count at its own order. */
function blockRanges(allocator: PageAllocator): RangeAllocator {
  return {
    allocRange: (pages) => {
      const order = Math.log2(pages);
      return Number.isInteger(order) ? allocator.allocPages(order) : -1;
    },
    freeRange: (pfn, pages) => allocator.freePages(pfn, Math.log2(pages)),
  };
}

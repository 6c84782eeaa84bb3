import { MetadataArena, requireArrayFactory, type ArrayFactory } from "./arena.js";
import { ErrorCode, MmkitError, describeValue } from "./errors.js";
import { requireMemoryMap, type MemoryMap } from "./memory-map.js";
import { requireInteger } from "./validate.js";

/**
 * Protection bits of a direct-map entry. `Default` is the kernel's PAGE_KERNEL (read-write,
 * non-executable for data); the others are what `set_memory_ro`, `set_memory_x`/`nx` and
 * `set_direct_map_invalid_noflush` change.
 */
export const Protection = {
  Default: 0,
  ReadOnly: 1,
  Executable: 2,
  Invalid: 4,
} as const;

/** The largest leaf the initial mapping may use. */
export type LeafLevel = "1G" | "2M" | "4K";

/**
 * Options for {@link DirectMap}.
 *
 * @example
 * ```ts
 * const dm = new DirectMap(MemoryMap.uniform(4 * GiB), { largestLeaf: "2M", collapse: true });
 * dm.setReadOnly(5);   // splits one 2 MiB leaf
 * dm.setDefault(5);    // and folds it back: counters().collapses2M is 1
 * ```
 */
export interface DirectMapOptions {
  /** Where page-table pages come from, so their bytes are counted (default: a private arena). */
  arena?: ArrayFactory;
  /** Largest leaf of the initial mapping (default "1G", as x86-64 with gbpages). */
  largestLeaf?: LeafLevel;
  /** Collapse a table back into a large leaf as soon as all its entries agree again (default false). */
  collapse?: boolean;
}

/**
 * The counters `/proc/meminfo` and `/proc/vmstat` print for the direct map.
 *
 * @example
 * ```ts
 * new DirectMap(MemoryMap.uniform(4 * GiB)).counters();
 * // => { directMap4k: 0, directMap2M: 0, directMap1G: 4294967296, level2Splits: 0, level3Splits: 0,
 * //      collapses2M: 0, collapses1G: 0, pageTableBytes: 0 }
 * ```
 */
export interface DirectMapCounters {
  /** Bytes mapped by 4 KiB (page-size) leaves: meminfo DirectMap4k. */
  directMap4k: number;
  /** Bytes mapped by 2 MiB leaves: meminfo DirectMap2M. */
  directMap2M: number;
  /** Bytes mapped by 1 GiB leaves: meminfo DirectMap1G. */
  directMap1G: number;
  /** 2 MiB leaves split into pages: vmstat direct_map_level2_splits. */
  level2Splits: number;
  /** 1 GiB leaves split into 2 MiB leaves: vmstat direct_map_level3_splits. */
  level3Splits: number;
  /** Page tables folded back into a 2 MiB leaf. */
  collapses2M: number;
  /** 2 MiB tables folded back into a 1 GiB leaf. */
  collapses1G: number;
  /** Bytes of page-table pages (PMD and PTE tables) the mapping uses now. */
  pageTableBytes: number;
}

/** Entries per table, as on x86-64. */
const ENTRIES = 512;
/** Int32 slots per table: each entry is 8 bytes (two slots; the high one is unused). */
const TABLE_SLOTS = ENTRIES * 2;
const LEVEL_2M_PAGES = ENTRIES;
const LEVEL_1G_PAGES = ENTRIES * ENTRIES;

// Entry encoding: 0 = not mapped (a hole); v > 0 = leaf with protection v - 1;
// v < 0 = pointer to table number -v - 1.

/**
 * The kernel's linear mapping of all RAM, modelled as x86-64 page tables: initially the largest
 * aligned leaves (1 GiB, else 2 MiB, else a page); changing the protection of part of a leaf splits
 * it, as `set_memory_ro()` or `set_direct_map_invalid_noflush()` do, and the counters follow
 * `/proc/meminfo` (DirectMap4k/2M/1G) and `/proc/vmstat` (direct_map_level2/3_splits).
 *
 * Page tables are arena arrays (a 4 KiB table of 512 8-byte entries each), so their bytes are
 * counted and a {@link ProbingArena} counts the cache lines a change touches. Only split regions
 * have tables: a 1.5 TiB map of 1 GiB leaves costs 12 KiB.
 *
 * Cost: O(pages changed) for a protection change inside split tables, O(1) per leaf that is changed
 * whole, plus 512 entry writes per split.
 *
 * @example
 * ```ts
 * const map = MemoryMap.uniform(4 << 30);         // 4 GiB: four 1 GiB leaves
 * const dm = new DirectMap(map);
 * dm.setProtection(1000, 1, Protection.ReadOnly); // splits 1G -> 2M, then 2M -> 4K
 * dm.counters().level3Splits;                     // 1
 * dm.counters().level2Splits;                     // 1
 * dm.counters().directMap4k;                      // 2097152 (one 2 MiB region in pages)
 * ```
 */
export class DirectMap {
  /** The memory map the direct map covers. */
  readonly map: MemoryMap;
  /** Whether a table is collapsed back into a large leaf as soon as all its entries agree again (option `collapse`). */
  readonly autoCollapse: boolean;
  /** The largest leaf of the initial mapping (`"1G"`, `"2M"` or `"4K"`). */
  readonly largestLeaf: LeafLevel;
  #arena: ArrayFactory;
  #firstG: number;
  #pud: Int32Array;
  #tables: (Int32Array | undefined)[] = [];
  #freeIds: number[] = [];
  #leaves4k = 0;
  #leaves2M = 0;
  #leaves1G = 0;
  #level2Splits = 0;
  #level3Splits = 0;
  #collapses2M = 0;
  #collapses1G = 0;
  #tableCount = 0;

  constructor(map: MemoryMap, options: DirectMapOptions = {}) {
    this.map = requireMemoryMap(map);
    if (options === null || typeof options !== "object") {
      throw new MmkitError(ErrorCode.InvalidArgument, `direct map options must be an object, got ${describeValue(options)}`);
    }
    const collapse = options.collapse ?? false;
    if (typeof collapse !== "boolean") throw new MmkitError(ErrorCode.InvalidArgument, `collapse must be a boolean, got ${describeValue(collapse)}`);
    this.autoCollapse = collapse;
    const largest = options.largestLeaf ?? "1G";
    if (largest !== "1G" && largest !== "2M" && largest !== "4K") {
      throw new MmkitError(ErrorCode.InvalidArgument, `largestLeaf must be "1G", "2M" or "4K", got ${describeValue(largest)}`);
    }
    this.largestLeaf = largest;
    this.#arena = requireArrayFactory(options.arena ?? new MetadataArena());
    this.#firstG = Math.floor(map.startPfn / LEVEL_1G_PAGES);
    const lastG = Math.floor((map.endPfn - 1) / LEVEL_1G_PAGES);
    this.#pud = this.#arena.int32((lastG - this.#firstG + 1) * 2, "direct-map pud");
    for (let g = this.#firstG; g <= lastG; g++) this.#buildGigabyte(g);
  }

  /** Pages mapped by one leaf at each level: [page, 2 MiB, 1 GiB] with 4 KiB pages. */
  // Pure: a frozen static must not keep the class in bundles that never use it.
  static readonly LEVEL_PAGES = /*#__PURE__*/ Object.freeze([1, LEVEL_2M_PAGES, LEVEL_1G_PAGES]);

  #ramPagesIn(start: number, count: number): number {
    let n = 0;
    for (const r of this.map.ranges) {
      const lo = Math.max(r.startPfn, start);
      const hi = Math.min(r.endPfn, start + count);
      if (hi > lo) n += hi - lo;
    }
    return n;
  }

  #newTable(label: string): number {
    const table = this.#arena.int32(TABLE_SLOTS, label);
    const id = this.#freeIds.length > 0 ? this.#freeIds.pop()! : this.#tables.length;
    this.#tables[id] = table;
    this.#tableCount++;
    return id;
  }

  #freeTable(id: number): void {
    this.#arena.release(this.#tables[id]!);
    this.#tables[id] = undefined;
    this.#freeIds.push(id);
    this.#tableCount--;
  }

  #buildGigabyte(g: number): void {
    const start = g * LEVEL_1G_PAGES;
    const ram = this.#ramPagesIn(start, LEVEL_1G_PAGES);
    const slot = (g - this.#firstG) * 2;
    if (ram === 0) return;
    if (ram === LEVEL_1G_PAGES && this.largestLeaf === "1G") {
      this.#pud[slot] = 1 + Protection.Default;
      this.#leaves1G++;
      return;
    }
    const pmdId = this.#newTable("direct-map pmd");
    const pmd = this.#tables[pmdId]!;
    this.#pud[slot] = -pmdId - 1;
    for (let i = 0; i < ENTRIES; i++) {
      const mStart = start + i * LEVEL_2M_PAGES;
      const mRam = this.#ramPagesIn(mStart, LEVEL_2M_PAGES);
      if (mRam === 0) continue;
      if (mRam === LEVEL_2M_PAGES && this.largestLeaf !== "4K") {
        pmd[i * 2] = 1 + Protection.Default;
        this.#leaves2M++;
        continue;
      }
      const pteId = this.#newTable("direct-map pte");
      const pte = this.#tables[pteId]!;
      pmd[i * 2] = -pteId - 1;
      for (let k = 0; k < ENTRIES; k++) {
        if (this.map.rangeIndexOf(mStart + k) >= 0) {
          pte[k * 2] = 1 + Protection.Default;
          this.#leaves4k++;
        }
      }
    }
  }

  #requireRamRun(pfn: unknown, count: unknown): void {
    const p = requireInteger(pfn, "pfn");
    const n = requireInteger(count, "count", 1);
    if (this.#ramPagesIn(p, n) !== n) {
      throw new MmkitError(ErrorCode.NotRam, `pages [${p}, ${p + n}) are not all RAM (pfn ${p}, count ${n})`);
    }
  }

  /**
   * Sets the protection of `count` pages from `pfn`, splitting only the leaves that the change
   * covers in part and whose protection differs. Returns the number of splits it caused.
   */
  setProtection(pfn: number, count: number, protection: number): number {
    this.#requireRamRun(pfn, count);
    requireInteger(protection, "protection", 0, 7);
    return this.#apply(pfn, count, protection, false);
  }

  /** `set_memory_ro`: read-only. Returns the splits it caused. */
  setReadOnly(pfn: number, count = 1): number {
    return this.setProtection(pfn, count, Protection.ReadOnly);
  }
  /** `set_memory_rw` back to the default protection. Returns the splits it caused. */
  setDefault(pfn: number, count = 1): number {
    return this.setProtection(pfn, count, Protection.Default);
  }
  /** `set_direct_map_invalid_noflush`: unmapped from the direct map (secretmem, guest memory). */
  setInvalid(pfn: number, count = 1): number {
    return this.setProtection(pfn, count, Protection.Invalid);
  }

  /**
   * `set_memory_4k`: maps `count` pages from `pfn` with page-size leaves, keeping their protection,
   * so later changes to them split nothing. Returns the splits it caused.
   */
  splitToPages(pfn: number, count = 1): number {
    this.#requireRamRun(pfn, count);
    return this.#apply(pfn, count, -1, true);
  }

  #apply(pfn: number, count: number, prot: number, force: boolean): number {
    const before = this.#level2Splits + this.#level3Splits;
    const end = pfn + count;
    let p = pfn;
    while (p < end) {
      const g = Math.floor(p / LEVEL_1G_PAGES);
      const gStart = g * LEVEL_1G_PAGES;
      const segEnd = Math.min(end, gStart + LEVEL_1G_PAGES);
      const slot = (g - this.#firstG) * 2;
      let e = this.#pud[slot]!;
      if (e > 0) {
        const whole = p === gStart && segEnd === gStart + LEVEL_1G_PAGES;
        if (!force && (whole || e - 1 === prot)) {
          this.#pud[slot] = prot + 1;
          p = segEnd;
          continue;
        }
        e = this.#splitGigabyte(slot, e);
      }
      const pmd = this.#tables[-e - 1]!;
      let q = p;
      while (q < segEnd) {
        const m = Math.floor(q / LEVEL_2M_PAGES);
        const mStart = m * LEVEL_2M_PAGES;
        const sEnd = Math.min(segEnd, mStart + LEVEL_2M_PAGES);
        const idx = (m - g * ENTRIES) * 2;
        let me = pmd[idx]!;
        if (me > 0) {
          const whole = q === mStart && sEnd === mStart + LEVEL_2M_PAGES;
          if (!force && (whole || me - 1 === prot)) {
            pmd[idx] = prot + 1;
            q = sEnd;
            continue;
          }
          me = this.#split2M(pmd, idx, me);
        }
        if (prot >= 0) {
          const pte = this.#tables[-me - 1]!;
          for (let k = q - mStart; k < sEnd - mStart; k++) pte[k * 2] = prot + 1;
          if (this.autoCollapse) this.#collapse2M(pmd, idx);
        }
        q = sEnd;
      }
      if (this.autoCollapse) this.#collapse1G(slot);
      p = segEnd;
    }
    return this.#level2Splits + this.#level3Splits - before;
  }

  #splitGigabyte(slot: number, leaf: number): number {
    const id = this.#newTable("direct-map pmd");
    const pmd = this.#tables[id]!;
    for (let i = 0; i < ENTRIES; i++) pmd[i * 2] = leaf;
    this.#pud[slot] = -id - 1;
    this.#leaves1G--;
    this.#leaves2M += ENTRIES;
    this.#level3Splits++;
    return -id - 1;
  }

  #split2M(pmd: Int32Array, idx: number, leaf: number): number {
    const id = this.#newTable("direct-map pte");
    const pte = this.#tables[id]!;
    for (let k = 0; k < ENTRIES; k++) pte[k * 2] = leaf;
    pmd[idx] = -id - 1;
    this.#leaves2M--;
    this.#leaves4k += ENTRIES;
    this.#level2Splits++;
    return -id - 1;
  }

  // A PTE table folds back into a 2 MiB leaf when all 512 entries are mapped with one protection.
  #collapse2M(pmd: Int32Array, idx: number): boolean {
    const me = pmd[idx]!;
    if (me >= 0) return false;
    const pte = this.#tables[-me - 1]!;
    const first = pte[0]!;
    if (first <= 0) return false;
    for (let k = 1; k < ENTRIES; k++) if (pte[k * 2] !== first) return false;
    pmd[idx] = first;
    this.#freeTable(-me - 1);
    this.#leaves4k -= ENTRIES;
    this.#leaves2M++;
    this.#collapses2M++;
    return true;
  }

  // A PMD table folds back into a 1 GiB leaf when all 512 entries are 2 MiB leaves of one protection.
  #collapse1G(slot: number): boolean {
    if (this.largestLeaf !== "1G") return false;
    const e = this.#pud[slot]!;
    if (e >= 0) return false;
    const pmd = this.#tables[-e - 1]!;
    const first = pmd[0]!;
    if (first <= 0) return false;
    for (let i = 1; i < ENTRIES; i++) if (pmd[i * 2] !== first) return false;
    this.#pud[slot] = first;
    this.#freeTable(-e - 1);
    this.#leaves2M -= ENTRIES;
    this.#leaves1G++;
    this.#collapses1G++;
    return true;
  }

  /**
   * Folds the 2 MiB region holding `pfn` back into a large leaf if all its pages share one
   * protection, then its 1 GiB region likewise. Returns true if anything was folded.
   */
  collapse(pfn: number): boolean {
    this.#requireRamRun(pfn, 1);
    const g = Math.floor(pfn / LEVEL_1G_PAGES);
    const slot = (g - this.#firstG) * 2;
    const e = this.#pud[slot]!;
    if (e > 0) return false;
    const pmd = this.#tables[-e - 1]!;
    const idx = (Math.floor(pfn / LEVEL_2M_PAGES) - g * ENTRIES) * 2;
    const a = this.largestLeaf !== "4K" && this.#collapse2M(pmd, idx);
    const b = this.#collapse1G(slot);
    return a || b;
  }

  // The entry of the leaf mapping pfn (0 for a hole); its level goes to #leafLevelPages.
  #leafLevelPages = 0;
  #leafEntry(pfn: number): number {
    const g = Math.floor(pfn / LEVEL_1G_PAGES);
    const slot = (g - this.#firstG) * 2;
    this.#leafLevelPages = 0;
    if (slot < 0 || slot >= this.#pud.length) return 0;
    const e = this.#pud[slot]!;
    if (e >= 0) {
      if (e > 0) this.#leafLevelPages = LEVEL_1G_PAGES;
      return e;
    }
    const pmd = this.#tables[-e - 1]!;
    const me = pmd[(Math.floor(pfn / LEVEL_2M_PAGES) - g * ENTRIES) * 2]!;
    if (me >= 0) {
      if (me > 0) this.#leafLevelPages = LEVEL_2M_PAGES;
      return me;
    }
    const pe = this.#tables[-me - 1]![(pfn % LEVEL_2M_PAGES) * 2]!;
    if (pe > 0) this.#leafLevelPages = 1;
    return pe;
  }

  /** Protection of the leaf mapping `pfn`, or -1 when `pfn` is not mapped (a hole). */
  protection(pfn: number): number {
    requireInteger(pfn, "pfn");
    return this.#leafEntry(pfn) - 1;
  }

  /** Pages the leaf mapping `pfn` covers: 262144 (1 GiB), 512 (2 MiB), 1, or 0 for a hole. */
  leafPages(pfn: number): number {
    requireInteger(pfn, "pfn");
    this.#leafEntry(pfn);
    return this.#leafLevelPages;
  }

  /** The meminfo and vmstat counters. */
  counters(): DirectMapCounters {
    const ps = this.map.pageSize;
    return {
      directMap4k: this.#leaves4k * ps,
      directMap2M: this.#leaves2M * LEVEL_2M_PAGES * ps,
      directMap1G: this.#leaves1G * LEVEL_1G_PAGES * ps,
      level2Splits: this.#level2Splits,
      level3Splits: this.#level3Splits,
      collapses2M: this.#collapses2M,
      collapses1G: this.#collapses1G,
      pageTableBytes: this.#tableCount * TABLE_SLOTS * 4,
    };
  }

  /** The three DirectMap lines of `/proc/meminfo`, in kB as the kernel prints them. */
  meminfo(): string {
    const c = this.counters();
    const line = (name: string, bytes: number) => `${`${name}:`.padEnd(16)}${String(bytes / 1024).padStart(8)} kB`;
    return [line("DirectMap4k", c.directMap4k), line("DirectMap2M", c.directMap2M), line("DirectMap1G", c.directMap1G)].join("\n");
  }

  /**
   * Validates the tables against the memory map and the counters: every RAM page mapped by exactly
   * one leaf, no hole mapped, leaf counts equal to the counters. Throws `ERR_INVARIANT` on the first
   * violation. O(tables x 512).
   */
  check(): void {
    const fail = (msg: string): never => {
      throw new MmkitError(ErrorCode.Invariant, `direct map: ${msg}`);
    };
    let l4 = 0;
    let l2 = 0;
    let l1 = 0;
    let tables = 0;
    const nG = this.#pud.length / 2;
    for (let gi = 0; gi < nG; gi++) {
      const g = gi + this.#firstG;
      const start = g * LEVEL_1G_PAGES;
      const e = this.#pud[gi * 2]!;
      const ram = this.#ramPagesIn(start, LEVEL_1G_PAGES);
      if (e > 0) {
        if (ram !== LEVEL_1G_PAGES) fail(`1 GiB leaf at pfn ${start} maps ${LEVEL_1G_PAGES - ram} pages that are not RAM`);
        l1++;
        continue;
      }
      if (e === 0) {
        if (ram !== 0) fail(`1 GiB region at pfn ${start} has ${ram} RAM pages but no mapping`);
        continue;
      }
      tables++;
      const pmd = this.#tables[-e - 1] ?? fail(`pud entry at pfn ${start} points to a freed table`);
      for (let i = 0; i < ENTRIES; i++) {
        const mStart = start + i * LEVEL_2M_PAGES;
        const me = pmd[i * 2]!;
        const mRam = this.#ramPagesIn(mStart, LEVEL_2M_PAGES);
        if (me > 0) {
          if (mRam !== LEVEL_2M_PAGES) fail(`2 MiB leaf at pfn ${mStart} maps pages that are not RAM`);
          l2++;
          continue;
        }
        if (me === 0) {
          if (mRam !== 0) fail(`2 MiB region at pfn ${mStart} has RAM but no mapping`);
          continue;
        }
        tables++;
        const pte = this.#tables[-me - 1] ?? fail(`pmd entry at pfn ${mStart} points to a freed table`);
        for (let k = 0; k < ENTRIES; k++) {
          const isRam = this.map.rangeIndexOf(mStart + k) >= 0;
          const pe = pte[k * 2]!;
          if (pe < 0) fail(`pte entry at pfn ${mStart + k} points to a table`);
          if ((pe > 0) !== isRam) fail(`pfn ${mStart + k} is ${isRam ? "RAM but unmapped" : "a hole but mapped"}`);
          if (pe > 0) l4++;
        }
      }
    }
    if (l4 !== this.#leaves4k) fail(`counted ${l4} page leaves, counter says ${this.#leaves4k}`);
    if (l2 !== this.#leaves2M) fail(`counted ${l2} 2 MiB leaves, counter says ${this.#leaves2M}`);
    if (l1 !== this.#leaves1G) fail(`counted ${l1} 1 GiB leaves, counter says ${this.#leaves1G}`);
    if (tables !== this.#tableCount) fail(`counted ${tables} tables, counter says ${this.#tableCount}`);
    const mapped = l4 + l2 * LEVEL_2M_PAGES + l1 * LEVEL_1G_PAGES;
    if (mapped !== this.map.presentPages) fail(`leaves map ${mapped} pages, RAM is ${this.map.presentPages}`);
  }
}

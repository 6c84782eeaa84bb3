import { ErrorCode, MetadataArena, requireArrayFactory, MmkitError, describeValue, requireInteger, type ArrayFactory } from "@mmkit/physmem";
import { firstSetBit, popcount } from "./bitmap.js";
import { REGION_ORDER, REGION_PAGES, REGION_WORDS } from "./constants.js";
import type { DirectMapControl } from "./direct-map-control.js";
import type { PageSource } from "./page-source.js";
import { RegionIndex } from "./region-index.js";
import { LIST_KINDS, RegionList, RegionLru } from "./region-lru.js";
import {
  FLAGS_NODE,
  FLAG_MASK,
  FREE,
  HELD,
  KEY_HI,
  KEY_LO,
  LIVE,
  MAP_WORDS,
  NEXT,
  NODE_SHIFT,
  PREV,
  RECORD_STRIDE,
  SPLIT_BY_CACHE,
  WHERE,
  WHOLE,
  keyAt,
  keyHi,
  keyLo,
} from "./region-record.js";
import { DEFAULT_SEEKS, SHRINK_EMPTY, SHRINK_STOP, type CacheShrinker, type ShrinkerHost } from "./shrinker.js";
import { PageState, type PageStateValue, type PteMappedCacheStats, type RegionInfo } from "./stats.js";

/**
 * Options for {@link PteMappedCache}.
 *
 * @example
 * ```ts
 * const cache = new PteMappedCache({ source: buddy, directMap, shrinkerHost: registry, splitBlocks: true });
 * ```
 */
export interface PteMappedCacheOptions {
  /** The page allocator the cache refills from and gives back to. */
  source: PageSource;
  /** The direct map whose entries the cache splits (physmem's `DirectMap` fits). */
  directMap: DirectMapControl;
  /** Registers the cache's shrinker here at construction (`dispose()` unregisters it). */
  shrinkerHost?: ShrinkerHost;
  /** NUMA node of a pfn, for the per-node lists (default: every page on node 0). Ids 0..1023. */
  nodeOf?: (pfn: number) => number;
  /** Where the cache's typed arrays come from (default: a private `MetadataArena`). */
  arena?: ArrayFactory;
  /**
   * The page source accepts order-0 frees of single pages out of an order-9 block (Linux
   * `split_page()` semantics). Then the shrinker may break a partly used block and give back its
   * free pages one by one; otherwise such pages stay until the whole block is free. Default false.
   */
  splitBlocks?: boolean;
  /** The shrinker's name (default "pte-cache"). */
  name?: string;
}

/** Throws unless a shrinker callback's control is an object; returns it. */
function requireControl<T>(sc: T): T {
  if (sc === null || typeof sc !== "object") throw new MmkitError(ErrorCode.InvalidArgument, `shrink control must be an object, got ${describeValue(sc)}`);
  return sc;
}

const MIN_SLOTS = 8;
const MAX_NODE = 1023;
const LIST_NAMES = ["block-partial", "pieces", "block-free"] as const;

/**
 * A cache of 4 KiB pages that are mapped by page-size (PTE) entries in the kernel's direct map, so
 * their protection can change without splitting anything further (the "cache of PTE-mapped pages"
 * proposed for `set_memory_*` users such as module text, BPF and secretmem). It sits outside the page
 * allocator, over its two calls, as the review asked.
 *
 * **Refill.** When no cached page is free, the cache takes an order-9 block (2 MiB), splits its
 * direct-map entry once (`splitToPages(pfn, 512)`) and caches all 512 pages: N allocations cost
 * ceil(N / 512) 2 MiB splits instead of up to N. When no order-9 block is free it falls back to one
 * order-0 page and splits the 2 MiB entry that holds it, and remembers that the region is now
 * PTE-mapped.
 *
 * **Regions it remembers.** The cache keeps one record per 2 MiB region it holds at least one page
 * of: a 32-byte record (key, counts, flags, node, LRU links; see `region-record.ts`) and a 512-bit
 * map of pages it holds interleaved with a 512-bit map of those that are free (172 bytes per region
 * slot with the hash buckets and the free-slot stack). Pages of a remembered region that the cache does not hold
 * belong to the page source and their users; the cache never takes them. "Coming back to the
 * cache" means: whoever frees such a page may offer it with {@link adopt} instead of freeing it to
 * the page source, and the cache takes it in (no split needed: the region is PTE-mapped already);
 * a fallback page that lands in a remembered region joins it likewise. The record lives while the
 * cache holds a page of the region; when the shrinker gives the last one back, the record goes and
 * the cache folds the direct-map entry back with `collapse()` if its own split made it (the direct
 * map folds only when all 512 entries agree, so someone else's protection change keeps it split).
 *
 * **Lists.** Regions with free pages sit on per-node, index-linked LRU lists (typed arrays, no
 * per-page objects): intact blocks partly used, regions held in pieces, intact blocks all free.
 * `alloc()` takes from the most recently used region of the first non-empty list in that order, so
 * partly used blocks fill up and free blocks stay whole; the shrinker takes from the least recently
 * used end, whole free blocks first (one `freePages(pfn, 9)` and a collapse each), then single pages.
 *
 * Costs: `alloc()` and `free()` are O(1): a hash probe (free only), the region's record, one or two
 * page-map lines, the list heads and a neighbour's record: 4 to 6 metadata cache lines (counted in
 * the tests with a `ProbingArena`); a refill adds one `allocPages` and one `splitToPages`. `shrink()`
 * is O(pages given back). Metadata grows and shrinks with the regions held (table doubling, and
 * halving at a quarter full).
 *
 * @example
 * ```ts
 * const cache = new PteMappedCache({ source: buddy, directMap });
 * const pfn = cache.alloc();                     // a PTE-mapped page, or -1
 * directMap.setProtection(pfn, 1, Protection.ReadOnly); // splits nothing
 * cache.free(pfn);
 * cache.shrink(512);                             // gives the 2 MiB block back, collapses the entry
 * ```
 */
export class PteMappedCache {
  /** The page allocator the cache takes blocks from and gives them back to. */
  readonly source: PageSource;
  /** The direct map whose leaves the cache splits and collapses. */
  readonly directMap: DirectMapControl;
  /** Whether the page source takes order-0 frees out of an order-9 block, so the shrinker may give back a partly used block's free pages (option `splitBlocks`). */
  readonly splitBlocks: boolean;
  /** The shrinker this cache registers (and that a registry calls). */
  readonly shrinker: CacheShrinker;
  #host: ShrinkerHost | undefined;
  #nodeOf: ((pfn: number) => number) | undefined;
  #arena: ArrayFactory;
  #disposed = false;

  // The record table: one 8-int32 record and 32 page-map words per 2 MiB region held (see region-record.ts).
  #cap = 0;
  #live = 0;
  #rec!: Int32Array;
  #maps!: Uint32Array;
  #freeSlots!: Int32Array; // stack of free record slots
  #freeTop = 0;
  #index!: RegionIndex;
  #lru: RegionLru;
  #listPages: Float64Array; // free pages per (node, list)

  #refills = 0;
  #fallbacks = 0;
  #refillFailures = 0;
  #allocs = 0;
  #frees = 0;
  #adopted = 0;
  #splits = 0;
  #collapses = 0;
  #shrunkPages = 0;
  #shrunkRegions = 0;
  #cached = 0;
  #inUse = 0;
  #whole = 0;

  constructor(options: PteMappedCacheOptions) {
    if (options === null || typeof options !== "object") {
      throw new MmkitError(ErrorCode.InvalidArgument, `options must be an object, got ${describeValue(options)}`);
    }
    const { source, directMap, shrinkerHost, nodeOf } = options;
    if (source === null || typeof source !== "object" || typeof source.allocPages !== "function" || typeof source.freePages !== "function") {
      throw new MmkitError(ErrorCode.InvalidArgument, `source must have allocPages and freePages, got ${describeValue(source)}`);
    }
    if (directMap === null || typeof directMap !== "object" || typeof directMap.splitToPages !== "function" || typeof directMap.collapse !== "function") {
      throw new MmkitError(ErrorCode.InvalidArgument, `directMap must have splitToPages and collapse, got ${describeValue(directMap)}`);
    }
    if (shrinkerHost !== undefined && (shrinkerHost === null || typeof shrinkerHost.register !== "function" || typeof shrinkerHost.unregister !== "function")) {
      throw new MmkitError(ErrorCode.InvalidArgument, `shrinkerHost must have register and unregister, got ${describeValue(shrinkerHost)}`);
    }
    if (nodeOf !== undefined && typeof nodeOf !== "function") {
      throw new MmkitError(ErrorCode.InvalidArgument, `nodeOf must be a function, got ${describeValue(nodeOf)}`);
    }
    const name = options.name ?? "pte-cache";
    if (typeof name !== "string") throw new MmkitError(ErrorCode.InvalidArgument, `name must be a string, got ${describeValue(name)}`);
    const splitBlocks: unknown = options.splitBlocks;
    if (splitBlocks !== undefined && typeof splitBlocks !== "boolean") {
      throw new MmkitError(ErrorCode.InvalidArgument, `splitBlocks must be a boolean, got ${describeValue(splitBlocks)}`);
    }
    const arena = requireArrayFactory(options.arena ?? new MetadataArena());
    this.source = source;
    this.directMap = directMap;
    this.splitBlocks = splitBlocks === true;
    this.#host = shrinkerHost;
    this.#nodeOf = nodeOf;
    this.#arena = arena;
    this.#lru = new RegionLru(this.#arena, 1);
    this.#listPages = this.#arena.float64(LIST_KINDS, "pte-cache list pages");
    this.#resize(MIN_SLOTS);
    this.shrinker = {
      name,
      seeks: DEFAULT_SEEKS,
      batch: REGION_PAGES,
      numaAware: true,
      count: (sc) => this.#count(requireControl(sc).nid),
      scan: (sc) => {
        const want = requireInteger(requireControl(sc).nrToScan, "nrToScan");
        // A node, as for count: not shrink()'s -1 (every node), which a missing nid would become.
        const nid = requireInteger(sc.nid, "nid", 0, MAX_NODE);
        const freed = this.shrink(want, nid);
        return freed === 0 && want > 0 ? SHRINK_STOP : freed;
      },
    };
    shrinkerHost?.register(this.shrinker);
  }

  // ---------------------------------------------------------------------------------------------
  // Allocation

  /**
   * A free PTE-mapped page: its pfn, or -1 when the cache is empty and the page source has neither
   * an order-9 block nor a single page. Prefers node `nid` (default -1: any), then any other node;
   * a refill takes whatever the page source gives.
   *
   * Cost: O(1): the record, one page-map line, the list heads and at most one neighbour's record
   * (5 metadata lines when the region leaves its list); a refill adds `allocPages` and
   * `splitToPages` (512 entry writes when it splits a 2 MiB leaf).
   *
   * @example
   * ```ts
   * const pfn = cache.alloc(); // e.g. 512: the first page of the block the cache just took
   * ```
   */
  alloc(nid = -1): number {
    if (nid !== -1) requireInteger(nid, "nid", 0, MAX_NODE);
    let slot = this.#pick(nid);
    if (slot < 0) {
      slot = this.#refill();
      if (slot < 0) return -1;
    }
    const r = this.#rec;
    const base = slot * RECORD_STRIDE;
    const maps = slot * MAP_WORDS;
    const bit = firstSetBit(this.#maps, maps + 1, REGION_WORDS, 2);
    const oldWhere = r[base + WHERE]!;
    const oldFree = r[base + FREE]!;
    this.#maps[maps + 2 * (bit >>> 5) + 1]! &= ~(1 << (bit & 31));
    r[base + FREE] = oldFree - 1;
    this.#cached--;
    this.#inUse++;
    this.#allocs++;
    this.#settle(slot, oldWhere, oldFree, true);
    return keyAt(r, base) * REGION_PAGES + bit;
  }

  /**
   * Gives back a page `alloc()` handed out; it stays PTE-mapped and cached. Throws
   * `ERR_NOT_ALLOCATED` for a page the cache does not hold and `ERR_DOUBLE_FREE` for one that is
   * free already, changing nothing.
   *
   * Cost: O(1): a line of hash buckets, the record, one page-map line, the list heads and the
   * neighbours' records when the region moves to the head of its list (at most 7 metadata lines).
   *
   * @example
   * ```ts
   * cache.free(pfn);
   * cache.free(pfn); // throws MmkitError, code ERR_DOUBLE_FREE
   * ```
   */
  free(pfn: number): void {
    const p = requireInteger(pfn, "pfn");
    const slot = this.#index.find(Math.floor(p / REGION_PAGES), this.#rec);
    if (slot < 0) throw new MmkitError(ErrorCode.NotAllocated, `pfn ${p} was not handed out by this cache (it holds no page of its 2 MiB region)`);
    const bit = p % REGION_PAGES;
    const w = slot * MAP_WORDS + 2 * (bit >>> 5);
    const m = 1 << (bit & 31);
    if ((this.#maps[w]! & m) === 0) throw new MmkitError(ErrorCode.NotAllocated, `pfn ${p} was not handed out by this cache`);
    if ((this.#maps[w + 1]! & m) !== 0) throw new MmkitError(ErrorCode.DoubleFree, `pfn ${p} is free in the cache already`);
    const base = slot * RECORD_STRIDE;
    const oldWhere = this.#rec[base + WHERE]!;
    const oldFree = this.#rec[base + FREE]!;
    this.#maps[w + 1]! |= m;
    this.#rec[base + FREE] = oldFree + 1;
    this.#cached++;
    this.#inUse--;
    this.#frees++;
    this.#settle(slot, oldWhere, oldFree, true);
  }

  /**
   * Offers a page that its user is freeing and that came from the page source, not from the cache.
   * If its 2 MiB region is one the cache holds pages of (so it is PTE-mapped already), the cache
   * takes it in and returns true; otherwise it returns false and the caller frees it to the page
   * source as usual. Throws `ERR_DOUBLE_FREE` if the cache holds it free already and
   * `ERR_INVALID_STATE` if the cache handed it out (free it with `free()`), changing nothing.
   *
   * Cost: O(1), a hash probe and, when taken, as much as `free()`.
   *
   * @example
   * ```ts
   * if (!cache.adopt(pfn)) buddy.freePages(pfn, 0);
   * ```
   */
  adopt(pfn: number): boolean {
    const p = requireInteger(pfn, "pfn");
    const slot = this.#index.find(Math.floor(p / REGION_PAGES), this.#rec);
    if (slot < 0) return false;
    const bit = p % REGION_PAGES;
    const w = slot * MAP_WORDS + 2 * (bit >>> 5);
    const m = 1 << (bit & 31);
    if ((this.#maps[w]! & m) !== 0) {
      if ((this.#maps[w + 1]! & m) !== 0) throw new MmkitError(ErrorCode.DoubleFree, `pfn ${p} is free in the cache already`);
      throw new MmkitError(ErrorCode.InvalidState, `pfn ${p} was handed out by the cache: give it back with free(), not adopt()`);
    }
    this.#addPiece(slot, bit);
    this.#adopted++;
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // Shrinking

  /**
   * Gives up to `pages` free pages back to the page source (on node `nid`, or on every node for -1)
   * and returns how many it gave. Whole free blocks go first, least recently used first, as one
   * `freePages(pfn, 9)` each followed by `collapse(pfn)`, so it may give up to 511 more than asked;
   * then single pages of regions held in pieces (and, with `splitBlocks`, of partly used blocks).
   *
   * Cost: O(pages given back + nodes), plus one page-source call per block or page.
   *
   * @example
   * ```ts
   * cache.shrink(1); // 512 if a whole free block was cached
   * ```
   */
  shrink(pages: number, nid = -1): number {
    const want = requireInteger(pages, "pages");
    if (nid !== -1) requireInteger(nid, "nid", 0, MAX_NODE);
    const nodes = this.#lru.nodes;
    let freed = 0;
    for (let n = nid < 0 ? 0 : nid; n < nodes && freed < want; n++) {
      freed += this.#shrinkNode(n, want - freed);
      if (nid >= 0) break;
    }
    if (this.#live <= this.#cap >>> 2 && this.#cap > MIN_SLOTS) {
      let cap = MIN_SLOTS;
      while (cap < this.#live * 2) cap *= 2;
      if (cap < this.#cap) this.#resize(cap);
    }
    return freed;
  }

  /**
   * Gives back every free page a shrink can (see {@link shrink}); returns how many.
   *
   * @example
   * ```ts
   * cache.drain(); // the cache then holds only pages in use (and pinned block pages)
   * ```
   */
  drain(): number {
    return this.shrink(Number.MAX_SAFE_INTEGER);
  }

  /**
   * Pages a shrink could give back now on node `nid` (-1: all nodes). O(nodes).
   *
   * @example
   * ```ts
   * cache.freeablePages(0); // 512 after one refill with nothing handed out
   * ```
   */
  freeablePages(nid = -1): number {
    if (nid !== -1) requireInteger(nid, "nid", 0, MAX_NODE);
    let n = 0;
    for (let node = 0; node < this.#lru.nodes; node++) if (nid < 0 || node === nid) n += this.#freeableOn(node);
    return n;
  }

  /**
   * Unregisters the shrinker from its host (idempotent). The cache keeps working; call
   * {@link drain} first to give its free pages back.
   *
   * @example
   * ```ts
   * cache.drain();
   * cache.dispose();
   * ```
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#host?.unregister(this.shrinker);
  }

  // ---------------------------------------------------------------------------------------------
  // Observation

  /**
   * Counters and gauges; see {@link PteMappedCacheStats}. O(nodes).
   *
   * @example
   * ```ts
   * cache.stats().splitsCaused; // 1 after the first refill on a 2 MiB-mapped machine
   * ```
   */
  stats(): PteMappedCacheStats {
    let fullyFree = 0;
    for (let n = 0; n < this.#lru.nodes; n++) fullyFree += this.#lru.length(n, RegionList.BlockFree);
    return {
      refills: this.#refills,
      fallbacks: this.#fallbacks,
      refillFailures: this.#refillFailures,
      allocs: this.#allocs,
      frees: this.#frees,
      adopted: this.#adopted,
      splitsCaused: this.#splits,
      collapses: this.#collapses,
      shrinkerReturnedPages: this.#shrunkPages,
      shrinkerReturnedRegions: this.#shrunkRegions,
      cachedPages: this.#cached,
      inUsePages: this.#inUse,
      regions: this.#live,
      wholeRegions: this.#whole,
      regionsFullyFree: fullyFree,
      freeablePages: this.freeablePages(),
    };
  }

  /**
   * What `pfn` is to the cache: {@link PageState}.None, Cached or InUse. O(1).
   *
   * @example
   * ```ts
   * cache.pageState(pfn); // PageState.InUse after alloc()
   * ```
   */
  pageState(pfn: number): PageStateValue {
    const p = requireInteger(pfn, "pfn");
    const slot = this.#index.find(Math.floor(p / REGION_PAGES), this.#rec);
    if (slot < 0) return PageState.None;
    const bit = p % REGION_PAGES;
    const w = slot * MAP_WORDS + 2 * (bit >>> 5);
    const m = 1 << (bit & 31);
    if ((this.#maps[w]! & m) === 0) return PageState.None;
    return (this.#maps[w + 1]! & m) !== 0 ? PageState.Cached : PageState.InUse;
  }

  /**
   * True when the cache holds a page of `pfn`'s 2 MiB region, which is then PTE-mapped by the
   * cache's doing, so `adopt(pfn)` would take it in. O(1).
   *
   * @example
   * ```ts
   * cache.tracksRegionOf(cache.alloc() + 1); // true
   * ```
   */
  tracksRegionOf(pfn: number): boolean {
    const p = requireInteger(pfn, "pfn");
    return this.#index.find(Math.floor(p / REGION_PAGES), this.#rec) >= 0;
  }

  /**
   * Every region record: per node, each list from most to least recently used, then the regions on
   * no list by pfn. O(regions); for tests and reports.
   *
   * @example
   * ```ts
   * cache.regions()[0]; // { pfn: 0, node: 0, held: 512, free: 511, whole: true, splitByCache: true, list: "block-partial" }
   * ```
   */
  regions(): RegionInfo[] {
    const out: RegionInfo[] = [];
    for (let n = 0; n < this.#lru.nodes; n++) {
      for (let k = 0; k < LIST_KINDS; k++) {
        for (let s = this.#lru.head(n, k); s >= 0; s = this.#lru.next(s)) out.push(this.#info(s));
      }
    }
    const rest: RegionInfo[] = [];
    for (let s = 0; s < this.#cap; s++) {
      const b = s * RECORD_STRIDE;
      if ((this.#rec[b + FLAGS_NODE]! & LIVE) !== 0 && this.#rec[b + WHERE]! < 0) rest.push(this.#info(s));
    }
    rest.sort((a, b) => a.pfn - b.pfn);
    return out.concat(rest);
  }

  /**
   * Validates every invariant: page maps agree with counts, free pages are held pages, intact blocks
   * hold all 512 pages, each region is on exactly the list its state says (and lists are well
   * linked), per-list page counts, gauges, the hash index, the free-slot stack, and, when the direct
   * map offers `leafPages`, that every held page is PTE-mapped. Throws `ERR_INVARIANT` on the first
   * violation. O(slots x 32 + held pages).
   *
   * @example
   * ```ts
   * cache.check(); // throws MmkitError(ERR_INVARIANT) if anything is inconsistent
   * ```
   */
  check(): void {
    const fail = (msg: string): never => {
      throw new MmkitError(ErrorCode.Invariant, `pte-cache: ${msg}`);
    };
    const r = this.#rec;
    const maps = this.#maps;
    let live = 0;
    let cached = 0;
    let inUse = 0;
    let whole = 0;
    let listed = 0;
    const listPages = new Float64Array(this.#listPages.length);
    for (let s = 0; s < this.#cap; s++) {
      const b = s * RECORD_STRIDE;
      const mb = s * MAP_WORDS;
      const flags = r[b + FLAGS_NODE]! & FLAG_MASK;
      if ((flags & LIVE) === 0) {
        for (let k = 0; k < RECORD_STRIDE; k++) {
          const v = r[b + k]!;
          const expected = k === PREV || k === NEXT || k === WHERE ? -1 : 0;
          if (v !== expected) fail(`free record slot ${s} has field ${k} = ${v}`);
        }
        if (popcount(maps, mb, MAP_WORDS) !== 0) fail(`free record slot ${s} has page bits`);
        continue;
      }
      live++;
      const key = keyAt(r, b);
      const pfn0 = key * REGION_PAGES;
      if (this.#index.find(key, r) !== s) fail(`region at pfn ${pfn0} (slot ${s}) is not found by the index`);
      const held = popcount(maps, mb, REGION_WORDS, 2);
      const free = popcount(maps, mb + 1, REGION_WORDS, 2);
      if (held !== r[b + HELD]) fail(`region at pfn ${pfn0} holds ${held} pages, count says ${r[b + HELD]}`);
      if (free !== r[b + FREE]) fail(`region at pfn ${pfn0} has ${free} free pages, count says ${r[b + FREE]}`);
      if (held === 0) fail(`region at pfn ${pfn0} holds no page but has a record`);
      for (let w = 0; w < REGION_WORDS; w++) {
        if ((maps[mb + 2 * w + 1]! & ~maps[mb + 2 * w]!) !== 0) fail(`region at pfn ${pfn0} has free pages it does not hold (word ${w})`);
      }
      if ((flags & ~(LIVE | WHOLE | SPLIT_BY_CACHE)) !== 0) fail(`region at pfn ${pfn0} has unknown flags ${flags}`);
      const isWhole = (flags & WHOLE) !== 0;
      if (isWhole && held !== REGION_PAGES) fail(`intact block at pfn ${pfn0} holds only ${held} pages`);
      if (isWhole) whole++;
      cached += free;
      inUse += held - free;
      const kind = this.#kindOf(s);
      const where = r[b + WHERE]!;
      const node = r[b + FLAGS_NODE]! >>> NODE_SHIFT;
      const expected = kind < 0 ? -1 : node * LIST_KINDS + kind;
      if (where !== expected) fail(`region at pfn ${pfn0} is on list ${where}, its state says ${expected}`);
      if (where >= 0) {
        listed++;
        listPages[where] += free;
      }
      if (this.directMap.leafPages !== undefined) {
        for (let bit = 0; bit < REGION_PAGES; bit++) {
          if ((maps[mb + 2 * (bit >>> 5)]! & (1 << (bit & 31))) === 0) continue;
          const leaf = this.directMap.leafPages(pfn0 + bit);
          if (leaf !== 1) fail(`held pfn ${pfn0 + bit} is mapped by a ${leaf}-page leaf, not a PTE`);
        }
      }
    }
    if (live !== this.#live) fail(`${live} live regions, count says ${this.#live}`);
    if (this.#index.size() !== live) fail(`index holds ${this.#index.size()} entries for ${live} regions`);
    if (this.#freeTop + live !== this.#cap) fail(`${this.#freeTop} free slots + ${live} live != capacity ${this.#cap}`);
    const seen = new Uint8Array(this.#cap);
    for (let i = 0; i < this.#freeTop; i++) {
      const s = this.#freeSlots[i]!;
      if (s < 0 || s >= this.#cap || seen[s] !== 0 || (r[s * RECORD_STRIDE + FLAGS_NODE]! & LIVE) !== 0) fail(`free-slot stack entry ${i} (${s}) is not a distinct free slot`);
      seen[s] = 1;
    }
    if (this.#lru.validate(fail) !== listed) fail(`lists link a different number of regions than ${listed}`);
    for (let l = 0; l < listPages.length; l++) {
      if (listPages[l] !== this.#listPages[l]) fail(`list ${l} counts ${this.#listPages[l]} free pages, its regions have ${listPages[l]}`);
    }
    if (cached !== this.#cached) fail(`${cached} pages free in regions, gauge says ${this.#cached}`);
    if (inUse !== this.#inUse) fail(`${inUse} pages in use in regions, gauge says ${this.#inUse}`);
    if (whole !== this.#whole) fail(`${whole} intact blocks, gauge says ${this.#whole}`);
    if (this.#allocs - this.#frees !== this.#inUse) fail(`allocs ${this.#allocs} - frees ${this.#frees} != in use ${this.#inUse}`);
  }

  // ---------------------------------------------------------------------------------------------
  // Internals

  #info(s: number): RegionInfo {
    const b = s * RECORD_STRIDE;
    const r = this.#rec;
    const where = r[b + WHERE]!;
    const flags = r[b + FLAGS_NODE]!;
    return {
      pfn: keyAt(r, b) * REGION_PAGES,
      node: flags >>> NODE_SHIFT,
      held: r[b + HELD]!,
      free: r[b + FREE]!,
      whole: (flags & WHOLE) !== 0,
      splitByCache: (flags & SPLIT_BY_CACHE) !== 0,
      list: where < 0 ? null : LIST_NAMES[where % LIST_KINDS]!,
    };
  }

  #kindOf(slot: number): number {
    const b = slot * RECORD_STRIDE;
    const free = this.#rec[b + FREE]!;
    if (free === 0) return -1;
    if ((this.#rec[b + FLAGS_NODE]! & WHOLE) === 0) return RegionList.Pieces;
    return free === REGION_PAGES ? RegionList.BlockFree : RegionList.BlockPartial;
  }

  /** After a change to `slot`'s free count or flags: fix the per-list page counts and its list place. */
  #settle(slot: number, oldWhere: number, oldFree: number, toHead: boolean): void {
    if (oldWhere >= 0) this.#listPages[oldWhere] -= oldFree;
    const kind = this.#kindOf(slot);
    if (kind < 0) {
      this.#lru.remove(slot);
      return;
    }
    const b = slot * RECORD_STRIDE;
    const node = this.#rec[b + FLAGS_NODE]! >>> NODE_SHIFT;
    this.#listPages[node * LIST_KINDS + kind] += this.#rec[b + FREE]!;
    this.#lru.place(node, kind, slot, toHead);
  }

  #freeableOn(node: number): number {
    const l = node * LIST_KINDS;
    let n = this.#listPages[l + RegionList.BlockFree]! + this.#listPages[l + RegionList.Pieces]!;
    if (this.splitBlocks) n += this.#listPages[l + RegionList.BlockPartial]!;
    return n;
  }

  #count(nid: unknown): number {
    const n = requireInteger(nid, "nid", 0, MAX_NODE);
    if (n >= this.#lru.nodes) return SHRINK_EMPTY;
    const freeable = this.#freeableOn(n);
    if (freeable > 0) return freeable;
    const l = n * LIST_KINDS;
    return this.#listPages[l]! + this.#listPages[l + 1]! + this.#listPages[l + 2]! > 0 ? 0 : SHRINK_EMPTY;
  }

  #pick(nid: number): number {
    const lru = this.#lru;
    if (nid >= 0 && nid < lru.nodes) {
      for (let k = 0; k < LIST_KINDS; k++) {
        const h = lru.head(nid, k);
        if (h >= 0) return h;
      }
    }
    if (this.#cached === 0) return -1;
    for (let n = 0; n < lru.nodes; n++) {
      for (let k = 0; k < LIST_KINDS; k++) {
        const h = lru.head(n, k);
        if (h >= 0) return h;
      }
    }
    return -1;
  }

  #nodeFor(pfn: number): number {
    if (this.#nodeOf === undefined) return 0;
    const node = this.#nodeOf(pfn);
    if (!Number.isSafeInteger(node) || node < 0 || node > MAX_NODE) {
      throw new MmkitError(ErrorCode.OutOfRange, `nodeOf(${pfn}) must be an integer in [0, ${MAX_NODE}], got ${describeValue(node)}`);
    }
    return node;
  }

  /** Gets pages from the source; returns the slot of the region that now has a free page, or -1. */
  #refill(): number {
    if (this.#freeTop === 0) this.#resize(this.#cap * 2);
    const block = this.source.allocPages(REGION_ORDER);
    if (block >= 0) return this.#takeBlock(block);
    const page = this.source.allocPages(0);
    if (page >= 0) return this.#takeFallback(page);
    this.#refillFailures++;
    return -1;
  }

  #takeBlock(pfn: number): number {
    if (!Number.isSafeInteger(pfn)) throw new MmkitError(ErrorCode.InvalidState, `page source returned ${describeValue(pfn)} for an order-9 block`);
    const key = pfn / REGION_PAGES;
    let node: number;
    let splits: number;
    try {
      if (pfn % REGION_PAGES !== 0) throw new MmkitError(ErrorCode.NotAligned, `page source returned order-9 block ${pfn}, not 512-page aligned`);
      if (this.#index.find(key, this.#rec) >= 0) throw new MmkitError(ErrorCode.InvalidState, `page source returned order-9 block ${pfn}, a region the cache holds pages of`);
      node = this.#nodeFor(pfn);
      this.#ensureNode(node);
      splits = this.directMap.splitToPages(pfn, REGION_PAGES);
    } catch (e) {
      this.source.freePages(pfn, REGION_ORDER);
      throw e;
    }
    const slot = this.#newRegion(key, node, WHOLE | (splits > 0 ? SPLIT_BY_CACHE : 0));
    this.#maps.fill(0xffffffff, slot * MAP_WORDS, slot * MAP_WORDS + MAP_WORDS);
    const b = slot * RECORD_STRIDE;
    this.#rec[b + HELD] = REGION_PAGES;
    this.#rec[b + FREE] = REGION_PAGES;
    this.#cached += REGION_PAGES;
    this.#whole++;
    this.#refills++;
    this.#splits += splits;
    this.#settle(slot, -1, 0, true);
    return slot;
  }

  #takeFallback(pfn: number): number {
    if (!Number.isSafeInteger(pfn)) throw new MmkitError(ErrorCode.InvalidState, `page source returned ${describeValue(pfn)} for a page`);
    const key = Math.floor(pfn / REGION_PAGES);
    const bit = pfn % REGION_PAGES;
    let slot = this.#index.find(key, this.#rec);
    if (slot >= 0) {
      // The region is PTE-mapped already: the page joins it, no split.
      if ((this.#maps[slot * MAP_WORDS + 2 * (bit >>> 5)]! & (1 << (bit & 31))) !== 0) {
        throw new MmkitError(ErrorCode.InvalidState, `page source returned page ${pfn}, which the cache holds`);
      }
    } else {
      let node: number;
      let splits: number;
      try {
        node = this.#nodeFor(pfn);
        this.#ensureNode(node);
        splits = this.directMap.splitToPages(pfn, 1);
      } catch (e) {
        this.source.freePages(pfn, 0);
        throw e;
      }
      slot = this.#newRegion(key, node, splits > 0 ? SPLIT_BY_CACHE : 0);
      this.#splits += splits;
    }
    this.#addPiece(slot, bit);
    this.#fallbacks++;
    return slot;
  }

  /** Adds page `bit` of region `slot` as held and free. */
  #addPiece(slot: number, bit: number): void {
    const w = slot * MAP_WORDS + 2 * (bit >>> 5);
    const m = 1 << (bit & 31);
    const b = slot * RECORD_STRIDE;
    const r = this.#rec;
    const oldWhere = r[b + WHERE]!;
    const oldFree = r[b + FREE]!;
    this.#maps[w]! |= m;
    this.#maps[w + 1]! |= m;
    r[b + HELD]++;
    r[b + FREE] = oldFree + 1;
    this.#cached++;
    this.#settle(slot, oldWhere, oldFree, true);
  }

  #ensureNode(node: number): void {
    if (node < this.#lru.nodes) return;
    const nodes = node + 1;
    const pages = this.#arena.float64(nodes * LIST_KINDS, "pte-cache list pages");
    this.#lru.growNodes(nodes);
    pages.set(this.#listPages);
    this.#arena.release(this.#listPages);
    this.#listPages = pages;
  }

  #newRegion(key: number, node: number, flags: number): number {
    const slot = this.#freeSlots[--this.#freeTop]!;
    const b = slot * RECORD_STRIDE;
    const r = this.#rec;
    r[b + KEY_LO] = keyLo(key);
    r[b + KEY_HI] = keyHi(key);
    r[b + FLAGS_NODE] = LIVE | flags | (node << NODE_SHIFT);
    r[b + HELD] = 0;
    r[b + FREE] = 0;
    this.#index.insert(key, slot);
    this.#live++;
    return slot;
  }

  #dropRegion(slot: number, oldWhere: number, oldFree: number): void {
    if (oldWhere >= 0) this.#listPages[oldWhere] -= oldFree;
    this.#lru.remove(slot);
    const b = slot * RECORD_STRIDE;
    const r = this.#rec;
    this.#index.remove(keyAt(r, b), r);
    r.fill(0, b, b + RECORD_STRIDE);
    r[b + PREV] = -1;
    r[b + NEXT] = -1;
    r[b + WHERE] = -1;
    this.#maps.fill(0, slot * MAP_WORDS, slot * MAP_WORDS + MAP_WORDS);
    this.#freeSlots[this.#freeTop++] = slot;
    this.#live--;
  }

  #shrinkNode(node: number, want: number): number {
    const lru = this.#lru;
    let freed = 0;
    for (let s = lru.tail(node, RegionList.BlockFree); s >= 0 && freed < want; s = lru.tail(node, RegionList.BlockFree)) {
      freed += this.#releaseBlock(s);
    }
    for (let s = lru.tail(node, RegionList.Pieces); s >= 0 && freed < want; s = lru.tail(node, RegionList.Pieces)) {
      freed += this.#releasePages(s, want - freed);
    }
    if (this.splitBlocks) {
      for (let s = lru.tail(node, RegionList.BlockPartial); s >= 0 && freed < want; s = lru.tail(node, RegionList.BlockPartial)) {
        // Break the block: from now on its pages are held, freed and given back one by one.
        const b = s * RECORD_STRIDE;
        const oldWhere = this.#rec[b + WHERE]!;
        const oldFree = this.#rec[b + FREE]!;
        this.#rec[b + FLAGS_NODE] &= ~WHOLE;
        this.#whole--;
        this.#settle(s, oldWhere, oldFree, false);
        freed += this.#releasePages(s, want - freed);
      }
    }
    return freed;
  }

  #releaseBlock(slot: number): number {
    const b = slot * RECORD_STRIDE;
    const pfn = keyAt(this.#rec, b) * REGION_PAGES;
    const split = (this.#rec[b + FLAGS_NODE]! & SPLIT_BY_CACHE) !== 0;
    this.source.freePages(pfn, REGION_ORDER);
    this.#dropRegion(slot, this.#rec[b + WHERE]!, REGION_PAGES);
    this.#cached -= REGION_PAGES;
    this.#whole--;
    this.#shrunkPages += REGION_PAGES;
    this.#shrunkRegions++;
    if (split && this.directMap.collapse(pfn)) this.#collapses++;
    return REGION_PAGES;
  }

  #releasePages(slot: number, want: number): number {
    const b = slot * RECORD_STRIDE;
    const mb = slot * MAP_WORDS;
    const r = this.#rec;
    const first = keyAt(r, b) * REGION_PAGES;
    const oldWhere = r[b + WHERE]!;
    const oldFree = r[b + FREE]!;
    let n = 0;
    let last = -1;
    while (n < want && r[b + FREE]! > 0) {
      const bit = firstSetBit(this.#maps, mb + 1, REGION_WORDS, 2);
      last = first + bit;
      this.source.freePages(last, 0);
      const w = mb + 2 * (bit >>> 5);
      const m = ~(1 << (bit & 31));
      this.#maps[w]! &= m;
      this.#maps[w + 1]! &= m;
      r[b + FREE]--;
      r[b + HELD]--;
      this.#cached--;
      n++;
    }
    this.#shrunkPages += n;
    if (r[b + HELD] === 0) {
      const split = (r[b + FLAGS_NODE]! & SPLIT_BY_CACHE) !== 0;
      this.#dropRegion(slot, oldWhere, oldFree);
      if (split && this.directMap.collapse(last)) this.#collapses++;
    } else {
      this.#settle(slot, oldWhere, oldFree, false);
    }
    return n;
  }

  /** Reallocates the record table for `cap` slots, packing live regions into the low slots. O(cap). */
  #resize(cap: number): void {
    const a = this.#arena;
    const old = this.#cap;
    const rec = a.int32(cap * RECORD_STRIDE, "pte-cache region records");
    const maps = a.uint32(cap * MAP_WORDS, "pte-cache region page maps");
    const freeSlots = a.int32(cap, "pte-cache free slots");
    const index = new RegionIndex(a, cap * 2);
    for (let s = 0; s < cap; s++) {
      rec[s * RECORD_STRIDE + PREV] = -1;
      rec[s * RECORD_STRIDE + NEXT] = -1;
      rec[s * RECORD_STRIDE + WHERE] = -1;
    }
    const remap = new Int32Array(old).fill(-1);
    let k = 0;
    for (let s = 0; s < old; s++) {
      if ((this.#rec[s * RECORD_STRIDE + FLAGS_NODE]! & LIVE) !== 0) remap[s] = k++;
    }
    for (let s = 0; s < old; s++) {
      const ns = remap[s]!;
      if (ns < 0) continue;
      const from = s * RECORD_STRIDE;
      const to = ns * RECORD_STRIDE;
      for (let f = 0; f < RECORD_STRIDE; f++) rec[to + f] = this.#rec[from + f]!;
      const p = rec[to + PREV]!;
      const n = rec[to + NEXT]!;
      if (p >= 0) rec[to + PREV] = remap[p]!;
      if (n >= 0) rec[to + NEXT] = remap[n]!;
      for (let w = 0; w < MAP_WORDS; w++) maps[ns * MAP_WORDS + w] = this.#maps[s * MAP_WORDS + w]!;
      index.insert(keyAt(rec, to), ns);
    }
    let top = 0;
    for (let s = cap - 1; s >= k; s--) freeSlots[top++] = s;
    if (old > 0) {
      this.#lru.remap(remap);
      a.release(this.#rec);
      a.release(this.#maps);
      a.release(this.#freeSlots);
      this.#index.release();
    }
    this.#lru.attach(rec);
    this.#cap = cap;
    this.#rec = rec;
    this.#maps = maps;
    this.#freeSlots = freeSlots;
    this.#freeTop = top;
    this.#index = index;
  }
}

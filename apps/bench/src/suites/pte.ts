import { DirectMap, GiB, MemoryMap, MetadataArena, formatBytes, type ArrayFactory } from "@mmkit/physmem";
import { PteMappedCache, type PageSource } from "@mmkit/pte-cache";
import { churnFloor, churnSlots } from "../floors/index.js";
import type { Contender, Suite, SuiteContext } from "../harness/types.js";
import { SeededRandom } from "../workloads/random.js";

/**
 * The `pte` suite: the direct map under a churn of PTE-mapped pages (pages whose protection a user
 * changes, so their direct-map entry must be a 4 KiB PTE), with the PTE-mapped cache and without it.
 *
 * The machine is not idle: an ordinary workload (page-cache-like blocks of order 0..3, random
 * lifetimes, about a third of memory) churns beside the PTE-mapped pages, so the page allocator's
 * free lists hold pages from all over the memory it has touched, as on a running system. Without the
 * cache every PTE-mapped page is split where it lies (`splitToPages(pfn, 1)`, set_memory_4k); with it,
 * the cache refills from order-9 blocks and splits once per 512 pages.
 *
 * - fresh machine: booted, nothing allocated before the run (order-9 blocks are plentiful);
 * - fragmented machine: every page allocated once and a random half freed before the run, so no
 *   order-9 block is free and the cache must fall back to single pages.
 */

/** PTE-mapped allocations in the counted churn ("100k PTE-mapped allocations and frees"). */
const PTE_ALLOCATIONS = 100_000;
/** PTE-mapped pages live at once (16 MiB). */
const PTE_LIVE = 4096;
/** Ordinary-workload operations per PTE-mapped allocation. */
const BACKGROUND_PER_STEP = 2;
/** Ordinary-workload slots: one per this many pages (blocks average 2.5 pages: about 60% of memory in use). */
const BACKGROUND_SLOT_DIVISOR = 4;
/** Pressure request made of the shrinker at the end: 32 MiB of pages. */
const PRESSURE_PAGES = 8192;

/**
 * Bytes as MiB with one decimal, for notes (formatBytes of physmem drops a significant zero from
 * non-integer values of 100 units or more: 310.0 MiB prints as "31 MiB").
 */
function mib(bytes: number): string {
  return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}

/** A page source to build a system over: a name, and a factory for a fresh one over `map`. */
interface SourceKind {
  name: string;
  make(map: MemoryMap, arena: ArrayFactory): PageSource;
}

/** The narrow shapes needed from the sibling packages, loaded only when their builds exist. */
interface BuddyModule {
  BuddyAllocator: new (map: MemoryMap, options?: { arena?: ArrayFactory }) => { cpu(id: number): PageSource };
}
interface PotadModule {
  Potad: new (options?: { arena?: ArrayFactory }) => { addSpace(spec: { base: number; size: number; granule: number }): number; pageFace(space: number, pageSize?: number): PageSource };
}

async function tryImport<T>(specifier: string): Promise<T | null> {
  try {
    return (await import(specifier)) as T;
  } catch {
    return null;
  }
}

/**
 * A compact binary buddy allocator over one range of pages, used when neither @mmkit/buddy nor
 * @mmkit/potad is built: per-order free lists doubly linked through `Int32Array`s, LIFO (a freed
 * block is the next one handed out, as with the kernel's lists), merging on free, orders 0..10.
 */
function localBuddy(map: MemoryMap, arena: ArrayFactory): PageSource {
  const MAX = 10;
  const n = map.presentPages;
  const next = arena.int32(n, "local buddy next");
  const prev = arena.int32(n, "local buddy prev");
  const freeOrder = arena.int8(n, "local buddy free order"); // order of the free block headed here, or -1
  const allocOrder = arena.int8(n, "local buddy alloc order"); // order allocated here, or -1
  const heads = arena.int32(MAX + 1, "local buddy heads");
  freeOrder.fill(-1);
  allocOrder.fill(-1);
  heads.fill(-1);
  const push = (pfn: number, o: number): void => {
    const h = heads[o]!;
    next[pfn] = h;
    prev[pfn] = -1;
    if (h >= 0) prev[h] = pfn;
    heads[o] = pfn;
    freeOrder[pfn] = o;
  };
  const unlink = (pfn: number, o: number): void => {
    const p = prev[pfn]!;
    const x = next[pfn]!;
    if (p >= 0) next[p] = x;
    else heads[o] = x;
    if (x >= 0) prev[x] = p;
    freeOrder[pfn] = -1;
  };
  for (let pfn = 0; pfn < n; ) {
    let o = MAX;
    while (o > 0 && (pfn % (1 << o) !== 0 || pfn + (1 << o) > n)) o--;
    push(pfn, o);
    pfn += 1 << o;
  }
  return {
    allocPages(order) {
      let o = order;
      while (o <= MAX && heads[o]! < 0) o++;
      if (o > MAX) return -1;
      const pfn = heads[o]!;
      unlink(pfn, o);
      while (o > order) {
        o--;
        push(pfn + (1 << o), o);
      }
      allocOrder[pfn] = order;
      return pfn;
    },
    freePages(pfn, order) {
      if (allocOrder[pfn] !== order) throw new Error(`local buddy: free of ${pfn} order ${order}, allocated ${allocOrder[pfn]}`);
      allocOrder[pfn] = -1;
      let p = pfn;
      let o = order;
      while (o < MAX) {
        const b = p ^ (1 << o);
        if (b >= n || freeOrder[b] !== o) break;
        unlink(b, o);
        p = Math.min(p, b);
        o++;
      }
      push(p, o);
    },
  };
}

async function pageSources(ctx: SuiteContext): Promise<SourceKind[]> {
  const kinds: SourceKind[] = [];
  const buddy = await tryImport<BuddyModule>("@mmkit/buddy");
  if (buddy !== null) kinds.push({ name: "buddy (per-CPU)", make: (map, arena) => new buddy.BuddyAllocator(map, { arena }).cpu(0) });
  else ctx.log("@mmkit/buddy is not built (pnpm --filter @mmkit/buddy build): no rows over buddy");
  const potad = await tryImport<PotadModule>("@mmkit/potad");
  if (potad !== null) {
    kinds.push({
      name: "POTAD",
      make: (map, arena) => {
        const p = new potad.Potad({ arena });
        return p.pageFace(p.addSpace({ base: 0, size: map.presentBytes, granule: 4096 }), 4096);
      },
    });
  } else ctx.log("@mmkit/potad is not built (pnpm --filter @mmkit/potad build): no rows over POTAD");
  if (kinds.length === 0) {
    kinds.push({ name: "local buddy", make: localBuddy });
    ctx.log("page source: the suite's local binary buddy (LIFO lists, merging), since neither @mmkit/buddy nor @mmkit/potad is built");
  }
  return kinds;
}

/** How PTE-mapped pages are obtained: uncached (split where they lie), or through the cache. */
type Mode = "uncached" | "pte-cache" | "pte-cache + adopt";
const MODES: readonly Mode[] = ["uncached", "pte-cache", "pte-cache + adopt"];

/** The ordinary workload's block orders: mostly single pages, some 2/4/8-page blocks. */
function backgroundOrder(r: number): number {
  return r < 70 ? 0 : r < 80 ? 1 : r < 90 ? 2 : 3;
}

interface RunResult {
  splits2M: number;
  splits1G: number;
  directMap4k: number;
  directMap2M: number;
  directMap1G: number;
  failures: number;
  cache: PteMappedCache | null;
  directMap: DirectMap;
  /** The PTE-mapped pages live at the end. */
  live: Float64Array;
  cacheMetadata: number;
}

/**
 * Runs the counted churn on a fresh system over `kind`: `PTE_ALLOCATIONS` PTE-mapped allocations
 * with `PTE_LIVE` live (each new one replaces a random live one), `BACKGROUND_PER_STEP` ordinary
 * block replacements between them. The decisions are drawn from the run's seed, so every mode and
 * page source sees the same sequence.
 */
function runChurn(kind: SourceKind, mode: Mode, machine: number, fragmented: boolean, seed: number): RunResult {
  const map = MemoryMap.uniform(machine);
  const sourceArena = new MetadataArena();
  const source = kind.make(map, sourceArena);
  const directMap = new DirectMap(map);
  const cacheArena = new MetadataArena();
  const cache = mode === "uncached" ? null : new PteMappedCache({ source, directMap, arena: cacheArena });
  const adopt = mode === "pte-cache + adopt";
  const rng = new SeededRandom(seed, fragmented ? "pte/fragmented" : "pte/fresh");

  // The ordinary workload: slots of (pfn, order); -1 for an empty slot.
  const bgSlots = Math.floor(map.presentPages / BACKGROUND_SLOT_DIVISOR);
  const bgPfn = new Float64Array(bgSlots).fill(-1);
  const bgOrder = new Int8Array(bgSlots);
  const freeBackground = (slot: number): void => {
    const pfn = bgPfn[slot]!;
    if (pfn < 0) return;
    const order = bgOrder[slot]!;
    if (!(adopt && order === 0 && cache!.adopt(pfn))) source.freePages(pfn, order);
    bgPfn[slot] = -1;
  };
  if (fragmented) {
    // Every page allocated once, a random half freed; the other half is what the ordinary workload holds.
    const all = new Float64Array(map.presentPages);
    let count = 0;
    for (let p = source.allocPages(0); p >= 0; p = source.allocPages(0)) all[count++] = p;
    const shuffle = new SeededRandom(seed, "pte/fragment");
    for (let i = count - 1; i > 0; i--) {
      const j = shuffle.below(i + 1);
      const t = all[i]!;
      all[i] = all[j]!;
      all[j] = t;
    }
    const keep = Math.min(bgSlots, count >>> 1);
    for (let i = 0; i < keep; i++) {
      bgPfn[i] = all[i]!;
      bgOrder[i] = 0;
    }
    for (let i = keep; i < count; i++) source.freePages(all[i]!, 0);
  } else {
    for (let i = 0; i < bgSlots; i++) {
      const order = backgroundOrder(rng.below(100));
      bgPfn[i] = source.allocPages(order);
      bgOrder[i] = order;
    }
  }

  const live = new Float64Array(PTE_LIVE).fill(-1);
  let failures = 0;
  for (let step = 0; step < PTE_ALLOCATIONS; step++) {
    for (let b = 0; b < BACKGROUND_PER_STEP; b++) {
      const slot = rng.below(bgSlots);
      const order = backgroundOrder(rng.below(100));
      freeBackground(slot);
      bgPfn[slot] = source.allocPages(order);
      bgOrder[slot] = order;
    }
    const slot = step < PTE_LIVE ? step : rng.below(PTE_LIVE);
    const old = live[slot]!;
    if (old >= 0) {
      if (cache !== null) cache.free(old);
      else source.freePages(old, 0);
    }
    let pfn: number;
    if (cache !== null) pfn = cache.alloc();
    else {
      pfn = source.allocPages(0);
      if (pfn >= 0) directMap.splitToPages(pfn, 1);
    }
    if (pfn < 0) failures++;
    live[slot] = pfn;
  }
  const c = directMap.counters();
  return {
    splits2M: c.level2Splits,
    splits1G: c.level3Splits,
    directMap4k: c.directMap4k,
    directMap2M: c.directMap2M,
    directMap1G: c.directMap1G,
    failures,
    cache,
    directMap,
    live,
    cacheMetadata: cacheArena.bytes,
  };
}

function recordChurn(ctx: SuiteContext, kind: SourceKind, machine: number, fragmented: boolean): void {
  const workload = `${PTE_ALLOCATIONS / 1000}k PTE allocs, ${fragmented ? "fragmented" : "fresh"} ${formatBytes(machine)}`;
  let uncachedSplits = 0;
  // On a fresh machine the cache never falls back, so no region is remembered and adopt() takes
  // nothing: "pte-cache + adopt" would repeat "pte-cache" exactly.
  const modes = fragmented ? MODES : MODES.filter((m) => m !== "pte-cache + adopt");
  for (const mode of modes) {
    ctx.progress(`pte: ${kind.name}, ${fragmented ? "fragmented" : "fresh"}, ${mode}`, modes.indexOf(mode), modes.length);
    const r = runChurn(kind, mode, machine, fragmented, ctx.seed);
    const system = `${mode} / ${kind.name}`;
    const rec = (metric: string, value: number, unit: string, note?: string, ratio?: number) =>
      ctx.record({ system, workload, metric, value, unit, ...(note === undefined ? {} : { note }), ...(ratio === undefined ? {} : { ratio, ratioTo: `uncached / ${kind.name}` }) });
    if (mode === "uncached") uncachedSplits = r.splits2M;
    const ratio = mode === "uncached" || r.splits2M === 0 ? undefined : r.splits2M / uncachedSplits;
    const fewer = mode === "uncached" ? "vmstat direct_map_level2_splits" : `${r.splits2M === 0 ? "inf" : (uncachedSplits / r.splits2M).toFixed(1)}x fewer than uncached${fragmented ? "" : " (target >= 100x)"}`;
    rec("2M splits", r.splits2M, "count", fewer, ratio);
    rec("1G splits", r.splits1G, "count");
    rec("DirectMap4k", r.directMap4k, "bytes", `${mib(r.directMap4k)} at the end`);
    rec("DirectMap2M", r.directMap2M, "bytes");
    rec("DirectMap1G", r.directMap1G, "bytes");
    if (r.failures > 0) rec("failed allocs", r.failures, "count");
    if (r.cache === null) continue;
    const cache = r.cache;
    const s = cache.stats();
    rec("cache holds", (s.cachedPages + s.inUsePages) * 4096, "bytes", `${mib((s.cachedPages + s.inUsePages) * 4096)}: ${mib(s.cachedPages * 4096)} free, ${s.inUsePages} pages in use`);
    rec("refills / fallbacks", s.refills, "count", `${s.fallbacks} fallbacks, ${s.adopted} pages adopted`);
    rec("cache metadata", r.cacheMetadata, "bytes", `${s.regions} regions`);
    // A pressure request through the shrinker, as a registry would make it, while the users hold their pages...
    const dmBefore = r.directMap.counters();
    const freeable = Math.max(0, cache.shrinker.count({ nid: 0 }));
    const freed = Math.max(0, cache.shrinker.scan({ nid: 0, nrToScan: PRESSURE_PAGES }));
    const mid = cache.stats();
    rec("shrink, in use", freed * 4096, "bytes", `asked ${formatBytes(PRESSURE_PAGES * 4096)}, ${freeable} pages freeable: ${mid.shrinkerReturnedRegions} whole 2 MiB regions, ${mid.collapses} collapses`);
    // ...and again once they have freed them all.
    for (const pfn of r.live) if (pfn >= 0) cache.free(pfn);
    const freeable2 = Math.max(0, cache.shrinker.count({ nid: 0 }));
    const freed2 = Math.max(0, cache.shrinker.scan({ nid: 0, nrToScan: freeable2 }));
    const end = cache.stats();
    const dm = r.directMap.counters();
    rec("shrink, users gone", freed2 * 4096, "bytes", `${mib(freed2 * 4096)}: all ${freeable2} freeable pages asked: ${end.shrinkerReturnedRegions - mid.shrinkerReturnedRegions} whole 2 MiB regions, ${end.collapses - mid.collapses} collapses`);
    rec("DirectMap4k after shrinks", dm.directMap4k, "bytes", `${mib(dmBefore.directMap4k - dm.directMap4k)} folded back; cache keeps ${mib(end.cachedPages * 4096)}`);
    cache.check();
  }
}

/** Timed steady-state churn of PTE-mapped pages on a fresh 1 GiB machine (no ordinary workload). */
function timedContenders(kinds: SourceKind[], seed: number): Contender[] {
  const live = PTE_LIVE;
  const out: Contender[] = [churnFloor(live, { seed })];
  for (const kind of kinds) {
    out.push({
      name: `pte-cache / ${kind.name}`,
      setup() {
        const map = MemoryMap.uniform(1 * GiB);
        const directMap = new DirectMap(map);
        const cache = new PteMappedCache({ source: kind.make(map, new MetadataArena()), directMap });
        const held = new Float64Array(live);
        for (let i = 0; i < live; i++) held[i] = cache.alloc();
        const slots = churnSlots(seed, live, 1 << 16);
        let cursor = 0;
        return (ops) => {
          const c = cache;
          const h = held;
          const seq = slots;
          const mask = seq.length - 1;
          let k = cursor;
          let sum = 0;
          for (let i = 0; i < ops; i++) {
            const slot = seq[k]!;
            c.free(h[slot]!);
            const p = c.alloc();
            h[slot] = p;
            sum += p;
            k = (k + 1) & mask;
          }
          cursor = k;
          return sum;
        };
      },
    });
    out.push({
      name: `uncached / ${kind.name}`,
      setup() {
        const map = MemoryMap.uniform(1 * GiB);
        const directMap = new DirectMap(map);
        const source = kind.make(map, new MetadataArena());
        const held = new Float64Array(live);
        for (let i = 0; i < live; i++) {
          held[i] = source.allocPages(0);
          directMap.splitToPages(held[i]!, 1);
        }
        const slots = churnSlots(seed, live, 1 << 16);
        let cursor = 0;
        return (ops) => {
          const src = source;
          const dm = directMap;
          const h = held;
          const seq = slots;
          const mask = seq.length - 1;
          let k = cursor;
          let sum = 0;
          for (let i = 0; i < ops; i++) {
            const slot = seq[k]!;
            src.freePages(h[slot]!, 0);
            const p = src.allocPages(0);
            sum += dm.splitToPages(p, 1);
            h[slot] = p;
            sum += p;
            k = (k + 1) & mask;
          }
          cursor = k;
          return sum;
        };
      },
    });
  }
  return out;
}

const suite: Suite = {
  name: "pte",
  description: "PTE-mapped page churn (100k allocs, 4k live, beside an ordinary workload) with and without pte-cache, fresh and fragmented machine: 2M splits, DirectMap4k/2M/1G, memory held, what a shrink gives back",
  default: true,
  async run(ctx) {
    const kinds = await pageSources(ctx);
    const machine = ctx.quick ? 2 * GiB : 4 * GiB;
    for (const kind of kinds) {
      recordChurn(ctx, kind, machine, false);
      recordChurn(ctx, kind, machine, true);
    }
    ctx.log(
      `PTE-mapped pages: ${PTE_LIVE} live, ${PTE_ALLOCATIONS} allocated in all, ${BACKGROUND_PER_STEP} ordinary block replacements (orders 0-3, ${formatBytes(machine / 8)} of slots) per allocation. ` +
        `"uncached" splits each page's direct-map entry where it lies; "pte-cache + adopt" also offers ordinary order-0 frees to the cache.`,
    );
    ctx.time(`PTE-mapped alloc+free, ${PTE_LIVE / 1024}k live`, timedContenders(kinds, ctx.seed), { floor: "Int32Array stack" });
  },
};

export default suite;

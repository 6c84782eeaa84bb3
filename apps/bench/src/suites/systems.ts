import { MiB } from "@mmkit/physmem";
import { churnFloor, churnSlots, flatLookupFloor } from "../floors/index.js";
import type { Suite, SuiteContext, TimingResult } from "../harness/types.js";
import { buildSystem, type BuildOptions } from "../systems/build.js";
import type { SystemDefinition } from "../systems/definition.js";
import { cacheBytes, fragmentation, freeBlocksPerOrder, highOrderSuccess, memdescFigures, metadataFigures, type MemdescPageFigures } from "../systems/metrics.js";
import { selectedSystems } from "../systems/selection.js";
import { recordTraceReplay as recordStreamedReplay, replayProfile } from "./trace-replay-run.js";
import { randomIndices } from "../workloads/random.js";
import { randomRanges } from "../workloads/ranges.js";
import { bytesAllocatedByFrees, imixChurn, imixSizes, pageChurn, probeLinesPerOp, pteChurn, runPageChurn, subPageChurn, type LinesPerOp } from "../workloads/system-churn.js";
import { contiguousOnFragmented, Q7_SHAPE } from "../workloads/contiguous.js";
import { failureLookups, pressureWithSwap, pteSplits } from "../workloads/system-state.js";
import { recordKernelComparisons } from "../workloads/kernel-start-replay.js";

/**
 * Whole systems (`classic`, `memdesc` and the crossings) under every workload they support. Each
 * workload group is an exported function, so the answers suite runs the same code on its own
 * selection and reads the figures it records.
 */

const FLOOR = "Int32Array stack";
const SEQUENCE = 1 << 16;

/** Sizes of one run: the quick profile keeps a suite to seconds. */
export interface Profile {
  /** RAM of each system. */
  bytes: number;
  /** Live allocations in the page churns. */
  live: number;
  /** Live fragments in the IMIX churn, live PTE-mapped pages. */
  fragLive: number;
  pteLive: number;
  /** Probed churn steps (lines/op). */
  probeOps: number;
  /** Untimed PTE churn steps for the split counts. */
  pteOps: number;
  /** RAM and touches of the pressure workload. */
  pressureBytes: number;
  touches: number;
  /** Timing rounds (undefined: the harness default). */
  rounds?: number;
}

/** The profile for a run: smaller machines and counts when `quick`. */
export function profileFor(quick: boolean): Profile {
  return quick
    ? { bytes: 64 * MiB, live: 2_000, fragLive: 2_000, pteLive: 1_000, probeOps: 300, pteOps: 8_000, pressureBytes: 8 * MiB, touches: 6_000 }
    : { bytes: 256 * MiB, live: 10_000, fragLive: 10_000, pteLive: 4_000, probeOps: 1_000, pteOps: 40_000, pressureBytes: 16 * MiB, touches: 30_000 };
}

const byName = (results: TimingResult[], name: string): TimingResult | undefined => results.find((r) => r.name === name);

/** Order-0 or mixed-order page churn through each system's face, beside the churn floor. Returns ns/op by system. */
export function timePageChurn(ctx: SuiteContext, defs: readonly SystemDefinition[], p: Profile, mixed: boolean): Map<string, TimingResult> {
  const slots = churnSlots(ctx.seed, p.live, SEQUENCE);
  const orders = mixed ? randomIndices(ctx.seed, "systems/orders", SEQUENCE, 4) : new Int32Array(SEQUENCE);
  const workload = `${mixed ? "mixed orders 0-3" : "order-0"} churn, ${p.live / 1000}k live`;
  const build: BuildOptions = { bytes: p.bytes };
  const results = ctx.time(workload, [churnFloor(p.live, { seed: ctx.seed }), ...defs.map((d) => pageChurn(d, build, p.live, slots, orders))], { floor: FLOOR, note: "alloc+free through the system's face (allocator + descriptor table)", ...(p.rounds ? { rounds: p.rounds } : {}) });
  return new Map(defs.map((d) => [d.name, byName(results, d.name)!]));
}

/** Lines per op (allocator and descriptor table apart) of the mixed-order churn, from probing builds. */
export function recordLinesPerOp(ctx: SuiteContext, defs: readonly SystemDefinition[], p: Profile): Map<string, LinesPerOp> {
  const slots = churnSlots(ctx.seed, p.live, SEQUENCE);
  const orders = randomIndices(ctx.seed, "systems/orders", SEQUENCE, 4);
  const workload = `mixed orders 0-3 churn, ${p.live / 1000}k live`;
  const out = new Map<string, LinesPerOp>();
  for (const d of defs) {
    const lines = probeLinesPerOp(d, { bytes: p.bytes }, p.live, p.probeOps, slots, orders);
    out.set(d.name, lines);
    ctx.record({ system: d.name, workload, metric: "lines/op allocator", value: lines.allocator, unit: "lines", note: `probe, ${p.probeOps} frees + allocs after ${lines.warmup} uncounted; worst op ${lines.maxAllocator}` });
    ctx.record({ system: d.name, workload, metric: "lines/op descriptors", value: lines.descriptors, unit: "lines" });
  }
  return out;
}

/** Metadata, buddyinfo-style free blocks, fragmentation and high-order success after a mixed-order churn. */
export function recordSystemState(ctx: SuiteContext, defs: readonly SystemDefinition[], p: Profile): Map<string, { perPage: number; byComponent: Record<string, number>; memdescs: MemdescPageFigures | null }> {
  const slots = churnSlots(ctx.seed, p.live, SEQUENCE);
  const orders = randomIndices(ctx.seed, "systems/orders", SEQUENCE, 4);
  const workload = `after mixed churn, ${p.bytes / MiB} MiB`;
  const out = new Map<string, { perPage: number; byComponent: Record<string, number>; memdescs: MemdescPageFigures | null }>();
  for (const d of defs) {
    const system = buildSystem(d, { bytes: p.bytes });
    runPageChurn(system, p.live, slots, orders, SEQUENCE);
    system.check();
    const meta = metadataFigures(system);
    out.set(d.name, { perPage: meta.perPage, byComponent: meta.byComponent, memdescs: memdescFigures(system) });
    const parts = Object.entries(meta.byComponent).filter(([, b]) => b > 0).map(([c, b]) => `${c} ${(b / system.managedPages).toFixed(2)}`);
    ctx.record({ system: d.name, workload, metric: "metadata/page", value: meta.perPage, unit: "bytes", note: parts.join(", ") });
    ctx.record({ system: d.name, workload, metric: "metadata/managed byte", value: 100 * meta.perManagedByte, unit: "%" });
    const md = memdescFigures(system);
    if (md !== null) {
      ctx.record({ system: d.name, workload, metric: "memdesc bytes/page", value: md.bytesPerPage, unit: "bytes", note: `${md.slabPages} slab pages hold ${md.memdescs} memdescs and their slab descriptors, for ${system.pages.livePages} live pages; struct page: 64 B per page` });
      ctx.record({ system: d.name, workload, metric: "memdesc recursion depth", value: md.maxDepth, unit: "count", note: `${md.slabsAtDepth[0]} slabs made at depth 1, ${md.slabsAtDepth[1]} at depth 2 (a descriptor slab for a slab's descriptor)` });
    }
    const frag = fragmentation(system, 9);
    ctx.record({ system: d.name, workload, metric: "free blocks", value: freeBlocksPerOrder(system).reduce((a, b) => a + b, 0), unit: "count", note: `by order: ${freeBlocksPerOrder(system).join(" ")}` });
    ctx.record({ system: d.name, workload, metric: "unusable free (order 9)", value: frag.unusableFree / 10, unit: "%" });
    ctx.record({ system: d.name, workload, metric: "extfrag (order 9)", value: frag.extfrag, unit: "x1000", note: "-1000: an order-9 block is free" });
    const attempts = 16;
    const ok = highOrderSuccess(system, 9, attempts);
    ctx.record({ system: d.name, workload, metric: "order-9 success", value: (100 * ok) / attempts, unit: "%", note: `${ok} of ${attempts}` });
    // The caches in use: IMIX fragments and PTE-mapped pages, then what they hold and what the direct map paid.
    const sizes = imixSizes(ctx.seed, SEQUENCE);
    for (let i = 0; i < p.fragLive; i++) system.fragmentCache?.alloc(sizes[i]!);
    for (let i = 0; i < p.pteLive; i++) system.allocPteMapped();
    const held = cacheBytes(system);
    ctx.record({ system: d.name, workload, metric: "frag cache holds", value: held.fragmentCache, unit: "bytes", note: `${p.fragLive} IMIX fragments live` });
    ctx.record({ system: d.name, workload, metric: "pte cache holds", value: held.pteCache, unit: "bytes", note: `${p.pteLive} PTE-mapped pages in use` });
    ctx.record({ system: d.name, workload, metric: "2M splits", value: system.machine.directMap.counters().level2Splits, unit: "count" });
    system.check();
  }
  return out;
}

/** Sub-page allocations with descriptors (POTAD systems). */
export function timeSubPage(ctx: SuiteContext, defs: readonly SystemDefinition[], p: Profile): void {
  const potadDefs = defs.filter((d) => d.pageAllocator === "potad");
  if (potadDefs.length === 0) return;
  const live = p.live / 2;
  const slots = churnSlots(ctx.seed, live, SEQUENCE);
  const sizes = randomIndices(ctx.seed, "systems/sub-page-sizes", SEQUENCE, 8);
  ctx.time(`512 B..64 KiB + memdesc, ${live / 1000}k live`, [churnFloor(live, { seed: ctx.seed }), ...potadDefs.map((d) => subPageChurn(d, { bytes: p.bytes }, live, slots, sizes))], { floor: FLOOR, note: "buddy systems: no sub-page sizes" });
}

/** IMIX receive fragments through each system's page_frag_cache. */
export function timeImix(ctx: SuiteContext, defs: readonly SystemDefinition[], p: Profile): Map<string, TimingResult> {
  const withCache = defs.filter((d) => d.fragmentCache);
  const slots = churnSlots(ctx.seed, p.fragLive, SEQUENCE);
  const sizes = imixSizes(ctx.seed, SEQUENCE);
  const results = ctx.time(`IMIX fragments, ${p.fragLive / 1000}k live`, [churnFloor(p.fragLive, { seed: ctx.seed }), ...withCache.map((d) => imixChurn(d, { bytes: p.bytes }, p.fragLive, slots, sizes))], { floor: FLOOR, note: "page_frag_cache over the system's face", ...(p.rounds ? { rounds: p.rounds } : {}) });
  return new Map(withCache.map((d) => [d.name, byName(results, d.name)!]));
}

/** The same definition without its PTE-mapped cache (one field changed). */
export function withoutPteCache(d: SystemDefinition): SystemDefinition {
  return { ...d, name: `${d.name} -pte`, description: `${d.description}, no PTE-mapped cache`, pteCache: false };
}

/** PTE-mapped churn, timed, and 2 MiB direct-map splits with and without the PTE-mapped cache. */
export function recordPte(ctx: SuiteContext, defs: readonly SystemDefinition[], p: Profile, timed: boolean): Map<string, { with: number; without: number; held: number; heldFree: number; allocs: number }> {
  const out = new Map<string, { with: number; without: number; held: number; heldFree: number; allocs: number }>();
  const workload = `PTE-mapped churn, ${p.pteLive / 1000}k live`;
  const variants = defs.flatMap((d) => (d.pteCache ? [d, withoutPteCache(d)] : [d]));
  if (timed) {
    const slots = churnSlots(ctx.seed, p.pteLive, SEQUENCE);
    ctx.time(workload, [churnFloor(p.pteLive, { seed: ctx.seed }), ...variants.map((d) => pteChurn(d, { bytes: p.bytes }, p.pteLive, slots))], { floor: FLOOR, note: "-pte: a page and a direct-map split each" });
  }
  for (const d of defs) {
    if (!d.pteCache) continue;
    const w = pteSplits(d, { bytes: p.bytes }, ctx.seed, p.pteLive, p.pteOps);
    const wo = pteSplits(withoutPteCache(d), { bytes: p.bytes }, ctx.seed, p.pteLive, p.pteOps);
    ctx.record({ system: d.name, workload, metric: "2M splits", value: w.splits, unit: "count", note: `${w.allocs} PTE-mapped allocs` });
    ctx.record({ system: withoutPteCache(d).name, workload, metric: "2M splits", value: wo.splits, unit: "count", note: "no PTE-mapped cache" });
    ctx.record({ system: d.name, workload, metric: "pte cache holds", value: w.cacheBytes, unit: "bytes", note: `${w.freeCacheBytes} B of it free` });
    out.set(d.name, { with: w.splits, without: wo.splits, held: w.cacheBytes, heldFree: w.freeCacheBytes, allocs: w.allocs });
  }
  return out;
}

/** Memory pressure with reclaim and swap to a file, per system. */
export function recordPressure(ctx: SuiteContext, defs: readonly SystemDefinition[], p: Profile): void {
  const workload = `pressure: anon 2x RAM of ${p.pressureBytes / MiB} MiB, swap file`;
  for (const d of defs) {
    const r = pressureWithSwap(d, { bytes: p.pressureBytes }, ctx.seed, p.touches);
    ctx.record({ system: d.name, workload, metric: "swapped out", value: r.swappedOut, unit: "pages", note: `${r.touches} random touches` });
    ctx.record({ system: d.name, workload, metric: "faulted in", value: r.faultsIn, unit: "pages", note: `${r.corrupted} came back wrong` });
    ctx.record({ system: d.name, workload, metric: "pte cache shrunk", value: r.pteCacheReturnedPages, unit: "pages", note: "through the registry" });
    ctx.record({ system: d.name, workload, metric: "touch failures", value: r.failed, unit: "count", note: `${r.reclaimSlowPaths} direct-reclaim slow paths` });
    if (r.corrupted > 0) throw new Error(`${d.name}: ${r.corrupted} pages came back from swap with the wrong bytes`);
  }
}

/** Memory-failure lookups (physToDesc of random addresses) per system, beside the flat lookup floor. */
export function timeFailureLookups(ctx: SuiteContext, defs: readonly SystemDefinition[], p: Profile): Map<string, TimingResult> {
  const pages = p.bytes / 4096;
  const layout = randomRanges({ count: Math.floor(pages / 3.75), maxOrder: 3, seed: ctx.seed });
  const results = ctx.time(
    `memory-failure lookups, ${p.bytes / MiB} MiB 70% allocated`,
    [flatLookupFloor(layout, { seed: ctx.seed }), ...defs.map((d) => failureLookups(d, { bytes: p.bytes }, ctx.seed, 0.7))],
    { floor: "flat Int32Array", note: "address -> memdesc, range and owner", ...(p.rounds ? { rounds: p.rounds } : {}) },
  );
  return new Map(defs.map((d) => [d.name, byName(results, d.name)!]));
}

/** Memory failure end to end per system: an anon page, a fragment-cache page and a free page poisoned. */
export function recordMemoryFailure(ctx: SuiteContext, defs: readonly SystemDefinition[], p: Profile): void {
  const workload = "memory failure: anon, net-pool and free page poisoned";
  for (const d of defs) {
    const system = buildSystem(d, { bytes: p.bytes });
    const anon = system.pages.allocPages(0);
    const frag = system.fragmentCache?.alloc(1500) ?? -1;
    system.machine.poison(anon, "bench");
    if (frag >= 0) system.machine.poison(Math.floor(frag / system.pageSize), "bench");
    system.machine.poison(system.managedPages - 1, "bench");
    system.pages.freePages(anon, 0);
    ctx.record({ system: d.name, workload, metric: "owners told", value: system.failureNotices.length, unit: "count", note: system.failureNotices.map((n) => n.owner).join(", ") });
    ctx.record({ system: d.name, workload, metric: "quarantined", value: system.pages.quarantinedPages, unit: "pages", note: `${system.freePagesPoisoned} free page(s) poisoned` });
    system.dispose();
  }
}

/** Contiguous 8 MiB@1 MiB requests on a fragmented machine (see `fragmentSystem`), each system as built. */
export function recordContiguous(ctx: SuiteContext, defs: readonly SystemDefinition[], p: Profile): Map<string, { served: number; attempts: number }> {
  const workload = `8 MiB@1 MiB, ${p.bytes / MiB} MiB with 1/1024 blocks kept (1 in 8 slab)`;
  const out = new Map<string, { served: number; attempts: number }>();
  for (const d of defs) {
    const r = contiguousOnFragmented(d, { bytes: p.bytes }, ctx.seed, Q7_SHAPE);
    out.set(d.name, r);
    ctx.record({ system: d.name, workload, metric: "served", value: (100 * r.served) / r.attempts, unit: "%", note: `${r.served} of ${r.attempts}${d.pageAllocator === "buddy" ? " (one block, no compaction; max order 4 MiB)" : ""}` });
  }
  return out;
}

/** Metadata bytes allocated while freeing everything. */
export function recordFreeMetadata(ctx: SuiteContext, defs: readonly SystemDefinition[], p: Profile): Map<string, number> {
  const orders = randomIndices(ctx.seed, "systems/orders", SEQUENCE, 4);
  const out = new Map<string, number>();
  for (const d of defs) {
    const r = bytesAllocatedByFrees(d, { bytes: p.bytes }, p.live, orders);
    out.set(d.name, r.bytes);
    ctx.record({ system: d.name, workload: `free ${p.live / 1000}k mixed-order allocations`, metric: "metadata allocated", value: r.bytes, unit: "bytes", note: `during ${r.frees} frees, all components` });
  }
  return out;
}

/** Trace replay through every system, streamed (see `trace-replay-run.ts`); `p` only says quick or full. */
export async function recordTraceReplay(ctx: SuiteContext, defs: readonly SystemDefinition[], _p: Profile): Promise<void> {
  await recordStreamedReplay(ctx, defs, replayProfile(ctx.quick));
}

const suite: Suite = {
  name: "systems",
  description: "Whole systems (classic, memdesc, buddy+maple, potad+memmap, potad+memdesc8) under every workload: churns, sub-page, IMIX, PTE, pressure+swap, memory failure, 8 MiB@1 MiB, trace replay",
  default: false,
  async run(ctx) {
    const defs = selectedSystems();
    const p = profileFor(ctx.quick);
    const steps = 11;
    let step = 0;
    const next = (label: string): void => ctx.progress(label, step++, steps);
    next("order-0 churn");
    timePageChurn(ctx, defs, p, false);
    next("mixed churn");
    timePageChurn(ctx, defs, p, true);
    next("system state");
    recordSystemState(ctx, defs, p);
    next("sub-page");
    timeSubPage(ctx, defs, p);
    next("IMIX");
    timeImix(ctx, defs, p);
    next("PTE-mapped");
    recordPte(ctx, defs, p, true);
    next("pressure");
    recordPressure(ctx, defs, p);
    next("memory failure");
    timeFailureLookups(ctx, defs, p);
    recordMemoryFailure(ctx, defs, p);
    next("contiguous");
    recordContiguous(ctx, defs, p);
    recordFreeMetadata(ctx, defs, p);
    next("trace replay");
    await recordTraceReplay(ctx, defs, p);
    // The kernel's own start and end, when /proc snapshots come with a trace (issue 21).
    await recordKernelComparisons(ctx);
    // After every timing: a probe runs the library's code over ProbingArena's proxy arrays, which
    // leaves V8's feedback for that code generic for the rest of the process (the harness refuses
    // to time after one).
    next("lines/op");
    recordLinesPerOp(ctx, defs, p);
    ctx.progress("done", steps, steps);
  },
};

export default suite;

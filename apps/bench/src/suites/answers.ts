import { MiB } from "@mmkit/physmem";
import type { Measurement, Suite, SuiteContext } from "../harness/types.js";
import { q8FromMeasurements, q8Sentence } from "../q8/figures.js";
import { measureMemdescRcu } from "../q8/measure.js";
import { crossovers, curveOf } from "../report/crossover.js";
import { systemNamed, type SystemDefinition } from "../systems/definition.js";
import { SCALE_WORKLOADS, liveLabel } from "./scale.js";
import { Q7_NAMES, q7Contenders, q7Size, recordContiguousComparison, seedsFrom, type ContiguousSummary } from "./contiguous-comparison.js";
import { recordFreeMetadata, recordLinesPerOp, recordPte, recordSystemState, timeFailureLookups, timeImix, timePageChurn, type Profile } from "./systems.js";

/** The questions of the memdesc / POTAD discussion (issue 9; Q8 from issue 18), in order. */
export const QUESTIONS = [
  "What does the memdesc design cost in CPU per operation, and what does it save in memory?",
  "Is the maple tree fast enough for physical-address-to-descriptor lookup?",
  "Does the buddy allocator touch too many cache lines, and does POTAD touch fewer?",
  "Does a page-fragment cache over POTAD lose anything against one over the buddy allocator?",
  "How many direct-map splits does the PTE-mapped cache save, and what does it hold on to?",
  "Can freeing be done without allocating metadata?",
  "How often can a contiguous 8 MiB@1 MiB request be served on a fragmented machine, buddy vs POTAD?",
  "Can a lockless lookup survive a memdesc being freed: does get-unless-zero plus a re-check stay safe when memdescs are type-stable (SLAB_TYPESAFE_BY_RCU), and what does that cost?",
] as const;

/** The answers' sizes: a 64 MiB machine either way (the default run stays near a minute); quick takes fewer rounds. */
export function answersProfile(quick: boolean): Profile {
  return { bytes: 64 * MiB, live: 2_000, fragLive: 2_000, pteLive: 1_000, probeOps: quick ? 200 : 500, pteOps: quick ? 4_000 : 8_000, pressureBytes: 8 * MiB, touches: 0, rounds: 10 };
}

/** The Q8 measurement the answers run themselves when the memdesc-rcu suite did not run before them. */
const Q8_SHORT_RUN = { rounds: 2, lookups: 50_000 };

const ns = (v: number): string => (v >= 1000 ? `${(v / 1000).toFixed(2)} µs` : `${v.toFixed(v < 10 ? 1 : 0)} ns`);
const x = (v: number): string => `${v.toFixed(v < 10 ? 2 : 1)}x`;

/**
 * A sentence on how two designs' figures move with the live set, from the `scale` (or `scale-full`)
 * suite's curves in `earlier`: both figures and their ratio at the smallest and the largest size,
 * then where one overtakes the other (becomes the lower), or that one stays lower over the range.
 * Undefined when no scale suite ran before. O(earlier).
 *
 * @example
 * ```ts
 * scaleClause(ctx.earlier, SCALE_WORKLOADS.systems, "ns/op", "memdesc", "classic", ns);
 * // "memdesc against classic: 620 ns vs 100 ns at 1k live (6.20x), ...; classic stays the lower over the whole range, no crossover"
 * ```
 */
export function scaleClause(earlier: readonly Measurement[], workload: string, metric: string, a: string, b: string, format: (v: number) => string): string | undefined {
  const points = ["scale-full", "scale"].map((suite) => curveOf(earlier, suite, workload, metric, a, b)).find((p) => p.length > 0);
  if (points === undefined) return undefined;
  const first = points[0]!;
  const last = points[points.length - 1]!;
  const at = (p: { at: number; a: number; b: number }): string => `${format(p.a)} vs ${format(p.b)} at ${liveLabel(p.at)} live (${x(p.a / p.b)})`;
  const found = crossovers(points);
  const verdict =
    points.length < 2
      ? ""
      : found.length === 0
        ? `; ${first.a < first.b ? a : b} stays the lower over the whole range, no crossover`
        : found.map((c) => `; ${c.lower === "a" ? a : b} overtakes (becomes the lower) between ${liveLabel(c.from)} and ${liveLabel(c.to)} live`).join("");
  return `${a} against ${b}: ${at(first)}${points.length > 1 ? `, ${at(last)}` : ""}${verdict}`;
}

/** The scale sentence of an answer, or a pointer to the suite that gives it. */
function atScale(ctx: SuiteContext, what: string, workload: string, metric: string, a: string, b: string, format: (v: number) => string): string {
  const clause = scaleClause(ctx.earlier ?? [], workload, metric, a, b, format);
  return clause === undefined ? ` At scale: run the scale suite before this one (the default run does) for ${what} from 1k to 1M live pages.` : ` At scale (${what}, scale suite): ${clause}.`;
}

const linesText = (v: number): string => `${v.toFixed(2)} lines`;

/** Served share of all requests, in %. */
const share = (s: ContiguousSummary): number => (100 * s.served) / s.attempts;

/** "61% (39-42 of 64 a seed)": the share over all seeds and the range of a seed. */
function served(s: ContiguousSummary, seeds: number): string {
  const per = s.attempts / seeds;
  const lo = Math.round((s.minPct * per) / 100);
  const hi = Math.round((s.maxPct * per) / 100);
  return `${share(s).toFixed(0)}% (${lo === hi ? `${lo}` : `${lo}-${hi}`} of ${per} a seed)`;
}

/** Q7's answer from the contiguous comparison. */
function q7Sentence(c: Map<string, ContiguousSummary>, bytes: number, seeds: number): string {
  const potad = c.get(Q7_NAMES.potad)!;
  const contig = c.get(Q7_NAMES.contigRange)!;
  const cma = c.get(Q7_NAMES.cma)!;
  const compacting = c.get(Q7_NAMES.compaction)!;
  const order11 = c.get(Q7_NAMES.order11)!;
  const perRequest = (s: ContiguousSummary): string => `${s.migratedPerRequest === 0 ? "no page migrated" : `${s.migratedPerRequest.toFixed(1)} pages migrated`} and ${ns(s.nsPerRequest)} per request`;
  return (
    `On ${seeds} seeds of a ${bytes / MiB} MiB machine filled with orders 0-3 (1 in 8 allocations slab, the rest anon) and then freed but for 1/1024 of each kind, ${potad.attempts / seeds} requests a seed for 8 MiB at 1 MiB: ` +
    `POTAD's halving fallback served ${served(potad, seeds)}, ${perRequest(potad)} (POTAD has no migration, so none was built for it); ` +
    `the buddy allocator with alloc_contig_range and migration (alloc_contig_pages: isolate the pageblocks, move their movable pages out) ${served(contig, seeds)}, ${perRequest(contig)}; ` +
    `the same with a CMA area of a quarter of RAM (movable allocations only; contiguous requests look there first) ${served(cma, seeds)}, ${perRequest(cma)}; ` +
    `with direct compaction only (its max order raised to 11, so 8 MiB is one block) ${served(compacting, seeds)}, ${perRequest(compacting)}; ` +
    `with neither, ${served(order11, seeds)} at max order 11, and none at the default max order 10 (its largest block is 4 MiB). ` +
    `What the buddy cannot serve after migrating is held by the kept slab pages, which never move; mobility grouping keeps them in few pageblocks. ` +
    `alloc_contig_range against POTAD: ${x(share(contig) / share(potad))} the requests served.`
  );
}

/**
 * One answer: recorded as metric "answer" (the key figure in `value`; the question, a newline and the
 * sentence in `note`, so the JSON and HTML state both) and logged.
 */
function answer(ctx: SuiteContext, n: number, system: string, value: number, unit: string, sentence: string): void {
  ctx.record({ system, workload: `Q${n}`, metric: "answer", value, unit, note: `${QUESTIONS[n - 1]}\n${sentence}` });
  ctx.log(`Q${n}. ${QUESTIONS[n - 1]}`);
  ctx.log(`  ${sentence}`);
}

/**
 * The answers: runs the workloads each question needs on `classic` and `memdesc` (and the crossing
 * `potad+memdesc8` for the lookup), records their figures, and states each answer from them.
 */
const suite: Suite = {
  name: "answers",
  description: "The 8 questions of the memdesc/POTAD discussion, each answered from figures measured in this run (classic vs memdesc; Q8 from the memdesc-rcu suite)",
  default: true,
  async run(ctx) {
    const classic = systemNamed("classic")!;
    const memdesc = systemNamed("memdesc")!;
    const memdesc8 = systemNamed("potad+memdesc8")!;
    const pair: SystemDefinition[] = [classic, memdesc];
    const p = answersProfile(ctx.quick);
    const total = 8;
    ctx.progress("answers", 0, total);

    // Q1: CPU per operation beside metadata per page. The memdesc system's memdescs come from slab
    // caches; the same system with counted memdescs (no memory, no slab) shows what that costs.
    const counted: SystemDefinition = { ...memdesc, name: "memdesc, counted memdescs", description: "memdesc with each memdesc a counted handle (no slab caches)", memdescsFromSlab: false };
    const order0 = timePageChurn(ctx, [classic, memdesc, memdesc8, counted], p, false);
    const mixed = timePageChurn(ctx, pair, p, true);
    const state = recordSystemState(ctx, pair, p);
    const c0 = order0.get("classic")!;
    const m0 = order0.get("memdesc")!;
    const e0 = order0.get("potad+memdesc8")!;
    const k0 = order0.get(counted.name)!;
    const cm = mixed.get("classic")!;
    const mm = mixed.get("memdesc")!;
    const cMeta = state.get("classic")!;
    const mMeta = state.get("memdesc")!;
    const cost = m0.nsPerOp / c0.nsPerOp;
    const md = mMeta.memdescs!;
    answer(
      ctx,
      1,
      "memdesc vs classic",
      cost,
      "ratio",
      `memdesc takes ${ns(m0.nsPerOp)} per order-0 alloc+free against classic's ${ns(c0.nsPerOp)} (${x(cost)}; mixed orders 0-3: ${ns(mm.nsPerOp)} vs ${ns(cm.nsPerOp)}, ${x(mm.nsPerOp / cm.nsPerOp)}), ` +
        `and keeps ${mMeta.perPage.toFixed(1)} B of metadata per 4 KiB page against ${cMeta.perPage.toFixed(1)} B (${(100 * (1 - mMeta.perPage / cMeta.perPage)).toFixed(0)}% less; ` +
        `classic: ${(cMeta.byComponent.allocator! / (p.bytes / 4096)).toFixed(1)} B buddy struct page + ${(cMeta.byComponent.descriptors! / (p.bytes / 4096)).toFixed(1)} B memmap). ` +
        `memdesc's memdescs are real objects from slab caches (seed 001: folio_cache, slab descriptors from the slab cache, kept in their own page; recursion depth ${md.maxDepth} seen): ` +
        `${md.bytesPerPage.toFixed(1)} B of slab memory per live page beside the 64-byte struct page, counted in its metadata above; ` +
        `with each memdesc a counted handle instead the same system takes ${ns(k0.nsPerOp)} (${x(k0.nsPerOp / c0.nsPerOp)} classic), so the slab caches add ${ns(m0.nsPerOp - k0.nsPerOp)} (${(100 * (m0.nsPerOp / k0.nsPerOp - 1)).toFixed(0)}%). ` +
        // Where memdesc's extra cost over classic goes, as the three variants split it.
        `Of the ${ns(m0.nsPerOp - c0.nsPerOp)} memdesc costs above classic, the slab caches take ${ns(m0.nsPerOp - k0.nsPerOp)}, the maple tree's store and erase ${ns(k0.nsPerOp - e0.nsPerOp)} ` +
        `(POTAD with an 8-byte memdesc array instead takes ${ns(e0.nsPerOp)}, ${x(e0.nsPerOp / c0.nsPerOp)} classic) and POTAD with that array ${ns(e0.nsPerOp - c0.nsPerOp)} ` +
        `(medians, so a share can read below zero in a noisy run).` +
        atScale(ctx, "order-0 alloc+free through each system's face", SCALE_WORKLOADS.systems, "ns/op", "memdesc", "classic", ns),
    );
    ctx.progress("answers", 1, total);

    // Q2: physToDesc through the maple tree vs the flat memmaps.
    const lookups = timeFailureLookups(ctx, [classic, memdesc, memdesc8], p);
    const lc = lookups.get("classic")!;
    const lm = lookups.get("memdesc")!;
    const l8 = lookups.get("potad+memdesc8")!;
    answer(
      ctx,
      2,
      "maple vs memmap",
      lm.nsPerOp / lc.nsPerOp,
      "ratio",
      `A memory-failure lookup (address -> memdesc, range, owner) takes ${ns(lm.nsPerOp)} through the maple tree against ${ns(lc.nsPerOp)} through the 64-byte memmap (${x(lm.nsPerOp / lc.nsPerOp)}) ` +
        `and ${ns(l8.nsPerOp)} through an 8-byte memdesc array; the flat Int32Array floor is ${ns(lm.nsPerOp / lm.ratio!)} (maple: ${x(lm.ratio!)} the floor).` +
        atScale(ctx, "the tables' own pfn -> memdesc lookups of random live pages", SCALE_WORKLOADS.lookups, "ns/op", "maple", "memmap-64", ns),
    );
    ctx.progress("answers", 2, total);

    // Q4's timing before Q3's probe: a probe runs the library's code over ProbingArena's proxy
    // arrays, which leaves V8's feedback for that code generic for the rest of the process.
    const imix = timeImix(ctx, pair, p);

    // Q3: lines per op, allocator alone.
    const lines = recordLinesPerOp(ctx, pair, p);
    const lb = lines.get("classic")!;
    const lp = lines.get("memdesc")!;
    answer(
      ctx,
      3,
      "POTAD vs buddy",
      lp.allocator / lb.allocator,
      "ratio",
      `Per alloc or free of mixed orders 0-3 (${p.live} live, ${p.probeOps} steps counted after ${lb.warmup} uncounted), the buddy allocator with per-CPU lists touches ${lb.allocator.toFixed(2)} cache lines of its metadata and POTAD ${lp.allocator.toFixed(2)} ` +
        `(${x(lp.allocator / lb.allocator)}); the descriptor table adds ${lb.descriptors.toFixed(2)} (64-byte memmap) and ${lp.descriptors.toFixed(2)} (maple tree).` +
        atScale(ctx, "order-0 churn, lines/op", SCALE_WORKLOADS.allocators, "lines/op", "potad page face", "buddy per-CPU", linesText) +
        atScale(ctx, "the same churn, ns/op", SCALE_WORKLOADS.allocators, "ns/op", "potad page face", "buddy per-CPU", ns),
    );
    ctx.progress("answers", 3, total);

    // Q4: page_frag_cache over POTAD vs over buddy (timed above, before Q3's probe).
    const fc = imix.get("classic")!;
    const fm = imix.get("memdesc")!;
    answer(
      ctx,
      4,
      "frag-cache over POTAD vs buddy",
      fm.nsPerOp / fc.nsPerOp,
      "ratio",
      `IMIX receive fragments (${p.fragLive} live) take ${ns(fm.nsPerOp)} per free+alloc through page_frag_cache over POTAD (memdesc) against ${ns(fc.nsPerOp)} over the buddy allocator (classic): ${x(fm.nsPerOp / fc.nsPerOp)} ` +
        `(spreads ${(100 * fm.spread).toFixed(0)}% and ${(100 * fc.spread).toFixed(0)}%); the page allocator is reached once per 32 KiB block.` +
        atScale(ctx, "IMIX fragments, as many live as pages", SCALE_WORKLOADS.imix, "ns/op", "memdesc", "classic", ns),
    );
    ctx.progress("answers", 4, total);

    // Q5: direct-map splits with and without the PTE-mapped cache.
    const pte = recordPte(ctx, [classic], p, false).get("classic")!;
    answer(
      ctx,
      5,
      "classic",
      pte.without - pte.with,
      "splits",
      `${pte.allocs} PTE-mapped page allocations beside an ordinary workload split ${pte.with} 2 MiB direct-map entries with the PTE-mapped cache against ${pte.without} without it ` +
        `(${pte.without - pte.with} saved on a ${p.bytes / MiB} MiB machine, which has ${p.bytes / (2 * MiB)} such entries); the cache holds ${(pte.held / MiB).toFixed(1)} MiB, ${(pte.heldFree / 1024).toFixed(0)} KiB of it free pages its shrinker can give back.`,
    );
    ctx.progress("answers", 5, total);

    // Q6: metadata allocated while freeing.
    const frees = recordFreeMetadata(ctx, pair, p);
    const fb = frees.get("classic")!;
    const fp = frees.get("memdesc")!;
    answer(
      ctx,
      6,
      "classic, memdesc",
      fb + fp,
      "bytes",
      `${fb + fp === 0 ? "Yes" : "No"}: freeing ${p.live} mixed-order allocations allocated ${fb} B of metadata in classic and ${fp} B in memdesc (allocator, descriptor table and every other component's arena counted).`,
    );
    ctx.progress("answers", 6, total);

    // Q7: 8 MiB@1 MiB on a fragmented machine, every way of serving it, over several seeds.
    const q7 = q7Size(ctx.quick);
    const seeds = seedsFrom(ctx.seed, q7.seeds);
    const contiguous = recordContiguousComparison(ctx, q7Contenders(), q7.bytes, seeds);
    const potad = contiguous.get(Q7_NAMES.potad)!;
    const contig = contiguous.get(Q7_NAMES.contigRange)!;
    answer(ctx, 7, "buddy vs POTAD", share(contig) / share(potad), "ratio", q7Sentence(contiguous, q7.bytes, seeds.length));
    ctx.progress("answers", 7, total);

    // Q8: lockless lookups against a writer freeing memdescs, from the memdesc-rcu suite when it ran
    // before (the default run), else a short run of the same measurement here.
    const earlier = q8FromMeasurements(ctx.earlier ?? []);
    const q8 = earlier ?? (await measureMemdescRcu(ctx, Q8_SHORT_RUN));
    const source = earlier !== undefined ? "Figures from the memdesc-rcu suite of this run" : `Figures from a short run here (${Q8_SHORT_RUN.rounds} rounds of ${Q8_SHORT_RUN.lookups.toLocaleString("en-US")} lookups per reader per mode)`;
    answer(ctx, 8, "(b) type-stable vs (a) reuse at once", q8.b.violationsFree + q8.b.violationsType, "violations", `${q8Sentence(q8)} ${source}; \`--suite memdesc-rcu-full\` runs 50M lookups per mode.`);
    ctx.progress("answers", total, total);
  },
};

export default suite;

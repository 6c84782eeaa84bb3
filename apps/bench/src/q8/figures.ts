import type { Measurement } from "../harness/types.js";
import { RECORD_INTS, type ReuseMode } from "./memdesc-slab.js";

/**
 * The contenders, in the order they run: (a) and (b) are the question's two modes; the third is
 * mode (a) with the readers publishing epochs as (b)'s do (the writer ignores them), so the
 * readers' share of type stability's cost is measured apart from the writer's.
 */
export const Q8_VARIANTS = [
  { key: "a", mode: "reuse-at-once", publishEpochs: false, system: "(a) reuse at once" },
  { key: "b", mode: "type-stable", publishEpochs: true, system: "(b) type-stable (epochs)" },
  { key: "aEpochs", mode: "reuse-at-once", publishEpochs: true, system: "(a) + readers' epoch stores" },
] as const satisfies readonly { key: string; mode: ReuseMode; publishEpochs: boolean; system: string }[];

/** Each contender's name in the report, by key. */
export const Q8_SYSTEMS = { a: Q8_VARIANTS[0].system, b: Q8_VARIANTS[1].system, aEpochs: Q8_VARIANTS[2].system } as const;
/** The suites that measure Q8 (the answers read the first that ran). */
export const Q8_SUITES = ["memdesc-rcu-full", "memdesc-rcu"] as const;

/** What one mode of the Q8 measurement gave, summed over its timed rounds (what the answer states). */
export interface Q8ModeFigures {
  lookups: number;
  retries: number;
  violationsFree: number;
  violationsType: number;
  /** Lookups that found a memdesc whose range did not hold the pfn (0 unless the protocol is broken). */
  wrongRanges: number;
  /** Median over rounds of lookups per second (all readers together). */
  lookupsPerSecond: number;
  writerFrees: number;
  deferredFrees: number;
  allocationsWithoutSlot: number;
  /** Type-stable mode: slots freed and waiting for a grace period, the most at once and the mean over writer steps. */
  heldPeak: number;
  heldMean: number;
}

/** Both modes, mode (a) with the readers' epoch stores, and how many readers ran. */
export interface Q8Figures {
  readers: number;
  a: Q8ModeFigures;
  b: Q8ModeFigures;
  /** Mode (a) with the readers publishing epochs: its timing figures and counts (no writer-side figures). */
  aEpochs: Pick<Q8ModeFigures, "lookups" | "retries" | "violationsFree" | "violationsType" | "lookupsPerSecond">;
}

/** Metric names, shared by the suite that records them and the answers that read them back. */
export const Q8_METRICS = {
  readers: "reader workers",
  lookups: "lookups",
  rate: "lookups/s (all readers)",
  ns: "ns/lookup (wall, all readers)",
  retries: "retries/1k lookups",
  violations: "violations",
  violationsFree: "violations into a free slot",
  violationsType: "violations into another type",
  wrongRanges: "wrong ranges",
  heldPeak: "slots held back (peak)",
  heldMean: "slots held back (mean)",
  heldBytes: "bytes held back (peak)",
  noSlot: "allocations that found no slot",
  deferred: "frees deferred (a reader held a reference)",
  frees: "writer frees",
} as const;

const count = (n: number): string => n.toLocaleString("en-US");
const millions = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M` : count(n));

/**
 * The measured answer to Q8 as one sentence, from both modes' figures: violations in each (by kind)
 * over how many lookups, then the cost of type stability (slots and bytes held back, lookup rate
 * against mode a, retries). O(1).
 *
 * @example
 * ```ts
 * q8Sentence(figures);   // "Only with type stability: ... (a) ... 37 violations ... (b) none over 2.5M lookups ..."
 * ```
 */
export function q8Sentence(f: Q8Figures): string {
  const va = f.a.violationsFree + f.a.violationsType;
  const vb = f.b.violationsFree + f.b.violationsType;
  const verdict = vb === 0 && va > 0 ? "Yes, with type stability, and only with it" : vb === 0 ? "With type stability no violation happened; without it none happened either in this run (too few lookups to catch the race: run memdesc-rcu-full)" : "No: violations happened even in type-stable mode (a bug)";
  const rate = f.b.lookupsPerSecond / f.a.lookupsPerSecond;
  return (
    `${verdict}: ${f.readers} reader workers looking up pfns (get-unless-zero with Atomics.compareExchange, then re-check) while a writer worker freed and reused memdescs ` +
    `(${count(f.a.writerFrees)} and ${count(f.b.writerFrees)} frees) committed ${count(va)} violations over ${millions(f.a.lookups)} lookups when a freed slot is reused at once for any type ` +
    `(${count(f.a.violationsType)} increments of another type's count, ${count(f.a.violationsFree)} of a free slot's) and ${count(vb)} over ${millions(f.b.lookups)} lookups when slots are type-stable ` +
    `(reused for another type only after a grace period of the readers' published epochs). ` +
    `The cost: ${f.b.heldPeak} slots (${count(f.b.heldPeak * RECORD_INTS * 4)} B) held back waiting for grace periods at the peak, ${f.b.heldMean.toFixed(1)} on average, ` +
    `${count(f.b.allocationsWithoutSlot)} allocations that found no slot of their type; lookups ran at ${(rate * 100).toFixed(0)}% of mode (a)'s rate (${millions(Math.round(f.b.lookupsPerSecond))}/s against ${millions(Math.round(f.a.lookupsPerSecond))}/s, medians of interleaved rounds), ` +
    `with ${((1000 * f.b.retries) / f.b.lookups).toFixed(2)} retries per 1k lookups against ${((1000 * f.a.retries) / f.a.lookups).toFixed(2)}; ` +
    `mode (a) with only the readers' epoch stores added ran at ${((100 * f.aEpochs.lookupsPerSecond) / f.a.lookupsPerSecond).toFixed(0)}% of its rate (the readers' share of the cost; the kernel's rcu_read_lock is nearly free, these are two seq-cst stores per lookup).`
  );
}

/**
 * The Q8 figures recorded by the newest Q8 suite in `earlier` (`memdesc-rcu-full` before
 * `memdesc-rcu`), or undefined when neither ran. O(earlier).
 *
 * @example
 * ```ts
 * const figures = q8FromMeasurements(ctx.earlier ?? []);   // undefined when the answers run alone
 * ```
 */
export function q8FromMeasurements(earlier: readonly Measurement[]): Q8Figures | undefined {
  for (const suite of Q8_SUITES) {
    const mine = earlier.filter((m) => m.suite === suite);
    if (mine.length === 0) continue;
    const get = (system: string, metric: string): number => {
      const m = mine.find((x) => x.system === system && x.metric === metric);
      if (m === undefined) throw new Error(`the ${suite} suite recorded no "${metric}" for ${system}`);
      return m.value;
    };
    const mode = (system: string): Q8ModeFigures => ({
      lookups: get(system, Q8_METRICS.lookups),
      retries: (get(system, Q8_METRICS.retries) * get(system, Q8_METRICS.lookups)) / 1000,
      violationsFree: get(system, Q8_METRICS.violationsFree),
      violationsType: get(system, Q8_METRICS.violationsType),
      wrongRanges: get(system, Q8_METRICS.wrongRanges),
      lookupsPerSecond: get(system, Q8_METRICS.rate),
      writerFrees: get(system, Q8_METRICS.frees),
      deferredFrees: get(system, Q8_METRICS.deferred),
      allocationsWithoutSlot: get(system, Q8_METRICS.noSlot),
      heldPeak: get(system, Q8_METRICS.heldPeak),
      heldMean: get(system, Q8_METRICS.heldMean),
    });
    const epochs = Q8_SYSTEMS.aEpochs;
    return {
      readers: get(Q8_SYSTEMS.a, Q8_METRICS.readers),
      a: mode(Q8_SYSTEMS.a),
      b: mode(Q8_SYSTEMS.b),
      aEpochs: {
        lookups: get(epochs, Q8_METRICS.lookups),
        retries: (get(epochs, Q8_METRICS.retries) * get(epochs, Q8_METRICS.lookups)) / 1000,
        violationsFree: get(epochs, Q8_METRICS.violationsFree),
        violationsType: get(epochs, Q8_METRICS.violationsType),
        lookupsPerSecond: get(epochs, Q8_METRICS.rate),
      },
    };
  }
  return undefined;
}

import { ErrorCode, MmkitError, describeValue } from "@mmkit/physmem";
import { crewControl, startWorkerCrew } from "../harness/worker-crew.js";
import type { SuiteContext } from "../harness/types.js";
import { SeededRandom } from "../workloads/random.js";
import { Q8_METRICS, Q8_SYSTEMS, Q8_VARIANTS, q8Sentence, type Q8Figures, type Q8ModeFigures } from "./figures.js";
import {
  C_HITS,
  C_LOOKUPS,
  C_RETRIES,
  C_VIOLATIONS_FREE,
  C_VIOLATIONS_TYPE,
  C_WRONG_RANGE,
  MemdescSlab,
  RECORD_INTS,
  W_ALLOCS,
  W_DEFERRED,
  W_EPOCHS,
  W_FREES,
  W_HELD_PEAK,
  W_HELD_SAMPLES,
  W_HELD_SUM,
  W_NO_SLOT,
  W_RECLAIMED,
} from "./memdesc-slab.js";
import type { Q8WorkerData } from "./worker.js";

/** The shape of a Q8 run. */
export interface Q8RunOptions {
  /** Timed rounds; each runs every contender, in an order rotated every round. */
  rounds: number;
  /** Lookups each reader does per contender per round. */
  lookups: number;
  /** Reader workers (one writer worker besides). Default 2. */
  readers?: number;
  /** Memdesc slots per slab. Default 32. */
  slots?: number;
  /** Frames of pages (each memdesc describes one). Default 16: a hot set, freed and reused often, as a small file truncated and refilled while it is read. */
  frames?: number;
  /** Pages per frame. Default 4. */
  framePages?: number;
  /** Live memdescs the writer keeps. Default 14 (7/8 of the frames). */
  liveTarget?: number;
  /** Writer steps between epoch advances in type-stable mode. Default 16. */
  epochEvery?: number;
}

/** A pfn sequence for one reader: `length` (a power of two) uniform pfns in [0, pfns). */
function pfnSequence(seed: number, reader: number, length: number, pfns: number): Int32Array {
  return new SeededRandom(seed, `memdesc-rcu/reader/${reader}`).fillBelow(new Int32Array(length), pfns);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** (p90 - p10) / median of `values`. */
function spreadOf(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return (s[Math.floor(s.length * 0.9)]! - s[Math.floor(s.length * 0.1)]!) / median(values);
}

/**
 * Runs the Q8 measurement and records it under `ctx`: one writer worker and `readers` reader
 * workers over three slabs of memdescs in shared memory, one per contender of {@link Q8_VARIANTS}
 * (reuse at once, type-stable, reuse at once with the readers publishing epochs), built once and
 * churned for a warm-up round each, then `rounds` timed rounds in which each contender runs once
 * (order rotated). In a round every reader does `lookups` lookups while the writer
 * frees and reuses memdescs until the readers are done, then checks its slab (quiescent then).
 * Records per mode: lookups, lookups/s (median over rounds), ns per lookup with the ratio to mode
 * (a), retries per 1k lookups, violations (total and by kind), wrong ranges, writer frees, frees
 * deferred, allocations that found no slot, slots held back (peak, mean) and bytes held back; logs
 * the answer. Returns the figures. Wall time: about rounds * 2 * lookups * readers / (lookup rate).
 *
 * @example
 * ```ts
 * const figures = await measureMemdescRcu(ctx, { rounds: 5, lookups: 250_000 });
 * figures.b.violationsFree + figures.b.violationsType;   // 0
 * ```
 */
export async function measureMemdescRcu(ctx: SuiteContext, options: Q8RunOptions): Promise<Q8Figures> {
  for (const key of ["rounds", "lookups"] as const) {
    const v = options[key];
    if (!Number.isSafeInteger(v) || v < 1) throw new MmkitError(ErrorCode.InvalidArgument, `memdesc-rcu ${key} must be a positive integer, got ${describeValue(v)}`);
  }
  const readers = options.readers ?? 2;
  const shape = { slots: options.slots ?? 32, frames: options.frames ?? 16, framePages: options.framePages ?? 4, readers };
  const liveTarget = options.liveTarget ?? Math.floor((shape.frames * 7) / 8);
  const epochEvery = options.epochEvery ?? 16;
  const slabs = Q8_VARIANTS.map((v) => MemdescSlab.create({ mode: v.mode, publishEpochs: v.publishEpochs, ...shape }));
  const n = slabs.length;
  const control = crewControl();
  const sequence = 1 << 16;
  const handles = slabs.map((s) => s.handle);
  const data: Q8WorkerData[] = [{ role: "writer", index: 0, control, handles, writer: { seed: ctx.seed, liveTarget, epochEvery } }];
  for (let r = 0; r < readers; r++) data.push({ role: "reader", index: r, control, handles, pfns: pfnSequence(ctx.seed, r, sequence, shape.frames * shape.framePages) });
  const crew = startWorkerCrew("memdesc-rcu", new URL("./worker.ts", import.meta.url), data, control);
  // args: lookups per reader, readers done (counted up by the readers, polled by the writer).
  const command = (variant: number, lookups: number): number => crew.run(variant, [lookups, 0], readers + 1);
  const rates = slabs.map(() => [] as number[]);
  try {
    // Warm-up: workers start, attach, compile; the writer fills each slab.
    for (let m = 0; m < n; m++) command(m, Math.min(options.lookups, 50_000));
    for (const s of slabs) s.resetCounters();
    for (let r = 0; r < options.rounds; r++) {
      for (let k = 0; k < n; k++) {
        const m = (k + r) % n;
        const ms = command(m, options.lookups);
        rates[m]!.push((options.lookups * readers) / (ms / 1000));
        ctx.progress("memdesc-rcu", r * n + k + 1, options.rounds * n);
      }
    }
  } finally {
    await crew.close();
  }
  const figures = slabs.map((slab, m): Q8ModeFigures & { hits: number; epochs: number; reclaimed: number; allocs: number; spread: number; ns: number; nsSpread: number } => {
    const w = slab.writerCounters;
    const rate = median(rates[m]!);
    const ns = rates[m]!.map((r) => 1e9 / r);
    return {
      lookups: slab.readerTotal(C_LOOKUPS),
      hits: slab.readerTotal(C_HITS),
      retries: slab.readerTotal(C_RETRIES),
      violationsFree: slab.readerTotal(C_VIOLATIONS_FREE),
      violationsType: slab.readerTotal(C_VIOLATIONS_TYPE),
      wrongRanges: slab.readerTotal(C_WRONG_RANGE),
      lookupsPerSecond: rate,
      spread: spreadOf(rates[m]!),
      ns: median(ns),
      nsSpread: spreadOf(ns),
      writerFrees: w[W_FREES]!,
      allocs: w[W_ALLOCS]!,
      deferredFrees: w[W_DEFERRED]!,
      allocationsWithoutSlot: w[W_NO_SLOT]!,
      epochs: w[W_EPOCHS]!,
      reclaimed: w[W_RECLAIMED]!,
      heldPeak: w[W_HELD_PEAK]!,
      heldMean: w[W_HELD_SAMPLES]! > 0 ? w[W_HELD_SUM]! / w[W_HELD_SAMPLES]! : 0,
    };
  });
  const workload = `pfn -> memdesc lookups (get-unless-zero, re-check) by ${readers} reader workers while a writer worker frees and reuses memdescs (${shape.slots} slots of ${RECORD_INTS * 4} B, ${liveTarget} live over ${shape.frames} frames of ${shape.framePages} pages)`;
  const floorName = Q8_SYSTEMS.a;
  const floorNs = figures[0]!.ns;
  Q8_VARIANTS.forEach((variant, m) => {
    const f = figures[m]!;
    const system = variant.system;
    const record = (metric: string, value: number, unit: string, note?: string): void => ctx.record({ system, workload, metric, value, unit, ...(note === undefined ? {} : { note }) });
    record(Q8_METRICS.readers, readers, "count");
    record(Q8_METRICS.lookups, f.lookups, "count", `${options.rounds} rounds of ${options.lookups.toLocaleString("en-US")} per reader`);
    ctx.record({ system, workload, metric: Q8_METRICS.rate, value: f.lookupsPerSecond, unit: "lookups/s", spread: f.spread, note: "median of interleaved rounds" });
    ctx.record({ system, workload, metric: Q8_METRICS.ns, value: f.ns, unit: "ns", spread: f.nsSpread, ratio: f.ns / floorNs, ratioTo: floorName, note: "median of interleaved rounds" });
    record(Q8_METRICS.retries, (1000 * f.retries) / f.lookups, "count");
    record(Q8_METRICS.violations, f.violationsFree + f.violationsType, "count", variant.mode === "type-stable" ? "must be 0" : "a reader's increment of a count not a folio's");
    record(Q8_METRICS.violationsFree, f.violationsFree, "count");
    record(Q8_METRICS.violationsType, f.violationsType, "count");
    record(Q8_METRICS.wrongRanges, f.wrongRanges, "count", "must be 0");
    // The third contender is there for its timing; the writer's side is mode (a)'s.
    if (variant.key === "aEpochs") return;
    record(Q8_METRICS.frees, f.writerFrees, "count");
    record(Q8_METRICS.deferred, f.deferredFrees, "count");
    record(Q8_METRICS.noSlot, f.allocationsWithoutSlot, "count");
    record(Q8_METRICS.heldPeak, f.heldPeak, "count");
    record(Q8_METRICS.heldMean, f.heldMean, "count");
    record(Q8_METRICS.heldBytes, f.heldPeak * RECORD_INTS * 4, "bytes");
    ctx.log(
      `${system}: ${f.lookups.toLocaleString("en-US")} lookups (${f.hits.toLocaleString("en-US")} found a folio), ${f.retries.toLocaleString("en-US")} retries, ` +
        `${f.violationsType} violations into another type, ${f.violationsFree} into a free slot; writer: ${f.writerFrees.toLocaleString("en-US")} frees, ${f.allocs.toLocaleString("en-US")} allocations, ` +
        `${f.deferredFrees} deferred, ${f.epochs.toLocaleString("en-US")} epochs, ${f.reclaimed.toLocaleString("en-US")} slots past a grace period`,
    );
  });
  const out: Q8Figures = { readers, a: figures[0]!, b: figures[1]!, aEpochs: figures[2]! };
  ctx.log(`Q8: ${q8Sentence(out)}`);
  return out;
}

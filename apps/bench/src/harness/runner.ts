import { probingArenasMade } from "./probe-order.js";
import { MmkitError } from "@mmkit/physmem";
import { formatValue } from "../report/format.js";
import { HARNESS, quantile, timeContenders } from "./timing.js";
import { silentProgress, type ProgressSink } from "./progress.js";
import type { Measurement, Suite, SuiteContext } from "./types.js";

/** How one suite's run went: its measurements and log lines, or the error that stopped it. */
export interface SuiteResult {
  name: string;
  description: string;
  /** Wall-clock seconds the suite took. */
  seconds: number;
  measurements: Measurement[];
  /** Lines the suite logged with `ctx.log`, printed under its table. */
  log: string[];
  /** Set when the suite threw (or could not be loaded): the error's message. */
  error?: string;
}

/** Options for {@link runSuite}. */
export interface RunOptions {
  quick: boolean;
  seed: number;
  /** Progress display (default: none). */
  progress?: ProgressSink;
  /** Keep the stack of an input error (`MmkitError`: a bad trace, a bad value) in `error` (default false: its one-line message). */
  debug?: boolean;
  /** Measurements of the suites that ran before this one (the context's `earlier`; default none). */
  earlier?: readonly Measurement[];
}

const TEXT_FIELDS = ["system", "workload", "metric", "unit"] as const;

/** How far (relative) a contender's alone figure may be from its interleaved one before both are reported. */
export const ALONE_TOLERANCE = 0.15;

/** Workload of the per-suite row that gives the harness's own per-op cost. */
export const HARNESS_WORKLOAD = "harness";

/** What a context collects: measurements, log lines, and (when given) the empty contender's ns/op of every timing. */
export interface ContextSink {
  measurements: Measurement[];
  log: string[];
  harness?: { ns: number; spread: number }[];
}

/** Throws unless `m` is a measurement the reports can print and the JSON schema accepts. */
function checkMeasurement(m: Omit<Measurement, "suite">): void {
  for (const key of TEXT_FIELDS) {
    if (typeof m[key] !== "string" || m[key] === "") throw new Error(`record(): ${key} must be a non-empty string, got ${JSON.stringify(m[key])}`);
  }
  if (typeof m.value !== "number" || !Number.isFinite(m.value)) {
    throw new Error(`record(): value of ${m.system} / ${m.workload} / ${m.metric} must be a finite number, got ${m.value}`);
  }
  for (const key of ["spread", "ratio", "at", "alone"] as const) {
    const v = m[key];
    if (v !== undefined && (typeof v !== "number" || !Number.isFinite(v))) throw new Error(`record(): ${key} must be a finite number, got ${v}`);
  }
}

/**
 * The {@link SuiteContext} a suite runs against: timing through {@link timeContenders} (each timed
 * round advances the progress bar), measurements checked and collected into `into`.
 *
 * `time()` runs the empty contender beside every set (its figures go to `into.harness`) and times
 * each contender alone after the rounds; where the alone figure is more than
 * every ns/op measurement carries that figure as `alone`, and its note names it where it is more
 * than {@link ALONE_TOLERANCE} off the interleaved median and outside the rounds' p10..p90.
 */
export function createContext(suite: string, options: RunOptions, into: ContextSink): SuiteContext {
  const progress = options.progress ?? silentProgress;
  const record = (m: Omit<Measurement, "suite">): void => {
    checkMeasurement(m);
    const entry: Measurement = { suite, system: m.system, workload: m.workload, metric: m.metric, value: m.value, unit: m.unit };
    if (m.spread !== undefined) entry.spread = m.spread;
    if (m.ratio !== undefined) entry.ratio = m.ratio;
    if (m.ratioTo !== undefined) entry.ratioTo = m.ratioTo;
    if (m.note !== undefined) entry.note = m.note;
    if (m.at !== undefined) entry.at = m.at;
    if (m.alone !== undefined) entry.alone = m.alone;
    into.measurements.push(entry);
  };
  const probesAtStart = probingArenasMade();
  return {
    quick: options.quick,
    seed: options.seed,
    time(workload, contenders, timeOptions = {}) {
      if (probingArenasMade() !== probesAtStart) {
        throw new Error(`suite ${suite} times "${workload}" after a ProbingArena probe: time everything first and probe last (after a probe, V8's feedback for the probed code stays generic for the rest of the process, and every later timing of it reads several times slower)`);
      }
      const withDefaults = { ...timeOptions, harness: timeOptions.harness ?? true, alone: timeOptions.alone ?? true };
      const results = timeContenders(contenders, options.quick, withDefaults, (done, total) => progress.update(workload, done, total));
      const empty = results[0];
      if (empty?.harnessNsPerOp !== undefined) into.harness?.push({ ns: empty.harnessNsPerOp, spread: empty.harnessSpread ?? 0 });
      if (timeOptions.record !== false) {
        for (const r of results) {
          const m: Omit<Measurement, "suite"> = { system: r.name, workload, metric: "ns/op", value: r.nsPerOp, unit: "ns", spread: r.spread };
          if (r.ratio !== undefined) {
            m.ratio = r.ratio;
            m.ratioTo = timeOptions.floor!;
          }
          if (timeOptions.at !== undefined) m.at = timeOptions.at;
          const alone = r.aloneNsPerOp;
          if (alone !== undefined) m.alone = alone;
          // The note names the alone figure when it differs by more than the tolerance and lies
          // outside the rounds' own p10..p90 (inside it, the rounds disagree with each other as much).
          const notes = timeOptions.note !== undefined ? [timeOptions.note] : [];
          if (alone !== undefined && r.nsPerOp > 0 && Math.abs(alone / r.nsPerOp - 1) > ALONE_TOLERANCE && (alone < r.p10 || alone > r.p90)) {
            notes.push(`alone ${formatValue(alone, "ns")} (${alone > r.nsPerOp ? "+" : ""}${(100 * (alone / r.nsPerOp - 1)).toFixed(0)}%)`);
          }
          if (notes.length > 0) m.note = notes.join("; ");
          record(m);
        }
      }
      return results;
    },
    record,
    progress(label, done, total) {
      progress.update(label, done, total);
    },
    log(line) {
      into.log.push(String(line));
    },
    earlier: options.earlier ?? [],
  };
}

/**
 * The per-suite harness row: the median of the empty contender's ns/op over every timing of the
 * suite (none: no row), its range in the note. Every ns/op of the suite includes about this much.
 */
function recordHarness(ctx: SuiteContext, figures: readonly { ns: number; spread: number }[]): void {
  if (figures.length === 0) return;
  const sorted = figures.map((f) => f.ns).sort((a, b) => a - b);
  const median = quantile(sorted, 0.5);
  // Over several sets the spread is that of their medians; one set gives its rounds' spread.
  const spread = sorted.length > 1 ? (median > 0 ? (quantile(sorted, 0.9) - quantile(sorted, 0.1)) / median : 0) : figures[0]!.spread;
  const range = sorted.length > 1 ? `${sorted[0]!.toFixed(2)}..${sorted[sorted.length - 1]!.toFixed(2)} ns` : `${sorted[0]!.toFixed(2)} ns`;
  ctx.record({ system: HARNESS, workload: HARNESS_WORKLOAD, metric: "ns/op", value: median, unit: "ns", spread, note: `the empty contender beside each of ${figures.length} timed set(s): ${range}; each ns/op above includes it` });
}

/**
 * Runs one suite and returns what it recorded. A suite that throws does not stop the bench: the
 * result carries the error (and what was recorded before it), and the CLI exits non-zero at the end.
 *
 * @example
 * ```ts
 * const result = await runSuite(await entry.load(), { quick: true, seed: DEFAULT_SEED });
 * result.measurements.length;
 * ```
 */
export async function runSuite(suite: Suite, options: RunOptions): Promise<SuiteResult> {
  const progress = options.progress ?? silentProgress;
  const into: ContextSink = { measurements: [], log: [], harness: [] };
  const t0 = performance.now();
  progress.start(suite.name);
  let error: string | undefined;
  const ctx = createContext(suite.name, options, into);
  try {
    await suite.run(ctx);
  } catch (e) {
    // An MmkitError is the user's input (a bad trace line, a bad option): its message says it all.
    error = e instanceof MmkitError && options.debug !== true ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e);
  } finally {
    progress.stop();
  }
  recordHarness(ctx, into.harness!);
  const result: SuiteResult = { name: suite.name, description: suite.description, seconds: (performance.now() - t0) / 1000, measurements: into.measurements, log: into.log };
  if (error !== undefined) result.error = error;
  return result;
}

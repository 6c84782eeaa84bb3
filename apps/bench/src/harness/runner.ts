import { MmkitError } from "@mmkit/physmem";
import { timeContenders } from "./timing.js";
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
}

const TEXT_FIELDS = ["system", "workload", "metric", "unit"] as const;

/** Throws unless `m` is a measurement the reports can print and the JSON schema accepts. */
function checkMeasurement(m: Omit<Measurement, "suite">): void {
  for (const key of TEXT_FIELDS) {
    if (typeof m[key] !== "string" || m[key] === "") throw new Error(`record(): ${key} must be a non-empty string, got ${JSON.stringify(m[key])}`);
  }
  if (typeof m.value !== "number" || !Number.isFinite(m.value)) {
    throw new Error(`record(): value of ${m.system} / ${m.workload} / ${m.metric} must be a finite number, got ${m.value}`);
  }
  for (const key of ["spread", "ratio", "at"] as const) {
    const v = m[key];
    if (v !== undefined && (typeof v !== "number" || !Number.isFinite(v))) throw new Error(`record(): ${key} must be a finite number, got ${v}`);
  }
}

/**
 * The {@link SuiteContext} a suite runs against: timing through {@link timeContenders} (each timed
 * round advances the progress bar), measurements checked and collected into `into`.
 */
export function createContext(suite: string, options: RunOptions, into: { measurements: Measurement[]; log: string[] }): SuiteContext {
  const progress = options.progress ?? silentProgress;
  const record = (m: Omit<Measurement, "suite">): void => {
    checkMeasurement(m);
    const entry: Measurement = { suite, system: m.system, workload: m.workload, metric: m.metric, value: m.value, unit: m.unit };
    if (m.spread !== undefined) entry.spread = m.spread;
    if (m.ratio !== undefined) entry.ratio = m.ratio;
    if (m.ratioTo !== undefined) entry.ratioTo = m.ratioTo;
    if (m.note !== undefined) entry.note = m.note;
    if (m.at !== undefined) entry.at = m.at;
    into.measurements.push(entry);
  };
  return {
    quick: options.quick,
    seed: options.seed,
    time(workload, contenders, timeOptions = {}) {
      const results = timeContenders(contenders, options.quick, timeOptions, (done, total) => progress.update(workload, done, total));
      if (timeOptions.record !== false) {
        for (const r of results) {
          const m: Omit<Measurement, "suite"> = { system: r.name, workload, metric: "ns/op", value: r.nsPerOp, unit: "ns", spread: r.spread };
          if (r.ratio !== undefined) {
            m.ratio = r.ratio;
            m.ratioTo = timeOptions.floor!;
          }
          if (timeOptions.note !== undefined) m.note = timeOptions.note;
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
  };
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
  const into = { measurements: [] as Measurement[], log: [] as string[] };
  const t0 = performance.now();
  progress.start(suite.name);
  let error: string | undefined;
  try {
    await suite.run(createContext(suite.name, options, into));
  } catch (e) {
    // A typed MmkitError is a user's mistake (a bad trace, a bad option) and its message says what:
    // no stack trace. Anything else is a bug, and the stack is what finds it.
    error = e instanceof MmkitError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e);
  } finally {
    progress.stop();
  }
  const result: SuiteResult = { name: suite.name, description: suite.description, seconds: (performance.now() - t0) / 1000, ...into };
  if (error !== undefined) result.error = error;
  return result;
}

import type { SuiteResult } from "../harness/runner.js";
import type { Measurement } from "../harness/types.js";

/** `schema` of every report file. */
export const REPORT_SCHEMA = "mmkit-bench-report";
/** Bumped only when a field changes meaning or disappears; new optional fields do not bump it. */
export const REPORT_VERSION = 1;

/** Where and how a run happened (the top of a report). */
export interface RunMetadata {
  /** ISO 8601 time the run started. */
  date: string;
  /** `process.version`, e.g. "v20.20.2". */
  node: string;
  /** V8 version. */
  v8: string;
  platform: string;
  arch: string;
  /** First CPU's model name, e.g. "AMD EPYC". */
  cpuModel: string;
  /** Logical CPUs. */
  cpuCount: number;
  /** Command-line arguments after `cli.ts`. */
  argv: string[];
  quick: boolean;
  seed: number;
}

/** One suite in a report. */
export interface SuiteSummary {
  name: string;
  description: string;
  seconds: number;
  log: string[];
  /** Present when the suite failed. */
  error?: string;
}

/** What `--json <file>` writes (documented field by field in README.md). */
export interface BenchReport extends RunMetadata {
  schema: typeof REPORT_SCHEMA;
  version: typeof REPORT_VERSION;
  suites: SuiteSummary[];
  measurements: Measurement[];
}

/**
 * The report of a run: metadata, one summary per suite, and every measurement in the order recorded.
 *
 * @example
 * ```ts
 * const report = buildReport(metadata, results);
 * writeFileSync(file, JSON.stringify(report, null, 2));
 * ```
 */
export function buildReport(metadata: RunMetadata, results: readonly SuiteResult[]): BenchReport {
  return {
    schema: REPORT_SCHEMA,
    version: REPORT_VERSION,
    ...metadata,
    suites: results.map((r) => {
      const s: SuiteSummary = { name: r.name, description: r.description, seconds: r.seconds, log: r.log };
      if (r.error !== undefined) s.error = r.error;
      return s;
    }),
    measurements: results.flatMap((r) => r.measurements),
  };
}

const isString = (v: unknown): v is string => typeof v === "string";
const isNonEmpty = (v: unknown): v is string => typeof v === "string" && v !== "";
const isFiniteNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/**
 * Checks that `value` (parsed JSON) is a report of this schema version. Returns the problems found,
 * each naming the field (empty when it is valid). For loading an earlier run (`--compare`) and for tests.
 *
 * @example
 * ```ts
 * validateReport(JSON.parse(readFileSync("run.json", "utf8")));   // []
 * ```
 */
export function validateReport(value: unknown): string[] {
  const problems: string[] = [];
  if (value === null || typeof value !== "object" || Array.isArray(value)) return ["report is not an object"];
  const r = value as Record<string, unknown>;
  if (r.schema !== REPORT_SCHEMA) problems.push(`schema must be ${JSON.stringify(REPORT_SCHEMA)}, got ${JSON.stringify(r.schema)}`);
  if (r.version !== REPORT_VERSION) problems.push(`version must be ${REPORT_VERSION}, got ${JSON.stringify(r.version)}`);
  for (const key of ["date", "node", "v8", "platform", "arch", "cpuModel"]) if (!isString(r[key])) problems.push(`${key} must be a string`);
  if (isString(r.date) && Number.isNaN(Date.parse(r.date))) problems.push(`date ${JSON.stringify(r.date)} is not an ISO date`);
  if (!Number.isSafeInteger(r.cpuCount)) problems.push("cpuCount must be an integer");
  if (!Array.isArray(r.argv) || !r.argv.every(isString)) problems.push("argv must be an array of strings");
  if (typeof r.quick !== "boolean") problems.push("quick must be a boolean");
  if (!Number.isSafeInteger(r.seed) || (r.seed as number) < 0 || (r.seed as number) > 0xffffffff) problems.push("seed must be a 32-bit unsigned integer");
  if (!Array.isArray(r.suites)) problems.push("suites must be an array");
  else
    r.suites.forEach((s: Record<string, unknown>, i) => {
      if (s === null || typeof s !== "object") return problems.push(`suites[${i}] is not an object`);
      if (!isNonEmpty(s.name)) problems.push(`suites[${i}].name must be a non-empty string`);
      if (!isString(s.description)) problems.push(`suites[${i}].description must be a string`);
      if (!isFiniteNumber(s.seconds) || s.seconds < 0) problems.push(`suites[${i}].seconds must be a non-negative number`);
      if (!Array.isArray(s.log) || !s.log.every(isString)) problems.push(`suites[${i}].log must be an array of strings`);
      if (s.error !== undefined && !isString(s.error)) problems.push(`suites[${i}].error must be a string when present`);
    });
  const suiteNames = new Set(Array.isArray(r.suites) ? r.suites.map((s: { name?: unknown }) => s?.name) : []);
  if (!Array.isArray(r.measurements)) problems.push("measurements must be an array");
  else
    r.measurements.forEach((m: Record<string, unknown>, i) => {
      if (m === null || typeof m !== "object") return problems.push(`measurements[${i}] is not an object`);
      for (const key of ["suite", "system", "workload", "metric", "unit"]) if (!isNonEmpty(m[key])) problems.push(`measurements[${i}].${key} must be a non-empty string`);
      if (isNonEmpty(m.suite) && !suiteNames.has(m.suite)) problems.push(`measurements[${i}].suite ${JSON.stringify(m.suite)} is not in suites`);
      if (!isFiniteNumber(m.value)) problems.push(`measurements[${i}].value must be a finite number`);
      for (const key of ["spread", "ratio", "at", "alone"]) if (m[key] !== undefined && !isFiniteNumber(m[key])) problems.push(`measurements[${i}].${key} must be a finite number when present`);
      if ((m.ratio === undefined) !== (m.ratioTo === undefined)) problems.push(`measurements[${i}]: ratio and ratioTo come together`);
      if (m.ratioTo !== undefined && !isNonEmpty(m.ratioTo)) problems.push(`measurements[${i}].ratioTo must be a non-empty string when present`);
      if (m.note !== undefined && !isString(m.note)) problems.push(`measurements[${i}].note must be a string when present`);
      const known = new Set(["suite", "system", "workload", "metric", "value", "unit", "spread", "ratio", "ratioTo", "note", "at", "alone"]);
      for (const key of Object.keys(m)) if (!known.has(key)) problems.push(`measurements[${i}] has an unknown field ${JSON.stringify(key)}`);
    });
  return problems;
}

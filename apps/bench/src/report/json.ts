import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
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

/** What `--json <file>` writes (documented field by field in README.md; its JSON Schema is `report.schema.json`). */
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

/** Where the report's JSON Schema lives: beside the bench, `apps/bench/report.schema.json`. */
export const REPORT_SCHEMA_FILE = fileURLToPath(new URL("../../report.schema.json", import.meta.url));

let compiled: ValidateFunction | undefined;

/** The schema, compiled once (ajv, JSON Schema 2020-12, every error reported). */
function schemaValidator(): ValidateFunction {
  if (compiled === undefined) {
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    compiled = ajv.compile(JSON.parse(readFileSync(REPORT_SCHEMA_FILE, "utf8")) as object);
  }
  return compiled;
}

/** "/measurements/0/at" as "measurements[0].at"; the root as "report". */
function fieldPath(pointer: string): string {
  const parts = pointer.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (parts.length === 0) return "report";
  return parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

/** One ajv error as a sentence naming the field (and the value, where there is one). */
function describeError(e: ErrorObject, root: unknown): string {
  const path = fieldPath(e.instancePath);
  const at = (pointer: string): unknown => pointer.split("/").slice(1).reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], root);
  switch (e.keyword) {
    case "required":
      return `${path === "report" ? "" : `${path}.`}${(e.params as { missingProperty: string }).missingProperty} is missing`;
    case "additionalProperties":
      return `${path} has an unknown field ${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)}`;
    case "const":
      return `${path} must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}, got ${JSON.stringify(at(e.instancePath))}`;
    case "dependentRequired": {
      const p = e.params as { property: string; missingProperty: string };
      return `${path}: ${p.property} and ${p.missingProperty} come together`;
    }
    case "pattern":
      if (path === "date") return `date ${JSON.stringify(at(e.instancePath))} is not an ISO 8601 time`;
      return `${path} ${e.message ?? "is invalid"}, got ${JSON.stringify(at(e.instancePath))}`;
    default:
      return `${path} ${e.message ?? "is invalid"}${["minimum", "maximum", "type"].includes(e.keyword) ? `, got ${JSON.stringify(at(e.instancePath))}` : ""}`;
  }
}

/**
 * Checks that `value` (parsed JSON) is a report of this schema version: validates it against
 * `report.schema.json` (JSON Schema 2020-12, with ajv), then that every measurement's suite is one of
 * `suites`. Returns the problems found, each naming the field (empty when it is valid). For loading
 * an earlier run (`--compare`) and for tests. O(size of the report).
 *
 * @example
 * ```ts
 * validateReport(JSON.parse(readFileSync("run.json", "utf8")));   // []
 * validateReport({ ...report, version: 2 });                     // ["version must be 1, got 2"]
 * ```
 */
export function validateReport(value: unknown): string[] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return ["report is not an object"];
  const validate = schemaValidator();
  if (!validate(value)) {
    // What the file is (schema, version) first: for a file that is not a report at all, that is the news.
    const field = (e: ErrorObject): string => (e.instancePath === "" ? ((e.params as { missingProperty?: string }).missingProperty ?? "") : e.instancePath.slice(1));
    const first = (e: ErrorObject): number => ({ schema: 0, version: 1 } as Record<string, number>)[field(e)] ?? 2;
    return [...(validate.errors ?? [])].sort((a, b) => first(a) - first(b)).map((e) => describeError(e, value));
  }
  const report = value as BenchReport;
  const suiteNames = new Set(report.suites.map((s) => s.name));
  const problems: string[] = [];
  report.measurements.forEach((m, i) => {
    if (!suiteNames.has(m.suite)) problems.push(`measurements[${i}].suite ${JSON.stringify(m.suite)} is not in suites`);
  });
  return problems;
}

import { fileURLToPath } from "node:url";
import { allSystems, type SystemDefinition } from "./definition.js";

/** The Linux 6.1 capture shipped as a fixture: what trace replay replays when no `--trace` is given. */
export const DEFAULT_TRACE = fileURLToPath(new URL("../../fixtures/traces/linux-6.1-small/trace.txt.gz", import.meta.url));

/** What the command line chose for the systems and answers suites (`--system`, `--trace`, `--trace-format`, `--trace-lenient`). */
export interface SystemSelection {
  /** System names; empty means every shipped system. */
  systems: string[];
  /** Trace files to replay; empty means {@link DEFAULT_TRACE}. */
  traces: string[];
  traceFormat: "auto" | "kernel" | "mmkit";
  traceLenient: boolean;
  /** `--trace-synth`: synthetic traces to replay, by event count (beside `traces`). */
  synth?: number[];
  /** `--trace-memory`: RAM in bytes of the systems replaying a trace read once (standard input); default 1 GiB. */
  traceMemory?: number;
  /**
   * `/proc` snapshots to start trace replays from (`--snapshots <dir>`), `false` for none
   * (`--no-snapshots`); absent: those beside each trace file, when there are any.
   */
  snapshots?: string | false;
}

let current: SystemSelection = { systems: [], traces: [], traceFormat: "auto", traceLenient: false };

/**
 * Sets the selection for the suites run next (the CLI calls it once after parsing).
 *
 * @example
 * ```ts
 * setSystemSelection({ systems: ["classic"], traces: ["my.trace"], traceFormat: "mmkit", traceLenient: false, snapshots: "captures/before-after" });
 * ```
 */
export function setSystemSelection(selection: SystemSelection): void {
  current = { ...selection, systems: [...selection.systems], traces: [...selection.traces], synth: [...(selection.synth ?? [])] };
}

/** The selection in force (defaults: every system, the 6.1 fixture, auto format, strict). */
export function systemSelection(): SystemSelection {
  return current;
}

/** The selected system definitions, in `allSystems()` order (shipped, then `--system-file` ones). */
export function selectedSystems(): SystemDefinition[] {
  const all = allSystems();
  return current.systems.length === 0 ? all : all.filter((s) => current.systems.includes(s.name));
}

/** The trace files to replay (`-` is standard input): the fixture when neither a file nor a synthetic trace is selected. */
export function selectedTraces(): string[] {
  return current.traces.length === 0 && (current.synth ?? []).length === 0 ? [DEFAULT_TRACE] : [...current.traces];
}

/**
 * The synthetic traces to replay, by event count (`--trace-synth`).
 *
 * @example
 * ```ts
 * selectedSynthTraces(); // [10000000] after --trace-synth 10M
 * ```
 */
export function selectedSynthTraces(): number[] {
  return [...(current.synth ?? [])];
}

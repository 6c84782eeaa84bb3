import { fileURLToPath } from "node:url";
import { SYSTEMS, type SystemDefinition } from "./definition.js";

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
  current = { ...selection, systems: [...selection.systems], traces: [...selection.traces] };
}

/** The selection in force (defaults: every system, the 6.1 fixture, auto format, strict). */
export function systemSelection(): SystemSelection {
  return current;
}

/** The selected system definitions, in {@link SYSTEMS} order. */
export function selectedSystems(): SystemDefinition[] {
  return current.systems.length === 0 ? [...SYSTEMS] : SYSTEMS.filter((s) => current.systems.includes(s.name));
}

/** The trace files to replay. */
export function selectedTraces(): string[] {
  return current.traces.length === 0 ? [DEFAULT_TRACE] : [...current.traces];
}

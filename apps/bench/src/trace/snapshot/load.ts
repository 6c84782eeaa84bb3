import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { parseBuddyinfo } from "./buddyinfo.js";
import { parseMeminfo, parseVmstat } from "./counters.js";
import { SnapshotError, SnapshotErrorCode, type SnapshotWarning } from "./errors.js";
import { parsePagetypeinfo } from "./pagetypeinfo.js";
import type { KernelSnapshot } from "./snapshot-set.js";
import { parseZoneinfo } from "./zoneinfo.js";

/**
 * The `/proc` files of a snapshot, in the order they are looked for (the first three required).
 *
 * @example
 * ```ts
 * SNAPSHOT_FILES.map((name) => snapshotPath(dir, name, "after"));
 * ```
 */
export const SNAPSHOT_FILES = ["buddyinfo", "pagetypeinfo", "zoneinfo", "vmstat", "meminfo"] as const;

/** When a snapshot was taken, relative to the trace. */
export type SnapshotMoment = "before" | "after";

/**
 * The path of one snapshot file in `dir`: `<name>-<moment>.txt`, `<name>-<moment>`, or
 * `<moment>/<name>` (the first that exists), or null. O(1) stat calls.
 *
 * @example
 * ```ts
 * snapshotPath("fixtures/traces/linux-6.1-small", "zoneinfo", "before"); // ".../zoneinfo-before.txt"
 * ```
 */
export function snapshotPath(dir: string, name: string, moment: SnapshotMoment): string | null {
  for (const candidate of [`${name}-${moment}.txt`, `${name}-${moment}`, join(moment, name)]) {
    const path = join(dir, candidate);
    if (existsSync(path)) return path;
  }
  return null;
}

/**
 * True when `dir` holds at least a "before" buddyinfo: the replay then starts from the snapshot.
 * O(1) stat calls.
 *
 * @example
 * ```ts
 * hasSnapshots("fixtures/traces/linux-6.1-small"); // true
 * ```
 */
export function hasSnapshots(dir: string): boolean {
  return snapshotPath(dir, "buddyinfo", "before") !== null;
}

/**
 * The directory whose snapshots go with `tracePath`: the trace file's own directory.
 *
 * @example
 * ```ts
 * snapshotDirOf("captures/run1/trace.txt.gz"); // "captures/run1"
 * ```
 */
export function snapshotDirOf(tracePath: string): string {
  return dirname(tracePath);
}

/**
 * Reads and parses the snapshot of `moment` in `dir`. buddyinfo, pagetypeinfo and zoneinfo are
 * required (`ERR_SNAPSHOT_MISSING` names the one missing); a missing vmstat or meminfo is a
 * warning pushed to `warnings`. Parse errors are {@link SnapshotError}s naming the file (by its base
 * name) and line. O(file sizes).
 *
 * @example
 * ```ts
 * const warnings: SnapshotWarning[] = [];
 * const before = loadSnapshot(dir, "before", warnings);
 * ```
 */
export function loadSnapshot(dir: string, moment: SnapshotMoment, warnings: SnapshotWarning[]): KernelSnapshot {
  const read = (name: string, required: boolean): [string, string] | null => {
    const path = snapshotPath(dir, name, moment);
    if (path === null) {
      if (required) throw new SnapshotError(SnapshotErrorCode.Missing, join(dir, `${name}-${moment}.txt`), 0, `no ${name} snapshot "${moment}" in ${dir} (looked for ${name}-${moment}.txt, ${name}-${moment}, ${moment}/${name})`);
      warnings.push({ file: `${name}-${moment}.txt`, line: 0, message: `not found in ${dir}; its cross-checks are skipped` });
      return null;
    }
    // Messages name the file as the user sees it beside the trace.
    return [readFileSync(path, "utf8"), path.endsWith(join(moment, name)) ? join(moment, name) : basename(path)];
  };
  const b = read("buddyinfo", true)!;
  const p = read("pagetypeinfo", true)!;
  const z = read("zoneinfo", true)!;
  const v = read("vmstat", false);
  const m = read("meminfo", false);
  const snapshot: KernelSnapshot = { buddyinfo: parseBuddyinfo(b[0], b[1]), pagetypeinfo: parsePagetypeinfo(p[0], p[1]), zoneinfo: parseZoneinfo(z[0], z[1]) };
  if (v !== null) snapshot.vmstat = parseVmstat(v[0], v[1]);
  if (m !== null) snapshot.meminfo = parseMeminfo(m[0], m[1]);
  return snapshot;
}

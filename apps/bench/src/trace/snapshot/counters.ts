import { SnapshotError, SnapshotErrorCode, fileLines } from "./errors.js";

/** A file of named numbers (`/proc/vmstat`, `/proc/meminfo`): value and line of each name. */
export interface NamedCounters {
  file: string;
  values: Map<string, number>;
  lines: Map<string, number>;
}

function parseNamed(text: string, file: string, pattern: RegExp, shape: string): NamedCounters {
  const values = new Map<string, number>();
  const lines = new Map<string, number>();
  fileLines(text).forEach((content, i) => {
    const line = i + 1;
    if (content.trim() === "") return;
    const m = pattern.exec(content);
    if (m === null) throw new SnapshotError(SnapshotErrorCode.Malformed, file, line, `not a ${shape} line`, content);
    const value = Number(m[2]);
    if (!Number.isSafeInteger(value)) throw new SnapshotError(SnapshotErrorCode.Malformed, file, line, `${m[1]} ${m[2]} is beyond 2^53`, content);
    if (values.has(m[1]!)) throw new SnapshotError(SnapshotErrorCode.Malformed, file, line, `${m[1]} appears twice (lines ${lines.get(m[1]!)} and ${line})`, content);
    values.set(m[1]!, value);
    lines.set(m[1]!, line);
  });
  if (values.size === 0) throw new SnapshotError(SnapshotErrorCode.Format, file, 0, `no ${shape} lines (an empty file?)`);
  return { file, values, lines };
}

/**
 * Reads `/proc/vmstat` (`name value` per line). Requires `nr_free_pages` and `pgfree` (every kernel
 * since 2.6 prints them; a file without them is another format, `ERR_SNAPSHOT_FORMAT`). O(file size).
 *
 * @example
 * ```ts
 * parseVmstat("nr_free_pages 229161\npgfree 250807\n", "vmstat").values.get("pgfree"); // 250807
 * ```
 */
export function parseVmstat(text: string, file: string): NamedCounters {
  const out = parseNamed(text, file, /^\s*([a-z_][a-z0-9_]*)\s+(\d+)\s*$/, "\"name value\"");
  for (const key of ["nr_free_pages", "pgfree"]) {
    if (!out.values.has(key)) throw new SnapshotError(SnapshotErrorCode.Format, file, 0, `no ${key} line: not /proc/vmstat, or a format this reader does not know`);
  }
  return out;
}

/**
 * Reads `/proc/meminfo` (`Name:   value kB`, or a bare count for the HugePages lines). Requires
 * `MemTotal` and `MemFree` (`ERR_SNAPSHOT_FORMAT` without them). Values are as printed (kB). O(file size).
 *
 * @example
 * ```ts
 * parseMeminfo("MemTotal: 981456 kB\nMemFree: 916644 kB\n", "meminfo").values.get("MemFree"); // 916644
 * ```
 */
export function parseMeminfo(text: string, file: string): NamedCounters {
  const out = parseNamed(text, file, /^\s*([A-Za-z_][\w()]*):\s+(\d+)(?:\s+kB)?\s*$/, "\"Name: value kB\"");
  for (const key of ["MemTotal", "MemFree"]) {
    if (!out.values.has(key)) throw new SnapshotError(SnapshotErrorCode.Format, file, 0, `no ${key}: line: not /proc/meminfo, or a format this reader does not know`);
  }
  return out;
}

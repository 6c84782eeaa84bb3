import { MmkitError } from "@mmkit/physmem";
import { quoteLine } from "../errors.js";

/**
 * Error codes of reading the kernel's `/proc` snapshots (buddyinfo, pagetypeinfo, zoneinfo,
 * vmstat, meminfo) beside a trace.
 *
 * @example
 * ```ts
 * if (e instanceof SnapshotError && e.code === SnapshotErrorCode.Format) console.error(e.file, e.line);
 * ```
 */
export const SnapshotErrorCode = {
  /** A line that cannot be read as the file's format: a missing column, a word where a number belongs. */
  Malformed: "ERR_SNAPSHOT_MALFORMED",
  /** The file is laid out as another kernel version prints it (missing lines or columns this reader needs). */
  Format: "ERR_SNAPSHOT_FORMAT",
  /** The snapshots disagree with each other or with the trace so that no honest starting state exists. */
  Mismatch: "ERR_SNAPSHOT_MISMATCH",
  /** A snapshot file the replay needs is not there. */
  Missing: "ERR_SNAPSHOT_MISSING",
} as const;

/** One of {@link SnapshotErrorCode}'s values. */
export type SnapshotErrorCode = (typeof SnapshotErrorCode)[keyof typeof SnapshotErrorCode];

/**
 * A snapshot file that cannot be used as written. The message names the file and the 1-based
 * line (0 when the problem is the whole file's) and quotes the line:
 * `zoneinfo-before.txt line 7: "managed" is not a number: "        managed  x"`.
 *
 * @example
 * ```ts
 * try { parseBuddyinfo(text, "buddyinfo-before.txt"); }
 * catch (e) { if (e instanceof SnapshotError) console.error(e.message); }
 * ```
 */
export class SnapshotError extends MmkitError {
  readonly file: string;
  readonly line: number;
  constructor(code: SnapshotErrorCode, file: string, line: number, reason: string, content = "") {
    super(code, `${file}${line > 0 ? ` line ${line}` : ""}: ${reason}${content === "" ? "" : `: ${quoteLine(content)}`}`);
    this.file = file;
    this.line = line;
  }
}

/** A problem that does not stop the replay but that the researcher must see: file, line, what. */
export interface SnapshotWarning {
  file: string;
  line: number;
  message: string;
}

/**
 * Formats a warning as the error messages are: `file line N: message`. O(message).
 *
 * @example
 * ```ts
 * formatWarning({ file: "vmstat-before.txt", line: 1, message: "nr_free_pages 5" }); // "vmstat-before.txt line 1: nr_free_pages 5"
 * ```
 */
export function formatWarning(w: SnapshotWarning): string {
  return `${w.file}${w.line > 0 ? ` line ${w.line}` : ""}: ${w.message}`;
}

/**
 * Splits a file into lines (without the newline, `\r\n` too), dropping one trailing empty line. O(text).
 *
 * @example
 * ```ts
 * fileLines("a\nb\n"); // ["a", "b"]
 * ```
 */
export function fileLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/**
 * A non-negative decimal integer column, or a {@link SnapshotError} (`ERR_SNAPSHOT_MALFORMED`)
 * naming what it is, the file, the line and the value. O(digits).
 *
 * @example
 * ```ts
 * requireCount("531", "count", "zoneinfo", 116, "  count: 531"); // 531
 * ```
 */
export function requireCount(text: string | undefined, what: string, file: string, line: number, content: string): number {
  if (text === undefined || !/^\d+$/.test(text)) throw new SnapshotError(SnapshotErrorCode.Malformed, file, line, `${what} is ${text === undefined ? "missing" : `${JSON.stringify(text)}, not a count`}`, content);
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new SnapshotError(SnapshotErrorCode.Malformed, file, line, `${what} ${text} is beyond 2^53`, content);
  return value;
}

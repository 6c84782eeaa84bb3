import { accessSync, constants, statSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Why `file` cannot be written, or undefined when it can: its directory must exist and be
 * writable, and `file` itself, when it exists, must be a writable file (not a directory). Checked
 * before a run starts so that a bad `--json`/`--html` path is a usage error, not a stack trace
 * after minutes of work. Writes nothing. O(1) file-system calls.
 *
 * @example
 * ```ts
 * unwritableReason("/no/such/dir/bench.json");   // "directory /no/such/dir does not exist"
 * unwritableReason("/tmp/bench.json");           // undefined
 * ```
 */
export function unwritableReason(file: string): string | undefined {
  const dir = dirname(file);
  const dirStat = statSync(dir, { throwIfNoEntry: false });
  if (dirStat === undefined) return `directory ${dir} does not exist`;
  if (!dirStat.isDirectory()) return `${dir} is not a directory`;
  const fileStat = statSync(file, { throwIfNoEntry: false });
  if (fileStat?.isDirectory()) return `${file} is a directory`;
  try {
    accessSync(fileStat === undefined ? dir : file, constants.W_OK);
  } catch {
    return fileStat === undefined ? `directory ${dir} is not writable` : `${file} is not writable`;
  }
  return undefined;
}

import { ErrorCode, MmkitError, describeValue } from "./errors.js";

/** Byte-size constants. */
export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

/**
 * `bytes` in the largest binary unit that keeps at least one whole unit, e.g. "1.5 TiB". Any number
 * prints (a negative delta, a fractional average; NaN and infinities as "NaN B", "Infinity B");
 * anything else throws `ERR_INVALID_ARGUMENT`.
 *
 * @example
 * ```ts
 * formatBytes(1536);             // "1.5 KiB"
 * formatBytes(1.5 * 2 ** 40);    // "1.5 TiB"
 * formatBytes(-2048);            // "-2 KiB"
 * ```
 */
export function formatBytes(bytes: number): string {
  if (typeof bytes !== "number") throw new MmkitError(ErrorCode.InvalidArgument, `bytes must be a number, got ${describeValue(bytes)}`);
  if (!Number.isFinite(bytes)) return `${bytes} B`;
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  // Three significant digits at most; trailing zeros are trimmed only after a decimal point.
  let text = Number.isInteger(value) ? String(value) : value.toFixed(Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2);
  if (text.includes(".")) text = text.replace(/\.?0+$/, "");
  return `${text} ${units[unit]}`;
}

import { formatBytes } from "@mmkit/physmem";

/**
 * `value` with at most `digits` decimals, trailing zeros dropped, thousands grouped with ",".
 *
 * @example
 * ```ts
 * formatNumber(3934008);   // "3,934,008"
 * formatNumber(0.7793);    // "0.78"
 * ```
 */
export function formatNumber(value: number, digits = 2): string {
  if (!Number.isFinite(value)) return String(value);
  let fixed = Math.abs(value) >= 1000 ? value.toFixed(0) : value.toFixed(digits);
  if (fixed.includes(".")) fixed = fixed.replace(/\.?0+$/, "");
  const [int, frac] = fixed.split(".");
  const grouped = int!.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}

/** Three significant figures at most, so columns of timings line up in width. */
function significant(value: number): string {
  const abs = Math.abs(value);
  return formatNumber(value, abs >= 100 ? 0 : abs >= 10 ? 1 : 2);
}

/**
 * The value a fragmentation index (unit `x1000`) takes when it does not apply: Linux's
 * `fragmentation_index()` returns -1000 when a block of the order asked for is free.
 */
export const NOT_APPLICABLE_X1000 = -1000;

/**
 * Whether `value` in `unit` means "not applicable" rather than a quantity (see
 * {@link NOT_APPLICABLE_X1000}): tables print it as "n/a" and charts draw no bar for it. O(1).
 *
 * @example
 * ```ts
 * isNotApplicable(-1000, "x1000");   // true
 * isNotApplicable(-1000, "count");   // false
 * ```
 */
export function isNotApplicable(value: number, unit: string): boolean {
  return unit === "x1000" && value === NOT_APPLICABLE_X1000;
}

/**
 * A measurement's value in its unit, short enough for a table cell: "3.27 ns", "1.2 ms",
 * "12 KiB", "5.5 lines", "1,024", "12.5%"; "n/a" for a value that means not applicable.
 *
 * @example
 * ```ts
 * formatValue(3.271, "ns");        // "3.27 ns"
 * formatValue(2097152, "bytes");   // "2 MiB"
 * formatValue(-1000, "x1000");      // "n/a"
 * ```
 */
export function formatValue(value: number, unit: string): string {
  if (isNotApplicable(value, unit)) return "n/a";
  switch (unit) {
    case "ns":
      if (Math.abs(value) >= 1e6) return `${significant(value / 1e6)} ms`;
      if (Math.abs(value) >= 1e3) return `${significant(value / 1e3)} µs`;
      return `${significant(value)} ns`;
    case "bytes":
      return formatBytes(value);
    case "count":
      return formatNumber(value, 2);
    case "%":
      return `${significant(value)}%`;
    case "ratio":
      return `${significant(value)}x`;
    default:
      return `${significant(value)} ${unit}`;
  }
}

/**
 * A ratio to the floor: "1x", "2.35x", "41.2x"; empty when there is none.
 *
 * @example
 * ```ts
 * formatRatio(72.22);   // "72.2x"
 * ```
 */
export function formatRatio(ratio: number | undefined): string {
  return ratio === undefined ? "" : `${significant(ratio)}x`;
}

/**
 * A relative spread (p90 - p10) / median as a percentage, ">999%" beyond; empty when there is none.
 *
 * @example
 * ```ts
 * formatSpread(0.0412);   // "4.1%"
 * ```
 */
export function formatSpread(spread: number | undefined): string {
  if (spread === undefined) return "";
  const pct = spread * 100;
  if (pct > 999) return ">999%"; // the figure is noise either way; keep the column narrow
  return `${formatNumber(pct, pct >= 10 ? 0 : 1)}%`;
}

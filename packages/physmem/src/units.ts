/** Byte-size constants. */
export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

/** `bytes` in the largest binary unit that keeps at least one whole unit, e.g. "1.5 TiB". */
export function formatBytes(bytes: number): string {
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

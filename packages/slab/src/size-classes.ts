import { ErrorCode, MmkitError, describeValue } from "@mmkit/physmem";

/**
 * The object sizes kmalloc rounds a request up to, up to `max` bytes:
 * - `"kmalloc"`: the kernel's caches, 8, 16, 32, 64, 96, 128, 192, then powers of two (up to
 *   1.5x the bytes asked for in a power-of-two class, 1.33x in 96 and 192);
 * - `"fine"`: four classes per power of two from 32 up (2^k times 1, 1.25, 1.5, 1.75, as jemalloc
 *   and mimalloc space them), multiples of 8 below, so a request is rounded up by less than 25 %
 *   and by 12 % on average.
 *
 * @example
 * ```ts
 * sizeClasses("kmalloc", 1024); // [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024]
 * sizeClasses("fine", 128);     // [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128]
 * ```
 */
export function sizeClasses(kind: "kmalloc" | "fine", max: number): number[] {
  const out: number[] = [];
  if (kind === "kmalloc") {
    for (const c of [8, 16, 32, 64, 96, 128, 192]) if (c <= max) out.push(c);
    for (let c = 256; c <= max; c *= 2) out.push(c);
    return out;
  }
  if (kind !== "fine") throw new MmkitError(ErrorCode.InvalidArgument, `classes must be "kmalloc" or "fine", got ${describeValue(kind)}`);
  for (let c = 8; c <= Math.min(32, max); c += 8) out.push(c);
  for (let p = 32; p < max; p *= 2) {
    for (const f of [1.25, 1.5, 1.75, 2]) {
      const c = p * f;
      if (c <= max) out.push(c);
    }
  }
  return out;
}

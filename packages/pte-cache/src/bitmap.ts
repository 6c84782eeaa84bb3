/**
 * Helpers for the 512-bit page maps of regions: 16 `Uint32` words from `base`, every `stride`-th
 * word (the cache interleaves its held and free maps, so it reads one of them with stride 2).
 *
 * @example
 * ```ts
 * const bits = new Uint32Array(32);
 * bits[2 * 1 + 1] = 0b100;      // free map, word 1
 * firstSetBit(bits, 1, 16, 2);  // 34
 * ```
 */

/** Index of the lowest set bit in `words` words from `base` (every `stride`-th), or -1. O(words). */
export function firstSetBit(bits: Uint32Array, base: number, words: number, stride = 1): number {
  for (let w = 0; w < words; w++) {
    const v = bits[base + w * stride]!;
    if (v !== 0) return w * 32 + 31 - Math.clz32(v & -v);
  }
  return -1;
}

/** Set bits in one 32-bit word. */
export function popcount32(value: number): number {
  let v = value - ((value >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/** Set bits in `words` words from `base` (every `stride`-th). */
export function popcount(bits: Uint32Array, base: number, words: number, stride = 1): number {
  let n = 0;
  for (let w = 0; w < words; w++) n += popcount32(bits[base + w * stride]!);
  return n;
}

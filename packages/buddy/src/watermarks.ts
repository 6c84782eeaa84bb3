import { requireInteger, requirePowerOfTwo } from "@mmkit/physmem";

/**
 * The kernel's watermark and per-CPU list sizing formulas (`calculate_min_free_kbytes`,
 * `__setup_per_zone_wmarks`, `zone_batchsize`, `zone_highsize`), as pure functions on page counts.
 * Each costs O(1). Arguments are non-negative safe integers (the page size a power of two); anything
 * else throws `ERR_INVALID_ARGUMENT` / `ERR_OUT_OF_RANGE` naming it.
 */

/**
 * Watermarks of one node, in pages. A normal allocation fails when it would leave `min` or fewer free.
 *
 * @example
 * ```ts
 * new BuddyAllocator(MemoryMap.uniform(64 * MiB)).watermarks(0);   // { min: 256, low: 320, high: 384 }
 * ```
 */
export interface Watermarks {
  /** Free pages at or below which normal allocations fail (`WMARK_MIN`). */
  readonly min: number;
  /** Free pages below which kswapd would be woken (`WMARK_LOW`). */
  readonly low: number;
  /** Free pages at which kswapd would stop reclaiming (`WMARK_HIGH`). */
  readonly high: number;
}

/** Lower and upper clamp of `min_free_kbytes` (KiB), as in Linux 5.x/6.x. */
export const MIN_FREE_KBYTES_FLOOR = 128;
export const MIN_FREE_KBYTES_CEILING = 262144;

/** Default `vm.watermark_scale_factor`: the low-min and high-low gaps are at least 0.1 % of the node. */
export const DEFAULT_WATERMARK_SCALE_FACTOR = 10;

function intSqrt(x: number): number {
  let r = Math.floor(Math.sqrt(x));
  while (r * r > x) r--;
  while ((r + 1) * (r + 1) <= x) r++;
  return r;
}

/**
 * `min_free_kbytes` for a machine with `lowmemKbytes` KiB of managed memory:
 * `int_sqrt(lowmem_kbytes * 16)` clamped to [128, 262144].
 *
 * @example
 * ```ts
 * minFreeKbytes(1024 * 1024); // => 4096 (a 1 GiB machine)
 * ```
 */
export function minFreeKbytes(lowmemKbytes: number): number {
  requireInteger(lowmemKbytes, "lowmemKbytes");
  const v = intSqrt(lowmemKbytes * 16);
  return Math.min(MIN_FREE_KBYTES_CEILING, Math.max(MIN_FREE_KBYTES_FLOOR, v));
}

/**
 * One node's watermarks, as `__setup_per_zone_wmarks` computes them: the node's share of
 * `pagesMin` (proportional to its managed pages) is `min`; `low = min + gap`, `high = low + gap`,
 * where `gap = max(min / 4, managed * scaleFactor / 10000)`.
 *
 * @example
 * ```ts
 * zoneWatermarks(1024, 262144, 262144, 10); // => { min: 1024, low: 1286, high: 1548 }
 * ```
 */
export function zoneWatermarks(pagesMin: number, zoneManaged: number, totalManaged: number, scaleFactor: number): Watermarks {
  requireInteger(pagesMin, "pagesMin");
  requireInteger(totalManaged, "totalManaged");
  requireInteger(zoneManaged, "zoneManaged", 0, totalManaged);
  requireInteger(scaleFactor, "scaleFactor", 1, 3000);
  const min = totalManaged > 0 ? Math.floor((pagesMin * zoneManaged) / totalManaged) : 0;
  const gap = Math.max(Math.floor(min / 4), Math.floor((zoneManaged * scaleFactor) / 10000));
  return { min, low: min + gap, high: min + 2 * gap };
}

/**
 * Pages a per-CPU list refills or drains at once (`zone_batchsize`): about 0.1 % of the node or
 * 1 MiB, whichever is smaller, divided by 4 and clamped to 2^n - 1; at least 1.
 *
 * @example
 * ```ts
 * zoneBatchsize(262144, 4096); // => 63
 * ```
 */
export function zoneBatchsize(zoneManaged: number, pageSize: number): number {
  requireInteger(zoneManaged, "zoneManaged");
  requirePowerOfTwo(pageSize, "pageSize");
  let batch = Math.min(Math.floor(zoneManaged / 1024), Math.floor((1024 * 1024) / pageSize));
  batch = Math.floor(batch / 4);
  if (batch < 1) batch = 1;
  const n = batch + Math.floor(batch / 2);
  batch = 2 ** Math.floor(Math.log2(n)) - 1;
  return Math.max(1, batch);
}

/**
 * Per-CPU list high mark (`zone_highsize` with `percpu_pagelist_high_fraction` 0): the node's low
 * watermark split over the CPUs local to it, and at least `4 * batch`.
 *
 * @example
 * ```ts
 * zoneHighsize(1286, 63, 1); // => 1286
 * ```
 */
export function zoneHighsize(lowWatermark: number, batch: number, localCpus: number): number {
  requireInteger(lowWatermark, "lowWatermark");
  requireInteger(batch, "batch");
  requireInteger(localCpus, "localCpus");
  return Math.max(Math.floor(lowWatermark / Math.max(1, localCpus)), batch * 4);
}

/**
 * Sizes the PTE-mapped cache works in. A region is the memory one 2 MiB direct-map leaf covers on
 * x86-64 with 4 KiB pages: 512 pages, an order-9 block. The cache refills, tracks and gives back
 * memory in these units.
 *
 * @example
 * ```ts
 * import { REGION_ORDER, REGION_PAGES } from "@mmkit/pte-cache";
 * REGION_PAGES === 1 << REGION_ORDER; // true (512)
 * ```
 */
export const REGION_ORDER = 9;

/** Pages in one 2 MiB region (2^{@link REGION_ORDER}). */
export const REGION_PAGES = 1 << REGION_ORDER;

/** 32-bit words in one region's 512-bit page map. */
export const REGION_WORDS = REGION_PAGES / 32;

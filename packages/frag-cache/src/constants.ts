/**
 * Bytes in a fragment block: the kernel's `PAGE_FRAG_CACHE_MAX_SIZE` (32 KiB, so order 3 with 4 KiB
 * pages). With pages of 32 KiB or more a block is one page.
 *
 * @example
 * ```ts
 * FRAG_BLOCK_BYTES;            // 32768
 * ```
 */
export const FRAG_BLOCK_BYTES = 32768;

/**
 * The byte freed fragments are filled with in poison mode: the kernel's `PAGE_POISON` (0xaa).
 * A byte of a freed fragment that no longer reads 0xaa when its block is recycled or given back
 * was written after the free.
 *
 * @example
 * ```ts
 * POISON_BYTE.toString(16);    // "aa"
 * ```
 */
export const POISON_BYTE = 0xaa;

/**
 * Fragments start on, and their sizes are rounded up to, multiples of this many bytes (16), so the
 * cache can keep one start bit and one end bit per 16 bytes of each block: exact misuse detection
 * for 1.6 % of the block. The rounding is counted in `bytesWastedRounding`; a fragment's size
 * (`sizeOf`, `view`) is the rounded size.
 *
 * @example
 * ```ts
 * cache.sizeOf(cache.alloc(1500));   // 1504 (FRAG_GRANULE = 16)
 * ```
 */
export const FRAG_GRANULE = 16;

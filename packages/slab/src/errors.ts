/**
 * Error codes of the slab allocator beyond physmem's `ErrorCode`. Misuse still throws
 * `MmkitError` with physmem's codes (`ERR_DOUBLE_FREE`, `ERR_NOT_ALLOCATED`, ...).
 */
export const SlabErrorCode = {
  /**
   * A `slub_debug` check found bytes it did not write: a red zone overwritten (a write past an
   * object's end) or poison changed in a free object (a write after free), or (with `F`) a free
   * pointer that names no free object of its slab. The message names the cache, the object's
   * address, the offset and the byte found.
   */
  Corruption: "ERR_SLAB_CORRUPTION",
  /** An object freed to a cache it does not belong to (`kmem_cache_free` with the wrong cache). */
  WrongCache: "ERR_WRONG_CACHE",
} as const;

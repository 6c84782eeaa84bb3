export { ErrorCode, MmkitError, describeValue, type MmkitErrorCode } from "./errors.js";
export { requireInteger, requirePowerOfTwo, isPowerOfTwo, log2Exact } from "./validate.js";
export {
  MetadataArena,
  requireArrayFactory,
  type ArrayFactory,
  type MetadataArenaOptions,
  type MetadataArray,
  type TypedArrayKind,
  type LabelBytes,
} from "./arena.js";
export { ProbingArena, CACHE_LINE_BYTES, type ProbeResult } from "./probe.js";
export { MemoryMap, MAX_ADDRESS, type MemoryMapOptions, type RamRange, type RamRangeSpec, type NodeInfo } from "./memory-map.js";
export { MemoryBacking, type MemoryBackingOptions } from "./backing.js";
export { DirectMap, Protection, type DirectMapOptions, type DirectMapCounters, type LeafLevel } from "./direct-map.js";
export { MemoryFailure, type MemoryFailureEvent, type MemoryFailureHandler } from "./memory-failure.js";
export { PhysicalMemory, type PhysicalMemoryOptions } from "./physical-memory.js";
export { AdoptedMemory, type AdoptableBuffer, type AdoptedMemoryOptions } from "./adopted-memory.js";
export { KiB, MiB, GiB, TiB, formatBytes } from "./units.js";
export {
  SharedMetadataArena,
  SHARED_ARENA_MAGIC,
  SHARED_ARENA_VERSION,
  type SharedArenaHandle,
  type SharedMetadataArenaOptions,
} from "./shared-arena.js";
export { LOCK_INTS, canBlock, type LockStats, type SharedLock } from "./lock-word.js";
export { SpinLock } from "./spin-lock.js";
export { FutexMutex } from "./futex-mutex.js";
export { RecordingArena, type RecordedArray } from "./recording-arena.js";

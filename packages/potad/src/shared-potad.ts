import { ErrorCode, FutexMutex, MmkitError, SharedMetadataArena, SpinLock, describeValue, requireInteger, type LockStats, type SharedArenaHandle, type SharedLock } from "@mmkit/physmem";
import { POW2 } from "./layout.js";
import type { SpaceSpec } from "./potad.js";
import { checkShared, sharedSpaceStats, type SharedSpaceStats } from "./shared-check.js";
import { allocBlock, drainFronts, freeBlock, sharedCore, tileSpace, type SharedCore } from "./shared-core.js";
import { SharedPotadFront } from "./shared-front.js";
import {
  C_ALLOCS,
  C_FAILURES,
  C_FLUSHED,
  C_FLUSHES,
  C_FREES,
  C_MERGES,
  C_REFILLED,
  C_REFILLS,
  C_SPLITS,
  FAST_SLOT,
  F_ALLOCS,
  F_FREES,
  MAX_SHARED_CPUS,
  ORDER_MASK,
  ORDER_SHIFT,
  S_ALLOCATED,
  frontStride,
  sharedPotadArrays,
  sharedPotadBytes,
  type SharedPotadArrays,
} from "./shared-layout.js";
import { detachedError, diagnoseAddress, orderForSize, requireSharedOrder, requireSharedSpace } from "./shared-misuse.js";
import { layoutSpaces, spaceOf, type SharedSpaces } from "./shared-spaces.js";
import { requireOptions } from "./validate.js";

/**
 * Options of {@link SharedPotad.create}.
 *
 * @example
 * ```ts
 * const potad = SharedPotad.create({ spaces: [{ base: 0, size: 64 * MiB, granule: 4096 }], cpus: 4, frontHigh: 64, frontBatch: 16 });
 * ```
 */
export interface SharedPotadOptions {
  /** The spaces, fixed at creation (space ids are their indices). At most 2^26 granules in all. */
  spaces: SpaceSpec[];
  /** CPU fronts: one per worker that claims one (default 1, at most 4096). */
  cpus?: number;
  /**
   * Blocks one front (one CPU, one space, one front order) holds before `frontBatch` of them are
   * merged: an integer in [0, 2^20], default 64 (POTAD's `frontHigh`). 0 turns the fronts off:
   * every allocation and free takes the zone lock.
   */
  frontHigh?: number;
  /** Blocks a front's refill takes and a full front merges: an integer in [1, max(frontHigh, 1)], default min(16, frontHigh). */
  frontBatch?: number;
  /** The zone lock: a futex-style mutex (default; sleeps when contended) or a spinlock (never sleeps). */
  lock?: "mutex" | "spin";
}

/**
 * What a worker needs to attach to a {@link SharedPotad}: plain data and one `SharedArrayBuffer`,
 * so it survives `postMessage`.
 *
 * @example
 * ```ts
 * worker.postMessage(potad.handle);                 // in the creating thread
 * const mine = SharedPotad.attach(event.data);      // in the worker: the same allocator
 * ```
 */
export interface SharedPotadHandle {
  /** What this object is, checked by `attach`. */
  readonly format: "mmkit-shared-potad";
  /** Layout version ({@link SHARED_POTAD_VERSION}); `attach` refuses another. */
  readonly version: number;
  /** The shared arena holding every table. */
  readonly arena: SharedArenaHandle;
  /** The options the allocator was created with (defaults filled in). */
  readonly options: Required<SharedPotadOptions>;
}

/** Version of the shared POTAD's layout (`shared-layout.ts`); `attach` refuses a handle of another. */
export const SHARED_POTAD_VERSION = 1;

/**
 * Event counts of a shared POTAD summed over every worker.
 *
 * @example
 * ```ts
 * const { allocs, fastAllocs, refills } = potad.counters();
 * ```
 */
export interface SharedPotadCounters {
  /** Allocations handed out (lockless ones included). */
  allocs: number;
  /** Frees (lockless ones included). */
  frees: number;
  /** Allocations served by a front without the lock. */
  fastAllocs: number;
  /** Frees pushed on a front without the lock. */
  fastFrees: number;
  /** Blocks split in two to serve a smaller order. */
  splits: number;
  /** Buddies merged into a larger block. */
  merges: number;
  /** Front refills (one zone-lock acquisition each). */
  refills: number;
  /** Blocks the refills moved onto fronts. */
  refilled: number;
  /** Merges of a front that reached `frontHigh`. */
  flushes: number;
  /** Blocks merged from fronts into the free lists (drains included). */
  flushed: number;
  /** Allocations that found nothing (returned -1). */
  failures: number;
}

/**
 * POTAD shared by worker threads. Every mutable word lives in one `SharedArrayBuffer` of a size
 * fixed at creation: one slot per granule (the block starting there: state, order, front CPU,
 * list links), each space's free lists, each CPU's fronts, counters, the zone lock. Slots never
 * move (POTAD's own block table shifts records on delete and doubles as it grows, which a
 * lockless front would race with), so the metadata is a 16-byte slot per granule, not per block:
 * a shared POTAD suits spaces of up to 2^26 granules in all. `SharedPotad.create(options)` in one
 * thread, post `potad.handle`, `SharedPotad.attach(handle)` in the others.
 *
 * Each worker claims a CPU ({@link claimCpu}) and allocates and frees through its
 * {@link SharedPotadFront}: the space's four front orders without the lock while the front has
 * blocks or room, everything else under the zone lock (a futex-style mutex or a spinlock). A block
 * freed by any worker goes on the freeing CPU's front, bounded by `frontHigh`/`frontBatch`.
 * {@link alloc}/{@link free} here, without a front, take the lock for everything (the "zone lock
 * only" configuration). The single-threaded `Potad` is separate code and unchanged.
 *
 * In shared mode: power-of-two blocks of any order (`alloc`, `allocOrder`, `free` with an
 * expected size, `sizeOf`), page faces, `stats`, `check`. Not in shared mode: descriptors and the
 * descriptor index, contiguous allocations with a weaker alignment, adding, growing and removing
 * spaces after creation.
 *
 * Statistics and {@link check} read the shared state; exact only while no other worker is in the
 * middle of an operation (quiescent). A failing allocation merges only the caller's own fronts.
 * Bad use is a typed error: a handle of another layout or version `ERR_LAYOUT_MISMATCH`; any call
 * after {@link detach} `ERR_DETACHED`; claiming a CPU another instance holds `ERR_INVALID_STATE`.
 * Not detected: two workers freeing the same block at the same moment.
 *
 * Costs: a front's lockless alloc or free is O(1); a locked operation is the single-threaded
 * buddy step (O(orders) to find, O(1) per split or merge) plus the lock. `create` is
 * O(granules) (zeroing the tables); `attach` is O(spaces^2).
 *
 * @example
 * ```ts
 * const potad = SharedPotad.create({ spaces: [{ base: 0, size: 64 << 20, granule: 4096 }], cpus: 4 });
 * worker.postMessage(potad.handle);
 * // in the worker:
 * const mine = SharedPotad.attach(handle);
 * const front = mine.claimCpu(1);
 * const a = front.alloc(0, 4096);   // lockless once cpu 1's front holds blocks
 * front.free(a);
 * ```
 */
export class SharedPotad {
  /** CPU fronts the allocator has. */
  readonly cpus: number;
  /** This instance's owner id (>= 1): what the zone lock and the CPU owners record. */
  readonly owner: number;
  readonly #c: SharedCore;
  readonly #a: SharedPotadArrays;
  readonly #lock: SharedLock;
  readonly #handle: SharedPotadHandle;
  readonly #fronts = new Map<number, SharedPotadFront>();
  #live = true;

  private constructor(handle: SharedPotadHandle, arena: SharedMetadataArena, sp: SharedSpaces) {
    const o = handle.options;
    this.#a = sharedPotadArrays(arena, sp.total, sp.count, o.cpus);
    this.#c = sharedCore(this.#a, sp);
    this.cpus = o.cpus;
    this.owner = Atomics.add(this.#a.attachWord, 0, 1) + 1;
    Atomics.add(this.#a.attachWord, 1, 1);
    this.#lock = o.lock === "spin" ? new SpinLock(this.#a.lock, this.owner) : new FutexMutex(this.#a.lock, this.owner);
    this.#handle = handle;
  }

  /**
   * Builds a shared POTAD over `options.spaces`, each covered with the largest aligned free blocks
   * that fit, and attaches this thread to it. Throws (an `MmkitError` naming the value) on bad
   * options or spaces, overlapping spaces, or more than 2^26 granules. O(granules).
   *
   * @example
   * ```ts
   * const potad = SharedPotad.create({ spaces: [{ base: 0, size: 16 << 20, granule: 4096 }], cpus: 4, lock: "spin" });
   * ```
   */
  static create(options: SharedPotadOptions): SharedPotad {
    requireOptions(options, "shared potad options");
    const sp = layoutSpaces(options.spaces);
    const cpus = options.cpus === undefined ? 1 : requireInteger(options.cpus, "cpus", 1, MAX_SHARED_CPUS);
    const frontHigh = options.frontHigh === undefined ? 64 : requireInteger(options.frontHigh, "frontHigh", 0, 2 ** 20);
    const frontBatch = options.frontBatch === undefined ? Math.max(1, Math.min(16, frontHigh)) : requireInteger(options.frontBatch, "frontBatch", 1, Math.max(frontHigh, 1));
    if (options.lock !== undefined && options.lock !== "mutex" && options.lock !== "spin") {
      throw new MmkitError(ErrorCode.InvalidArgument, `lock must be "mutex" or "spin", got ${describeValue(options.lock)}`);
    }
    const spaces = options.spaces.map((s) => (s.frontOrder === undefined ? { base: s.base, size: s.size, granule: s.granule } : { base: s.base, size: s.size, granule: s.granule, frontOrder: s.frontOrder }));
    const arena = new SharedMetadataArena({ capacity: sharedPotadBytes(sp.total, sp.count, cpus), maxArrays: 16 });
    const a = sharedPotadArrays(arena, sp.total, sp.count, cpus);
    // next and prev -1 (no link), meta 0 (no block) in every slot.
    for (let i = 0; i < sp.total << 2; i += 4) a.slots[i + 1] = a.slots[i + 2] = -1;
    a.heads.fill(-1);
    const stride = frontStride(sp.count);
    for (let i = 0; i < cpus * stride; i += 2) a.fronts[i] = -1;
    const c = sharedCore(a, sp);
    for (let s = 0; s < sp.count; s++) tileSpace(c, s);
    const handle: SharedPotadHandle = {
      format: "mmkit-shared-potad",
      version: SHARED_POTAD_VERSION,
      arena: arena.handle,
      options: { spaces, cpus, frontHigh, frontBatch, lock: options.lock ?? "mutex" },
    };
    return new SharedPotad(handle, attachArena(handle), sp);
  }

  /**
   * Attaches this thread to the shared POTAD behind `handle` (from `potad.handle`, posted from
   * another thread). Throws `ERR_LAYOUT_MISMATCH` when the handle is not one, is of another
   * version, or its options do not describe the tables in its buffer. O(spaces^2).
   *
   * @example
   * ```ts
   * parentPort.on("message", (handle) => { const potad = SharedPotad.attach(handle); });
   * ```
   */
  static attach(handle: SharedPotadHandle): SharedPotad {
    if (handle === null || typeof handle !== "object" || handle.format !== "mmkit-shared-potad") {
      throw new MmkitError(ErrorCode.LayoutMismatch, `not a shared potad handle: ${describeValue(handle)}`);
    }
    if (handle.version !== SHARED_POTAD_VERSION) {
      throw new MmkitError(ErrorCode.LayoutMismatch, `shared potad handle version ${describeValue(handle.version)}; this code reads version ${SHARED_POTAD_VERSION}`);
    }
    try {
      const o = handle.options;
      const sp = layoutSpaces(o.spaces);
      requireInteger(o.cpus, "cpus", 1, MAX_SHARED_CPUS);
      requireInteger(o.frontHigh, "frontHigh", 0, 2 ** 20);
      requireInteger(o.frontBatch, "frontBatch", 1, Math.max(o.frontHigh, 1));
      return new SharedPotad(handle, attachArena(handle), sp);
    } catch (e) {
      if (e instanceof MmkitError && e.code === ErrorCode.LayoutMismatch) throw e;
      throw new MmkitError(ErrorCode.LayoutMismatch, `the shared potad handle does not describe its buffer: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  /** The postable handle (plain data and the shared buffer). */
  get handle(): SharedPotadHandle {
    this.#requireLive();
    return this.#handle;
  }

  /** Bytes of the shared tables (fixed at creation). */
  get metadataBytes(): number {
    this.#requireLive();
    const o = this.#handle.options;
    return sharedPotadBytes(this.#c.sp.total, this.#c.sp.count, o.cpus);
  }

  #requireLive(): void {
    if (!this.#live) throw detachedError("this SharedPotad");
  }

  /**
   * Claims CPU `i` for this thread and returns its front (the same object on every call while
   * claimed). Throws `ERR_INVALID_STATE` naming the owner when another instance holds it. O(1).
   *
   * @example
   * ```ts
   * const front = potad.claimCpu(workerIndex);
   * ```
   */
  claimCpu(i: number): SharedPotadFront {
    this.#requireLive();
    const c = requireInteger(i, "cpu", 0, this.cpus - 1);
    const mine = this.#fronts.get(c);
    if (mine !== undefined) return mine;
    const prev = Atomics.compareExchange(this.#a.owners, c, 0, this.owner);
    if (prev !== 0) throw new MmkitError(ErrorCode.InvalidState, `cpu ${c} is claimed by owner ${prev}`);
    const o = this.#handle.options;
    const front = new SharedPotadFront(this.#c, c, this.#lock, { high: o.frontHigh, batch: o.frontBatch });
    this.#fronts.set(c, front);
    return front;
  }

  /**
   * Owner id of the instance that claimed CPU `i`, 0 when none. O(1).
   *
   * @example
   * ```ts
   * potad.cpuOwner(1);   // the owner id of the worker holding cpu 1
   * ```
   */
  cpuOwner(i: number): number {
    this.#requireLive();
    return Atomics.load(this.#a.owners, requireInteger(i, "cpu", 0, this.cpus - 1));
  }

  /**
   * Gives back this thread's CPUs (their fronts keep their blocks: drain first to return them) and
   * makes this instance and its fronts refuse every later call with `ERR_DETACHED`. Idempotent. O(cpus claimed).
   *
   * @example
   * ```ts
   * front.drain();
   * potad.detach();
   * ```
   */
  detach(): void {
    if (!this.#live) return;
    for (const [c, front] of this.#fronts) {
      front.kill();
      Atomics.compareExchange(this.#a.owners, c, this.owner, 0);
    }
    this.#fronts.clear();
    Atomics.sub(this.#a.attachWord, 1, 1);
    this.#live = false;
  }

  /** Instances attached (in every thread), less those detached. */
  get attachedCount(): number {
    this.#requireLive();
    return Atomics.load(this.#a.attachWord, 1);
  }

  /**
   * After a worker died (its `exit` event): frees the zone lock if it held it, and releases the
   * CPUs it had claimed, so this thread can claim them and drain their fronts. Returns what was
   * recovered. The tables are consistent again only if {@link check} passes: a worker that died
   * inside the lock may have left a list half-linked (a worker that died outside it left its
   * fronts whole; their blocks come back with a drain). O(cpus).
   *
   * @example
   * ```ts
   * worker.on("exit", () => { potad.recoverFrom(ownerOf(worker)); potad.check(); });
   * ```
   */
  recoverFrom(deadOwner: number): { lockBroken: boolean; cpus: number[] } {
    this.#requireLive();
    const owner = requireInteger(deadOwner, "deadOwner", 1, 2 ** 31 - 1);
    const lockBroken = this.#lock.breakLock(owner);
    const cpus: number[] = [];
    for (let c = 0; c < this.cpus; c++) if (Atomics.compareExchange(this.#a.owners, c, owner, 0) === owner) cpus.push(c);
    return { lockBroken, cpus };
  }

  /**
   * Allocates `size` bytes (rounded up to a power of two, at least the granule) from `space`
   * straight from the free lists under the zone lock (no front); returns the address or -1.
   * Throws for a bad space or size. O(orders) plus the lock.
   *
   * @example
   * ```ts
   * const a = potad.alloc(0, 1 << 20);   // a 1 MiB block
   * ```
   */
  alloc(space: number, size: number): number {
    this.#requireLive();
    const s = requireSharedSpace(this.#c.sp, space);
    return this.allocOrder(s, orderForSize(this.#c.sp, s, size));
  }

  /**
   * Allocates a block of `granule * 2^order` bytes from `space` under the zone lock; returns its
   * address or -1. Throws for a bad space or order. O(orders) plus the lock.
   *
   * @example
   * ```ts
   * potad.allocOrder(0, 3);   // 8 granules
   * ```
   */
  allocOrder(space: number, order: number): number {
    this.#requireLive();
    const c = this.#c;
    const s = requireSharedSpace(c.sp, space);
    const k = requireSharedOrder(c.sp, s, order);
    this.#lock.lock();
    try {
      const g = allocBlock(c, s, k);
      if (g < 0) {
        this.#a.counters[C_FAILURES]! += 1;
        return -1;
      }
      this.#a.slots[g << 2] = S_ALLOCATED | (k << ORDER_SHIFT);
      this.#a.counters[C_ALLOCS]! += 1;
      return c.sp.base[s]! + (g - c.sp.offset[s]!) * c.sp.granule[s]!;
    } finally {
      this.#lock.unlock();
    }
  }

  /**
   * Frees the allocation at `address` straight into the free lists under the zone lock (merging
   * at once); with `expectedSize`, checks the size first. Throws (changing nothing) as
   * {@link SharedPotadFront.free}. O(merges) plus the lock.
   *
   * @example
   * ```ts
   * potad.free(a, 1 << 20);
   * ```
   */
  free(address: number, expectedSize?: number): void {
    this.#requireLive();
    const c = this.#c;
    this.#lock.lock();
    try {
      const g = diagnoseAddress(c.sp, this.#a.slots, address, expectedSize);
      this.#a.counters[C_FREES]! += 1;
      freeBlock(c, spaceOf(c.sp, address), g, (this.#a.slots[g << 2]! >> ORDER_SHIFT) & ORDER_MASK);
    } finally {
      this.#lock.unlock();
    }
  }

  /**
   * Bytes of the allocation starting at `address`. Throws as {@link free} would for an address
   * that is not one. Lockless; O(spaces).
   *
   * @example
   * ```ts
   * potad.sizeOf(potad.alloc(0, 5000));   // 8192 with a 4 KiB granule
   * ```
   */
  sizeOf(address: number): number {
    this.#requireLive();
    const sp = this.#c.sp;
    const g = diagnoseAddress(sp, this.#a.slots, address, undefined);
    return sp.granule[spaceOf(sp, address)]! * POW2[(this.#a.slots[g << 2]! >> ORDER_SHIFT) & ORDER_MASK]!;
  }

  /**
   * Merges the fronts of every CPU this thread has claimed. O(blocks held).
   *
   * @example
   * ```ts
   * potad.drainMine();
   * ```
   */
  drainMine(): void {
    this.#requireLive();
    for (const front of this.#fronts.values()) front.drain();
  }

  /**
   * Merges every CPU's fronts, claimed or not: only while the other workers are quiescent (their
   * fronts are theirs while they run), as `Potad.drain()`. O(blocks held).
   *
   * @example
   * ```ts
   * await Promise.all(workersDone);
   * potad.drainAllQuiescent();   // stats(0).cachedBlocks === 0
   * ```
   */
  drainAllQuiescent(): void {
    this.#requireLive();
    this.#lock.lock();
    try {
      for (let cpu = 0; cpu < this.cpus; cpu++) drainFronts(this.#c, cpu, -1);
    } finally {
      this.#lock.unlock();
    }
  }

  /**
   * Statistics of `space` (exact when the other workers are quiescent). O(orders + cpus).
   *
   * @example
   * ```ts
   * potad.stats(0).allocatedBytes;   // 0 when everything came back
   * ```
   */
  stats(space: number): SharedSpaceStats {
    this.#requireLive();
    return sharedSpaceStats(this.#c, requireSharedSpace(this.#c.sp, space), this.cpus);
  }

  /**
   * The event counters summed over every worker (exact when all are quiescent). O(cpus).
   *
   * @example
   * ```ts
   * const { allocs, frees } = potad.counters();
   * ```
   */
  counters(): SharedPotadCounters {
    this.#requireLive();
    const k = this.#a.counters;
    const f = this.#a.fastCounters;
    let fastAllocs = 0;
    let fastFrees = 0;
    for (let cpu = 0; cpu < this.cpus; cpu++) {
      fastAllocs += f[cpu * FAST_SLOT + F_ALLOCS]!;
      fastFrees += f[cpu * FAST_SLOT + F_FREES]!;
    }
    return {
      allocs: k[C_ALLOCS]! + fastAllocs,
      frees: k[C_FREES]! + fastFrees,
      fastAllocs,
      fastFrees,
      splits: k[C_SPLITS]!,
      merges: k[C_MERGES]!,
      refills: k[C_REFILLS]!,
      refilled: k[C_REFILLED]!,
      flushes: k[C_FLUSHES]!,
      flushed: k[C_FLUSHED]!,
      failures: k[C_FAILURES]!,
    };
  }

  /**
   * The zone lock's acquisitions, contended acquisitions and waits, over every worker. O(1).
   *
   * @example
   * ```ts
   * const { acquisitions, contended } = potad.lockStats();
   * ```
   */
  lockStats(): LockStats {
    this.#requireLive();
    return this.#lock.stats();
  }

  /**
   * Zeroes the shared counters and the lock's (call while the others are quiescent). O(cpus).
   *
   * @example
   * ```ts
   * potad.resetCounters();   // potad.counters().allocs === 0
   * ```
   */
  resetCounters(): void {
    this.#requireLive();
    this.#a.counters.fill(0);
    this.#a.fastCounters.fill(0);
    this.#lock.resetStats();
  }

  /**
   * Validates every invariant of the shared tables (see `shared-check.ts`) and throws
   * `ERR_INVARIANT` on the first broken one. Only while the other workers are quiescent. O(granules).
   *
   * @example
   * ```ts
   * potad.check();
   * ```
   */
  check(): void {
    this.#requireLive();
    checkShared(this.#c, this.cpus);
  }
}

/** The shared arena behind `handle`, attached (throws `ERR_LAYOUT_MISMATCH` for a buffer that is not one). */
function attachArena(handle: SharedPotadHandle): SharedMetadataArena {
  return SharedMetadataArena.attach(handle.arena);
}

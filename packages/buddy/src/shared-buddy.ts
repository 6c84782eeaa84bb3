import {
  ErrorCode,
  FutexMutex,
  LOCK_INTS,
  MemoryMap,
  MmkitError,
  RecordingArena,
  SharedMetadataArena,
  SpinLock,
  describeValue,
  requireInteger,
  type LockStats,
  type SharedArenaHandle,
  type SharedLock,
} from "@mmkit/physmem";
import { allocCore } from "./allocate.js";
import { BuddyAllocator } from "./buddy-allocator.js";
import { freeToBuddy } from "./buddy-core.js";
import { checkInvariants } from "./check.js";
import type { CpuPages } from "./cpu-pages.js";
import { ORDER_MASK, ORDER_SHIFT, PAGE_SHIFT, STATE_ALLOCATED, STATE_MASK, ZONE_INTS, Z_FREE, Z_MANAGED } from "./layout.js";
import { diagnoseFree, orderError } from "./misuse.js";
import { requireOptions } from "./options.js";
import { drainCpu, pcpPages } from "./per-cpu.js";
import { createSharedCpuFront, detachedError, type SharedCpuFront } from "./shared-cpu-front.js";
import { COUNTER_SLOT, flushCounters, sumCounters } from "./shared-counters.js";
import { BuddyState, type BuddyCounters, type BuddyOptions } from "./state.js";
import { buddyinfo, type BuddyInfo } from "./statistics.js";

/**
 * Options of {@link SharedBuddy.create}: those of `BuddyAllocator` but the arena (shared mode makes its own) and fault injection (per-thread state).
 *
 * @example
 * ```ts
 * const shared = SharedBuddy.create(MemoryMap.uniform(64 * MiB), { cpus: 4, lock: "spin" });
 * ```
 */
export interface SharedBuddyOptions extends Omit<BuddyOptions, "arena" | "faultInjection" | "cma"> {
  /** The zone lock: a futex-style mutex (default; sleeps when contended) or a spinlock (never sleeps). */
  lock?: "mutex" | "spin";
}

/**
 * What a worker needs to attach to a {@link SharedBuddy}: plain data and one `SharedArrayBuffer`,
 * so it survives `postMessage`.
 *
 * @example
 * ```ts
 * worker.postMessage(shared.handle);                  // in the creating thread
 * const mine = SharedBuddy.attach(event.data);        // in the worker: the same allocator
 * ```
 */
export interface SharedBuddyHandle {
  /** What this object is, checked by `attach`. */
  readonly format: "mmkit-shared-buddy";
  /** Layout version ({@link SHARED_BUDDY_VERSION}); `attach` refuses another. */
  readonly version: number;
  /** The shared arena holding every metadata array. */
  readonly arena: SharedArenaHandle;
  /** The memory map, as `new MemoryMap(...)` takes it. */
  readonly map: { pageSize: number; ranges: { base: number; size: number; node: number }[] };
  /** The options the allocator was created with. */
  readonly options: SharedBuddyOptions;
}

/** Version of the shared buddy's layout (the handle and the arrays after the allocator's own). */
export const SHARED_BUDDY_VERSION = 1;

/** Ints of the attach word: [0] next owner id, [1] attached instances. */
const ATTACH_INTS = 16;

const OPTION_KEYS = [
  "maxOrder",
  "pageblockOrder",
  "cpus",
  "cpuNodes",
  "pcpBatch",
  "pcpHigh",
  "minFreeKbytes",
  "watermarkScaleFactor",
  "groupByMobility",
  "stealWholeBlocks",
  "defaultMigratetype",
  "lock",
] as const;

/**
 * A buddy allocator shared by worker threads. All its mutable state lives in one
 * `SharedArrayBuffer` (the page records, free lists, zone, per-CPU lists and pageblock flags of
 * `BuddyAllocator`, plus a zone lock, per-CPU counters and CPU owners), and each worker holds a
 * `SharedBuddy` attached to it: `SharedBuddy.create(map, options)` in one thread, post
 * `shared.handle`, `SharedBuddy.attach(handle)` in the others.
 *
 * Each worker claims its own CPU front ({@link claimCpu}) and uses it as the kernel uses its pcp
 * lists: orders 0..3 come from and go to that CPU's lists without a lock; refills, drains and
 * everything else take the zone lock (a futex-style mutex, or a spinlock). A page freed by any
 * worker goes onto the freeing CPU's list. {@link allocPages} / {@link freePages} without a front
 * go straight to the free lists under the lock (the "zone lock only" configuration).
 *
 * The single-threaded `BuddyAllocator` is untouched by this mode: its per-CPU fast paths are
 * separate code, so it is exactly as fast as before.
 *
 * Statistics and {@link check} read the shared state; they are exact only while no other worker
 * is in the middle of an operation (quiescent), as `/proc` files are snapshots. A failing
 * allocation drains only the caller's own CPU lists (another worker's lists are its own).
 *
 * Bad use is a typed error: a handle of another layout or version `ERR_LAYOUT_MISMATCH`; any call
 * after {@link detach} `ERR_DETACHED`; claiming a CPU another worker holds `ERR_INVALID_STATE`.
 * Not detected: two workers racing to free the same block at once (each sees it allocated).
 *
 * Costs: a front's lockless allocation or free is `BuddyAllocator.cpu(i)`'s O(1) path plus one
 * counter store in this CPU's slot; anything under the zone lock is the single-threaded path plus
 * an uncontended lock and unlock (a compare-exchange and an atomic subtract) and 13 counter adds
 * into shared memory; a contended lock adds a sleep and a wake. `create` is O(spanned pages) and
 * briefly holds the metadata twice (built, then copied); `attach` is O(1) plus the memory map.
 *
 * @example
 * ```ts
 * const shared = SharedBuddy.create(MemoryMap.uniform(64 << 20), { cpus: 4 });
 * worker.postMessage(shared.handle);
 * // in the worker:
 * const buddy = SharedBuddy.attach(handle);
 * const cpu = buddy.claimCpu(1);
 * const pfn = cpu.allocPages(0);   // lockless when cpu 1's list has pages
 * cpu.freePages(pfn, 0);
 * ```
 */
export class SharedBuddy {
  /** The machine's memory map, as every attached worker sees it. */
  readonly map: MemoryMap;
  /** Largest block order. */
  readonly maxOrder: number;
  /** Number of CPU fronts (one per worker that owns a CPU). */
  readonly cpus: number;
  /** This instance's owner id (>= 1): what the zone lock and the CPU owners record. */
  readonly owner: number;
  readonly #s: BuddyState;
  readonly #lock: SharedLock;
  readonly #counters: Float64Array;
  readonly #owners: Int32Array;
  readonly #attachWord: Int32Array;
  readonly #handle: SharedBuddyHandle;
  readonly #fronts = new Map<number, SharedCpuFront>();
  #live = true;

  private constructor(handle: SharedBuddyHandle) {
    const arena = SharedMetadataArena.attach(handle.arena);
    this.map = new MemoryMap(handle.map);
    const s = new BuddyState(this.map, { ...handle.options, arena }, true);
    this.#s = s;
    this.maxOrder = s.maxOrder;
    this.cpus = s.cpuCount;
    const lockWord = arena.int32(LOCK_INTS, "buddy zone lock");
    this.#counters = arena.float64((s.cpuCount + 1) * COUNTER_SLOT, "buddy shared counters");
    this.#owners = arena.int32(s.cpuCount, "buddy cpu owners");
    this.#attachWord = arena.int32(ATTACH_INTS, "buddy attach word");
    this.owner = Atomics.add(this.#attachWord, 0, 1) + 1;
    Atomics.add(this.#attachWord, 1, 1);
    this.#lock = handle.options.lock === "spin" ? new SpinLock(lockWord, this.owner) : new FutexMutex(lockWord, this.owner);
    this.#handle = handle;
  }

  /**
   * Builds a shared allocator over `map` (as `new BuddyAllocator(map, options)` would, then moved
   * into one `SharedArrayBuffer`) and attaches this thread to it. Throws as `BuddyAllocator`
   * does on bad options, and `ERR_INVALID_ARGUMENT` for an `arena` or `faultInjection` option.
   * O(spanned pages).
   *
   * @example
   * ```ts
   * const shared = SharedBuddy.create(MemoryMap.uniform(64 << 20), { cpus: 4, lock: "mutex" });
   * ```
   */
  static create(map: MemoryMap, options: SharedBuddyOptions = {}): SharedBuddy {
    requireOptions(options, "shared buddy options");
    const o = options as SharedBuddyOptions & { arena?: unknown; faultInjection?: unknown };
    if (o.arena !== undefined) throw new MmkitError(ErrorCode.InvalidArgument, `a shared buddy makes its own shared arena; got an arena option (${describeValue(o.arena)})`);
    if ((o as { cma?: unknown }).cma !== undefined) throw new MmkitError(ErrorCode.InvalidArgument, `a CMA area is not available in shared mode; got cma ${describeValue((o as { cma?: unknown }).cma)}`);
    if (o.faultInjection !== undefined) throw new MmkitError(ErrorCode.InvalidArgument, `fault injection is per-thread state and not available in shared mode; got ${describeValue(o.faultInjection)}`);
    if (options.lock !== undefined && options.lock !== "mutex" && options.lock !== "spin") {
      throw new MmkitError(ErrorCode.InvalidArgument, `lock must be "mutex" or "spin", got ${describeValue(options.lock)}`);
    }
    const plain: Record<string, unknown> = {};
    for (const key of OPTION_KEYS) {
      const v = options[key];
      if (v !== undefined) plain[key] = Array.isArray(v) ? [...v] : v;
    }
    // Built the ordinary way, so the constructor's own code is the only initialiser.
    const recording = new RecordingArena();
    // `initialState` shapes only the arrays' first contents (copied below), so the handle need not carry it.
    const initial = options.initialState === undefined ? {} : { initialState: options.initialState };
    const built = new BuddyAllocator(map, { ...(plain as BuddyOptions), ...initial, arena: recording });
    const spare = LOCK_INTS * 4 + Math.ceil(((built.cpus + 1) * COUNTER_SLOT * 8) / 64) * 64 + Math.ceil((built.cpus * 4) / 64) * 64 + ATTACH_INTS * 4;
    const arena = SharedMetadataArena.copyOf(recording, { spareBytes: spare, spareArrays: 4 });
    arena.int32(LOCK_INTS, "buddy zone lock");
    arena.float64((built.cpus + 1) * COUNTER_SLOT, "buddy shared counters");
    arena.int32(built.cpus, "buddy cpu owners");
    arena.int32(ATTACH_INTS, "buddy attach word");
    const handle: SharedBuddyHandle = {
      format: "mmkit-shared-buddy",
      version: SHARED_BUDDY_VERSION,
      arena: arena.handle,
      map: { pageSize: map.pageSize, ranges: map.ranges.map((r) => ({ base: r.startPfn * map.pageSize, size: (r.endPfn - r.startPfn) * map.pageSize, node: r.node })) },
      options: plain as SharedBuddyOptions,
    };
    return new SharedBuddy(handle);
  }

  /**
   * Attaches this thread to the shared allocator behind `handle` (from `shared.handle`, posted from
   * another thread). Throws `ERR_LAYOUT_MISMATCH` when the handle is not one, is of another
   * version, or its options do not describe the arrays in its buffer. O(1) plus building the
   * memory map.
   *
   * @example
   * ```ts
   * parentPort.on("message", (handle) => { const buddy = SharedBuddy.attach(handle); });
   * ```
   */
  static attach(handle: SharedBuddyHandle): SharedBuddy {
    if (handle === null || typeof handle !== "object" || handle.format !== "mmkit-shared-buddy") {
      throw new MmkitError(ErrorCode.LayoutMismatch, `not a shared buddy handle: ${describeValue(handle)}`);
    }
    if (handle.version !== SHARED_BUDDY_VERSION) {
      throw new MmkitError(ErrorCode.LayoutMismatch, `shared buddy handle version ${describeValue(handle.version)}; this code reads version ${SHARED_BUDDY_VERSION}`);
    }
    try {
      return new SharedBuddy(handle);
    } catch (e) {
      if (e instanceof MmkitError && e.code === ErrorCode.LayoutMismatch) throw e;
      throw new MmkitError(ErrorCode.LayoutMismatch, `the shared buddy handle does not describe its buffer: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  /** The postable handle (plain data and the shared buffer). */
  get handle(): SharedBuddyHandle {
    this.#requireLive();
    return this.#handle;
  }

  #requireLive(): void {
    if (!this.#live) throw detachedError("this SharedBuddy");
  }

  /**
   * Claims CPU `i` for this thread and returns its front (the same object on every call while
   * claimed). Throws `ERR_INVALID_STATE` naming the owner when another instance holds it. O(1).
   *
   * @example
   * ```ts
   * const cpu = buddy.claimCpu(workerIndex);
   * ```
   */
  claimCpu(i: number): CpuPages {
    this.#requireLive();
    const c = requireInteger(i, "cpu", 0, this.cpus - 1);
    const mine = this.#fronts.get(c);
    if (mine !== undefined) return mine;
    const prev = Atomics.compareExchange(this.#owners, c, 0, this.owner);
    if (prev !== 0) throw new MmkitError(ErrorCode.InvalidState, `cpu ${c} is claimed by owner ${prev}`);
    const front = createSharedCpuFront(this.#s, c, this.#lock, this.#counters);
    this.#fronts.set(c, front);
    return front;
  }

  /** Owner id of the instance that claimed CPU `i`, 0 when none. */
  cpuOwner(i: number): number {
    this.#requireLive();
    return Atomics.load(this.#owners, requireInteger(i, "cpu", 0, this.cpus - 1));
  }

  /**
   * Gives back this thread's CPUs (their lists keep their pages: drain first to return them) and
   * makes this instance and its fronts refuse every later call with `ERR_DETACHED`. Idempotent.
   */
  detach(): void {
    if (!this.#live) return;
    for (const [c, front] of this.#fronts) {
      front.kill();
      Atomics.compareExchange(this.#owners, c, this.owner, 0);
    }
    this.#fronts.clear();
    Atomics.sub(this.#attachWord, 1, 1);
    this.#live = false;
  }

  /** Instances attached to the shared allocator (in every thread), less those detached. */
  get attachedCount(): number {
    this.#requireLive();
    return Atomics.load(this.#attachWord, 1);
  }

  /**
   * After a worker died (its `exit` event): frees the zone lock if it held it, and releases the
   * CPUs it had claimed, so this thread can claim them and drain what their lists hold. Returns
   * what was recovered. The allocator's state is consistent again only if {@link check} passes:
   * a worker that died inside the lock may have left a list half-linked.
   */
  recoverFrom(deadOwner: number): { lockBroken: boolean; cpus: number[] } {
    this.#requireLive();
    const owner = requireInteger(deadOwner, "deadOwner", 1, 2 ** 31 - 1);
    const lockBroken = this.#lock.breakLock(owner);
    const cpus: number[] = [];
    for (let c = 0; c < this.cpus; c++) if (Atomics.compareExchange(this.#owners, c, owner, 0) === owner) cpus.push(c);
    return { lockBroken, cpus };
  }

  #locked<T>(fn: () => T): T {
    this.#lock.lock();
    try {
      return fn();
    } finally {
      flushCounters(this.#s, this.#counters, this.cpus);
      this.#lock.unlock();
    }
  }

  /**
   * First pfn of 2^order free pages straight from the free lists under the zone lock (no per-CPU
   * list), or -1. Throws on a bad order. O(maxOrder) plus the lock.
   */
  allocPages(order: number): number {
    if (!this.#live) throw detachedError("this SharedBuddy");
    const s = this.#s;
    if (typeof order !== "number" || (order & 31) !== order || order > s.maxOrder) throw orderError(s, order);
    // try/finally written out, not `#locked(() => ...)`: a closure per call costs more than the lock.
    const lock = this.#lock;
    lock.lock();
    let idx: number;
    try {
      idx = allocCore(s, -1, order, s.defaultMt, 0, 0);
    } finally {
      flushCounters(s, this.#counters, this.cpus);
      lock.unlock();
    }
    return idx < 0 ? -1 : idx + s.base;
  }

  /** Frees a block straight to the free lists under the zone lock; throws on misuse, changing nothing. O(merges). */
  freePages(pfn: number, order: number): void {
    if (!this.#live) throw detachedError("this SharedBuddy");
    const s = this.#s;
    const lock = this.#lock;
    lock.lock();
    try {
      const idx = typeof pfn === "number" ? pfn - s.base : -1;
      if ((idx | 0) !== idx || idx < 0 || idx >= s.pages || typeof order !== "number" || (order & 31) !== order) throw diagnoseFree(s, pfn, order);
      const f = s.mem[idx << PAGE_SHIFT]!;
      if ((f & (STATE_MASK | (ORDER_MASK << ORDER_SHIFT))) !== (STATE_ALLOCATED | (order << ORDER_SHIFT))) throw diagnoseFree(s, pfn, order);
      s.counters.frees++;
      freeToBuddy(s, idx, order);
    } finally {
      flushCounters(s, this.#counters, this.cpus);
      lock.unlock();
    }
  }

  /** Drains the lists of every CPU this thread has claimed. */
  drainMine(): void {
    this.#requireLive();
    for (const c of this.#fronts.keys()) this.#locked(() => drainCpu(this.#s, c));
  }

  /**
   * Drains every CPU's lists, claimed or not: only while the other workers are quiescent (their
   * lists are theirs while they run). O(pages held).
   */
  drainAllQuiescent(): void {
    this.#requireLive();
    this.#locked(() => {
      for (let c = 0; c < this.cpus; c++) drainCpu(this.#s, c);
    });
  }

  /** Free pages on the free lists, all nodes. */
  freePageCount(): number {
    this.#requireLive();
    let t = 0;
    for (let n = 0; n < this.#s.nodeCount; n++) t += this.#s.zone[n * ZONE_INTS + Z_FREE]!;
    return t;
  }

  /** Managed pages, all nodes. */
  managedPages(): number {
    this.#requireLive();
    let t = 0;
    for (let n = 0; n < this.#s.nodeCount; n++) t += this.#s.zone[n * ZONE_INTS + Z_MANAGED]!;
    return t;
  }

  /** Pages on every CPU's lists. */
  perCpuPageCount(): number {
    this.#requireLive();
    return pcpPages(this.#s, -1);
  }

  /** Pages handed out: managed - free - per-CPU. */
  allocatedPageCount(): number {
    return this.managedPages() - this.freePageCount() - this.perCpuPageCount();
  }

  /** `/proc/buddyinfo` of the shared state. */
  buddyinfo(): BuddyInfo[] {
    this.#requireLive();
    return buddyinfo(this.#s);
  }

  /** The event counters summed over every worker (exact when all are quiescent). */
  counters(): BuddyCounters {
    this.#requireLive();
    return sumCounters(this.#counters, this.cpus + 1);
  }

  /** The zone lock's acquisitions, contended acquisitions and waits, over every worker. */
  lockStats(): LockStats {
    this.#requireLive();
    return this.#lock.stats();
  }

  /** Zeroes the shared counters and the lock's (call while the others are quiescent). */
  resetCounters(): void {
    this.#requireLive();
    this.#counters.fill(0);
    this.#lock.resetStats();
  }

  /** Every invariant of `BuddyAllocator.check()` over the shared state (others quiescent). */
  check(): void {
    this.#requireLive();
    checkInvariants(this.#s);
  }
}

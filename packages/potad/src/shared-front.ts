import { ErrorCode, MmkitError, describeValue, requireInteger, requirePowerOfTwo, type SharedLock } from "@mmkit/physmem";
import { POW2, floorLog2 } from "./layout.js";
import { C_ALLOCS, C_FAILURES, C_FLUSHES, C_FREES, C_REFILLED, C_REFILLS, CPU_SHIFT, FAST_SLOT, F_ALLOCS, F_FREES, ORDER_MASK, ORDER_SHIFT, SHARED_FRONT_ORDERS, STATE_MASK, S_ALLOCATED, S_CACHED } from "./shared-layout.js";
import { allocBlock, drainFronts, flushFront, freeBlock, frontAt, pushFront, refillFront, type SharedCore } from "./shared-core.js";
import { detachedError, diagnoseAddress, orderForSize, requireSharedOrder, requireSharedSpace } from "./shared-misuse.js";
import { spaceOf } from "./shared-spaces.js";

/**
 * The `PageSource` shape (what the fragment cache and the PTE cache take) over one space of a
 * shared POTAD front: pfns are addresses / `pageSize`.
 *
 * @example
 * ```ts
 * const pages = front.pageFace(0);
 * const pfn = pages.allocPages(0);   // one 4 KiB page, lockless when the front has one
 * pages.freePages(pfn, 0);
 * ```
 */
export interface SharedPageFace {
  /** First pfn of 2^order pages, or -1. */
  allocPages(order: number): number;
  /** Frees what `allocPages(order)` returned. */
  freePages(pfn: number, order: number): void;
}

/**
 * The bounds of a {@link SharedPotadFront}, as the kernel's pcp `high` and `batch` (from the
 * `frontHigh` and `frontBatch` options of `SharedPotad.create`).
 *
 * @example
 * ```ts
 * const config: SharedFrontConfig = { high: 64, batch: 16 };
 * ```
 */
export interface SharedFrontConfig {
  /** Blocks one front (one space, one front order) holds before `batch` of them are merged; 0: no fronts. */
  high: number;
  /** Blocks a refill takes from the free lists and a full front merges back. */
  batch: number;
}

/**
 * One worker's front to a shared POTAD: the per-CPU caches of small blocks (each space's four
 * front orders) of the CPU it claimed, used without the zone lock, as the kernel uses its pcp
 * lists. An allocation of a front order pops this CPU's front; an empty front is refilled with
 * `batch` blocks under the lock. A free of a front-order block (whoever allocated it) pushes it on
 * *this* CPU's front, so blocks migrate between CPUs, and a front reaching `high` merges `batch`
 * blocks under the lock. Larger orders, misuse diagnosis and anything else take the lock.
 *
 * Why the lockless paths are safe: a block's slot never moves, and the lock holder changes only
 * free blocks' slots and the free lists; this worker changes only its own fronts and the slots of
 * blocks on them or in a caller's hands. A merge reads a neighbour's state, which says "cached" or
 * "allocated" whichever this worker is writing, and never "free".
 *
 * Costs: lockless alloc or free O(1): the front's head and count (this CPU's own line), the
 * block's slot (its state and link on one line) and one counter. A locked operation adds an uncontended lock
 * and unlock (a compare-exchange, an atomic subtract) or, contended, a sleep and a wake.
 *
 * @example
 * ```ts
 * const front = potad.claimCpu(1);
 * const a = front.alloc(0, 4096);   // lockless when cpu 1's front has a block
 * front.free(a);
 * ```
 */
export class SharedPotadFront {
  readonly #c: SharedCore;
  readonly #cpu: number;
  readonly #lock: SharedLock;
  readonly #high: number;
  readonly #batch: number;
  readonly #slot: number;
  // The hot paths' arrays and geometry, held here so a pop or push reads no object chain.
  readonly #slots: Int32Array;
  readonly #fronts: Int32Array;
  readonly #fast: Float64Array;
  /** Index in `fronts` of this CPU's first front. */
  readonly #frontBase: number;
  #live = true;

  /**
   * Made by `SharedPotad.claimCpu`.
   *
   * @internal
   */
  constructor(c: SharedCore, cpu: number, lock: SharedLock, config: SharedFrontConfig) {
    this.#c = c;
    this.#cpu = cpu;
    this.#lock = lock;
    this.#high = config.high;
    this.#batch = config.batch;
    this.#slot = cpu * FAST_SLOT;
    this.#slots = c.a.slots;
    this.#fronts = c.a.fronts;
    this.#fast = c.a.fastCounters;
    this.#frontBase = frontAt(c, cpu, 0, 0);
  }

  /** The CPU this front belongs to. */
  get cpu(): number {
    return this.#cpu;
  }

  /** Blocks waiting on this CPU's fronts, all spaces. O(spaces). */
  get cachedBlocks(): number {
    if (!this.#live) throw detachedError(`cpu ${this.#cpu}'s front`);
    const c = this.#c;
    let n = 0;
    for (let s = 0; s < c.sp.count; s++) for (let fi = 0; fi < SHARED_FRONT_ORDERS; fi++) n += c.a.fronts[frontAt(c, this.#cpu, s, fi) + 1]!;
    return n;
  }

  /**
   * Allocates `size` bytes (rounded up to a power of two, at least the granule) from `space`,
   * aligned to that power of two, as `Potad.alloc`; returns the address or -1. Throws (changing
   * nothing) for a bad space or size. O(1) (see {@link allocOrder}).
   *
   * @example
   * ```ts
   * front.alloc(0, 64 * 1024);   // a 64 KiB block
   * ```
   */
  alloc(space: number, size: number): number {
    if (!this.#live) throw detachedError(`cpu ${this.#cpu}'s front`);
    const s = requireSharedSpace(this.#c.sp, space);
    return this.allocOrder(s, orderForSize(this.#c.sp, s, size));
  }

  /**
   * Allocates a block of `granule * 2^order` bytes from `space`; returns its address or -1 (after
   * merging this CPU's fronts of the space and trying again). Throws for a bad space or order.
   * Cost: a front order with a block on this CPU's front: a lockless pop, O(1). Otherwise under
   * the zone lock: O(orders) to find a free block, O(1) a split, plus `batch - 1` more blocks
   * for a front order's refill.
   *
   * @example
   * ```ts
   * front.allocOrder(0, 0);   // one granule
   * ```
   */
  allocOrder(space: number, order: number): number {
    if (!this.#live) throw detachedError(`cpu ${this.#cpu}'s front`);
    const c = this.#c;
    const sp = c.sp;
    if (typeof space !== "number" || (space >>> 0) !== space || space >= sp.count) requireSharedSpace(sp, space);
    if (typeof order !== "number" || (order >>> 0) !== order || order > sp.maxOrder[space]!) requireSharedOrder(sp, space, order);
    const fi = order - sp.frontOrder[space]!;
    if ((fi >>> 0) < SHARED_FRONT_ORDERS && this.#high > 0) {
      const fronts = this.#fronts;
      const slots = this.#slots;
      const at = this.#frontBase + (space * SHARED_FRONT_ORDERS + fi) * 2;
      const g = fronts[at]!;
      if (g >= 0) {
        fronts[at] = slots[(g << 2) + 1]!;
        fronts[at + 1]! -= 1;
        slots[g << 2] = S_ALLOCATED | (order << ORDER_SHIFT);
        this.#fast[this.#slot + F_ALLOCS]! += 1;
        return sp.base[space]! + (g - sp.offset[space]!) * sp.granule[space]!;
      }
      return this.#allocLocked(space, order, fi);
    }
    return this.#allocLocked(space, order, -1);
  }

  #allocLocked(s: number, k: number, fi: number): number {
    const c = this.#c;
    const a = c.a;
    this.#lock.lock();
    try {
      let g = allocBlock(c, s, k);
      if (g < 0) {
        drainFronts(c, this.#cpu, s);
        g = allocBlock(c, s, k);
      }
      if (g < 0) {
        a.counters[C_FAILURES]! += 1;
        return -1;
      }
      a.slots[g << 2] = S_ALLOCATED | (k << ORDER_SHIFT);
      a.counters[C_ALLOCS]! += 1;
      if (fi >= 0) {
        // A refill, as the kernel's rmqueue_bulk: the next batch - 1 allocations of this order take no lock.
        const n = refillFront(c, this.#cpu, s, fi, k, this.#batch - 1);
        if (n > 0) {
          a.counters[C_REFILLS]! += 1;
          a.counters[C_REFILLED]! += n;
        }
      }
      return c.sp.base[s]! + (g - c.sp.offset[s]!) * c.sp.granule[s]!;
    } finally {
      this.#lock.unlock();
    }
  }

  /**
   * Frees the allocation at `address` (from any worker) onto this CPU's front when its order is a
   * front order, else into the free lists; with `expectedSize`, checks the size first. Throws
   * (changing nothing) as `Potad.free`: `ERR_NOT_ALLOCATED`, `ERR_DOUBLE_FREE` (a block on a front),
   * `ERR_WRONG_SIZE`, `ERR_INVALID_ARGUMENT`. Unlike `Potad.free` it returns nothing (no
   * descriptors in shared mode). Cost: a front order: a lockless push, O(spaces) to find the
   * space, plus merging `batch` blocks under the lock when the front reaches `high`; otherwise
   * under the lock, O(merges).
   *
   * @example
   * ```ts
   * front.free(address);   // lockless, onto this CPU's front
   * ```
   */
  free(address: number, expectedSize?: number): void {
    if (!this.#live) throw detachedError(`cpu ${this.#cpu}'s front`);
    const c = this.#c;
    const sp = c.sp;
    if (typeof address === "number" && this.#high > 0) {
      const s = spaceOf(sp, address);
      if (s >= 0) {
        const rel = (address - sp.base[s]!) / sp.granule[s]!;
        // An integer below 2^26 (the space's granules): `| 0` keeps it, and turns a fraction or NaN into another number.
        if ((rel | 0) === rel) {
          const slots = this.#slots;
          const g = sp.offset[s]! + rel;
          const m = slots[g << 2]!;
          const k = (m >> ORDER_SHIFT) & ORDER_MASK;
          const fi = k - sp.frontOrder[s]!;
          if ((m & STATE_MASK) === S_ALLOCATED && (fi >>> 0) < SHARED_FRONT_ORDERS && (expectedSize === undefined || expectedSize === sp.granule[s]! * POW2[k]!)) {
            // pushFront, written out: this CPU's front of the block's order, the block marked cached there.
            const fronts = this.#fronts;
            const at = this.#frontBase + (s * SHARED_FRONT_ORDERS + fi) * 2;
            slots[g << 2] = S_CACHED | (k << ORDER_SHIFT) | (this.#cpu << CPU_SHIFT);
            slots[(g << 2) + 1] = fronts[at]!;
            fronts[at] = g;
            this.#fast[this.#slot + F_FREES]! += 1;
            if ((fronts[at + 1]! += 1) >= this.#high) this.#flush(s, fi);
            return;
          }
        }
      }
    }
    this.#freeLocked(address, expectedSize);
  }

  #flush(s: number, fi: number): void {
    this.#lock.lock();
    try {
      flushFront(this.#c, this.#cpu, s, fi, this.#batch);
      this.#c.a.counters[C_FLUSHES]! += 1;
    } finally {
      this.#lock.unlock();
    }
  }

  #freeLocked(address: unknown, expectedSize: unknown): void {
    const c = this.#c;
    const sp = c.sp;
    this.#lock.lock();
    try {
      // Diagnosed under the lock: a free block's slot changes only under it.
      const g = diagnoseAddress(sp, c.a.slots, address, expectedSize);
      const s = spaceOf(sp, address as number);
      const k = (c.a.slots[g << 2]! >> ORDER_SHIFT) & ORDER_MASK;
      const fi = k - sp.frontOrder[s]!;
      c.a.counters[C_FREES]! += 1;
      if ((fi >>> 0) < SHARED_FRONT_ORDERS && this.#high > 0) {
        if (pushFront(c, this.#cpu, s, fi, g, k) >= this.#high) {
          flushFront(c, this.#cpu, s, fi, this.#batch);
          c.a.counters[C_FLUSHES]! += 1;
        }
      } else {
        freeBlock(c, s, g, k);
      }
    } finally {
      this.#lock.unlock();
    }
  }

  /**
   * Merges every block on this CPU's fronts into the free lists (all spaces), under the lock, as
   * the kernel's `drain_local_pages`. O(blocks held).
   *
   * @example
   * ```ts
   * front.drain();   // front.cachedBlocks === 0
   * ```
   */
  drain(): void {
    if (!this.#live) throw detachedError(`cpu ${this.#cpu}'s front`);
    this.#lock.lock();
    try {
      drainFronts(this.#c, this.#cpu, -1);
    } finally {
      this.#lock.unlock();
    }
  }

  /**
   * A page face over `space` with pages of `pageSize` bytes (a power of two, at least the space's
   * granule): `allocPages(order)` is `allocOrder` of the matching order divided by `pageSize`.
   * Throws for a bad space or page size. O(1); its calls cost what {@link allocOrder} and
   * {@link free} cost.
   *
   * @example
   * ```ts
   * const pages = front.pageFace(0, 4096);
   * pages.freePages(pages.allocPages(0), 0);
   * ```
   */
  pageFace(space: number, pageSize = 4096): SharedPageFace {
    if (!this.#live) throw detachedError(`cpu ${this.#cpu}'s front`);
    const sp = this.#c.sp;
    const s = requireSharedSpace(sp, space);
    requirePowerOfTwo(pageSize, "pageSize", sp.granule[s]!, 2 ** 52);
    const shift = floorLog2(pageSize) - floorLog2(sp.granule[s]!);
    const base = sp.base[s]!;
    const end = base + sp.size[s]!;
    return {
      allocPages: (order: number): number => {
        if (typeof order !== "number" || (order >>> 0) !== order || order + shift > sp.maxOrder[s]!) requireInteger(order, "order", 0, sp.maxOrder[s]! - shift);
        const a = this.allocOrder(s, order + shift);
        return a < 0 ? -1 : a / pageSize;
      },
      freePages: (pfn: number, order: number): void => {
        if (typeof pfn !== "number" || !Number.isSafeInteger(pfn) || pfn < 0) throw new MmkitError(ErrorCode.InvalidArgument, `pfn must be a non-negative integer, got ${describeValue(pfn)}`);
        if (typeof order !== "number" || (order >>> 0) !== order || order + shift > sp.maxOrder[s]!) requireInteger(order, "order", 0, sp.maxOrder[s]! - shift);
        const address = pfn * pageSize;
        if (!(address >= base && address < end)) throw new MmkitError(ErrorCode.OutOfRange, `pfn ${pfn} is not a page of space ${s}`);
        this.free(address, pageSize * POW2[order]!);
      },
    };
  }

  /**
   * Makes every later call throw `ERR_DETACHED` (the instance was detached).
   *
   * @internal
   */
  kill(): void {
    this.#live = false;
  }
}

import type { ArrayFactory } from "@mmkit/physmem";

/**
 * `struct slab`, one row per slab, kept in two typed arrays from the arena (no object per slab):
 * integers in `ints` (stride {@link INT_STRIDE}), addresses in `addrs` (stride {@link ADDR_STRIDE}).
 * A row's 10 integers are 40 bytes and its 4 addresses 32, so a slab's state is one or two cache lines.
 */

/** Objects handed out from the slab (its own descriptor included when it hosts it). */
export const S_INUSE = 0;
/** Id of the cache the slab belongs to. */
export const S_CACHE = 1;
/** Next slab on the list the slab is on (a partial list), or -1. */
export const S_NEXT = 2;
/** Previous slab on a doubly linked list (the node partial list), or -1. */
export const S_PREV = 3;
/** Page order of the slab. */
export const S_ORDER = 4;
/** One of the `SlabState` values. */
export const S_STATE = 5;
/** CPU whose slab or partial list holds the slab, or -1. */
export const S_CPU = 6;
/** 1 when the slab holds its own descriptor (its first object), else 0. */
export const S_SELF = 7;
/** The slab's row in its cache's allocation bitmap. */
export const S_SLOT = 8;
/** Objects in the slab (fewer than the cache's when it fell back to a lower order). */
export const S_OBJECTS = 9;
export const INT_STRIDE = 10;

/** Address of the slab's first byte. */
export const A_BASE = 0;
/** First free object not owned by a CPU (frees from elsewhere land here), or -1. */
export const A_FREELIST = 1;
/** Address of the slab's descriptor (its memdesc). */
export const A_DESC = 2;
/**
 * Where the slab's first byte is in the memory's `whole()` view (-1 for a memory without one): the
 * kernel's `slab_address()`, translated once when the slab is made, so a free-pointer access is an
 * offset from it rather than an address translation per access.
 */
export const A_VIEW = 3;
export const ADDR_STRIDE = 4;

/** Where a slab is. */
export const SlabState = {
  /** Row not in use. */
  Unused: 0,
  /** A CPU allocates from it (SLUB's frozen cpu slab). */
  Cpu: 1,
  /** On a CPU's partial list. */
  CpuPartial: 2,
  /** On the cache's (node's) partial list. */
  Partial: 3,
  /** Every object handed out; on no list. */
  Full: 4,
} as const;

/**
 * The rows and their allocation: a stack of free row ids; the arrays double when full.
 *
 * @example
 * ```ts
 * const table = new SlabTable(new MetadataArena());
 * const s = table.allocate();
 * table.ints[s * INT_STRIDE + S_INUSE] = 1;
 * table.release(s);
 * ```
 */
export class SlabTable {
  ints: Int32Array;
  addrs: Float64Array;
  #arena: ArrayFactory;
  #free: Int32Array;
  #freeCount = 0;
  #capacity = 0;
  #live = 0;

  constructor(arena: ArrayFactory, capacity = 16) {
    this.#arena = arena;
    this.ints = arena.int32(capacity * INT_STRIDE, "slab rows");
    this.addrs = arena.float64(capacity * ADDR_STRIDE, "slab row addresses");
    this.#free = arena.int32(capacity, "slab free rows");
    this.#take(0, capacity);
  }

  /** Rows the arrays hold. */
  get capacity(): number {
    return this.#capacity;
  }
  /** Rows in use. */
  get live(): number {
    return this.#live;
  }

  /** A free row id, its state set to {@link SlabState.Unused} until the caller fills it. */
  allocate(): number {
    if (this.#freeCount === 0) this.#grow();
    this.#live++;
    return this.#free[--this.#freeCount]!;
  }

  /** Gives row `s` back. */
  release(s: number): void {
    this.ints[s * INT_STRIDE + S_STATE] = SlabState.Unused;
    this.#free[this.#freeCount++] = s;
    this.#live--;
  }

  #take(from: number, to: number): void {
    // Pushed high to low, so row ids are handed out from 0 upwards.
    for (let s = to - 1; s >= from; s--) this.#free[this.#freeCount++] = s;
    this.#capacity = to;
  }

  #grow(): void {
    const old = this.#capacity;
    const capacity = old * 2;
    const a = this.#arena;
    const ints = a.int32(capacity * INT_STRIDE, "slab rows");
    ints.set(this.ints);
    const addrs = a.float64(capacity * ADDR_STRIDE, "slab row addresses");
    addrs.set(this.addrs);
    const free = a.int32(capacity, "slab free rows");
    a.release(this.ints);
    a.release(this.addrs);
    a.release(this.#free);
    this.ints = ints;
    this.addrs = addrs;
    this.#free = free;
    this.#freeCount = 0;
    this.#take(old, capacity);
  }
}

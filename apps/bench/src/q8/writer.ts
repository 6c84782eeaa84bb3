import { ErrorCode, MetadataArena, MmkitError, describeValue, type ArrayFactory } from "@mmkit/physmem";
import { SeededRandom } from "../workloads/random.js";
import {
  LINE_INTS,
  MemdescType,
  R_FIRST,
  R_GENERATION,
  R_PAGES,
  R_REF,
  R_TYPE,
  RECORD_INTS,
  TYPE_COUNT,
  W_ALLOCS,
  W_DEFERRED,
  W_EPOCHS,
  W_FREES,
  W_HELD_PEAK,
  W_HELD_SAMPLES,
  W_HELD_SUM,
  W_NO_SLOT,
  W_RECLAIMED,
  W_STEPS,
  type MemdescSlab,
} from "./memdesc-slab.js";

/** Where a slot is, in the writer's own books. */
export const SlotState = {
  /** In the general pool: memory of no type, reusable for any. */
  Pool: 0,
  /** Taken by {@link MemdescWriter.takeSlot}, not yet initialised and mapped. */
  Taken: 1,
  /** A live memdesc, mapped in the descriptor table. */
  Live: 2,
  /** Type-stable mode: freed, still of its type, waiting for a grace period (reusable at once for the same type). */
  Waiting: 3,
  /** Unmapped, but its count could not be frozen (a reader held a reference): freed on a later step. */
  Deferred: 4,
} as const;

/** How the writer churns. */
export interface MemdescWriterOptions {
  /** Seed of the writer's random choices (which memdesc to free, which type to allocate). */
  seed: number;
  /** Live memdescs the churn keeps (at most the slab's frames). */
  liveTarget: number;
  /** Type-stable mode: steps between two epoch advances (each followed by a reclaim). Default 16. */
  epochEvery?: number;
  /** Where the writer's own books (not shared) come from, counted by label. Default a new `MetadataArena`. */
  arena?: ArrayFactory;
}

/** Type of the i-th allocation draw: folio half the time, slab and ptdesc a quarter each. */
function typeOf(draw: number): number {
  return draw < 2 ? MemdescType.Folio : draw === 2 ? MemdescType.Slab : MemdescType.Ptdesc;
}

/**
 * The one writer of a {@link MemdescSlab}: allocates memdesc slots, initialises them for a frame of
 * pages and maps them in the descriptor table, unmaps and frees them, and reuses the slots, at a
 * high rate ({@link step}). Freeing unmaps the frame, then freezes the reference count (compare 1,
 * the writer's own reference, with 0, as `folio_ref_freeze` does); when a reader holds a speculative
 * reference the freeze fails and the slot is *deferred* to a later step.
 *
 * - `reuse-at-once` (mode a): a freed slot becomes memory of no type at once and goes on the general
 *   pool, from which the next allocation of *any* type takes it (last freed, first reused).
 * - `type-stable` (mode b, `SLAB_TYPESAFE_BY_RCU`): a freed slot keeps its type and goes on its
 *   type's list, reusable at once for that type only, tagged with the epoch it was freed in; every
 *   `epochEvery` steps the writer advances the global epoch and moves to the general pool the slots
 *   freed before the oldest epoch a reader has published (a grace period has passed for them).
 *   Slots on the type lists are the memory type stability holds back.
 *
 * The writer's books (live list, pools, type lists) are its own arrays: only the slot records, the
 * table and the epochs are shared. Allocation takes the slot first and sets its count to 1 before
 * the type and range are written, as the page allocator hands out a page with its count set before
 * the caller makes it a folio or a slab.
 *
 * Cost per {@link step}: O(1) amortised plus, in type-stable mode, O(readers) per epoch advance.
 *
 * @example
 * ```ts
 * const writer = new MemdescWriter(slab, { seed: 1, liveTarget: 448 });
 * writer.fill();                          // 448 live memdescs mapped
 * for (let i = 0; i < 1000; i++) writer.step();
 * writer.check();
 * ```
 */
export class MemdescWriter {
  readonly slab: MemdescSlab;
  readonly liveTarget: number;
  readonly epochEvery: number;
  readonly #records: Int32Array;
  readonly #table: Int32Array;
  readonly #epochs: Int32Array;
  readonly #counters: Float64Array;
  readonly #typeStable: boolean;
  readonly #state: Uint8Array;
  readonly #live: Int32Array;
  readonly #livePos: Int32Array;
  #liveCount = 0;
  readonly #pool: Int32Array;
  #poolCount: number;
  readonly #frames: Int32Array;
  #frameCount: number;
  readonly #deferred: Int32Array;
  #deferredCount = 0;
  // Type lists, oldest free at the head: prev/next per slot, head/tail per type.
  readonly #prev: Int32Array;
  readonly #next: Int32Array;
  readonly #head: Int32Array;
  readonly #tail: Int32Array;
  readonly #retiredIn: Int32Array;
  #waiting = 0;
  readonly #random: SeededRandom;
  #steps = 0;

  constructor(slab: MemdescSlab, options: MemdescWriterOptions) {
    if (options === null || typeof options !== "object") throw new MmkitError(ErrorCode.InvalidArgument, `writer options must be an object, got ${describeValue(options)}`);
    const { seed, liveTarget } = options;
    const epochEvery = options.epochEvery === undefined ? 16 : options.epochEvery;
    if (!Number.isSafeInteger(seed)) throw new MmkitError(ErrorCode.InvalidArgument, `writer seed must be an integer, got ${describeValue(seed)}`);
    if (!Number.isSafeInteger(liveTarget) || liveTarget < 1 || liveTarget > slab.frames || liveTarget > slab.slots) {
      throw new MmkitError(ErrorCode.OutOfRange, `liveTarget must be an integer in [1, ${Math.min(slab.frames, slab.slots)}], got ${describeValue(liveTarget)}`);
    }
    if (!Number.isSafeInteger(epochEvery) || epochEvery < 1) throw new MmkitError(ErrorCode.InvalidArgument, `epochEvery must be a positive integer, got ${describeValue(epochEvery)}`);
    this.slab = slab;
    this.liveTarget = liveTarget;
    this.epochEvery = epochEvery;
    this.#records = slab.records;
    this.#table = slab.table;
    this.#epochs = slab.epochs;
    this.#counters = slab.writerCounters;
    this.#typeStable = slab.mode === "type-stable";
    const n = slab.slots;
    const arena = options.arena ?? new MetadataArena();
    this.#state = arena.uint8(n, "memdesc writer slot states");
    this.#live = arena.int32(n, "memdesc writer live list");
    this.#livePos = arena.int32(n, "memdesc writer live positions").fill(-1);
    // Slot 0 on top of the pool: the first allocations take slots 0, 1, 2...
    this.#pool = arena.int32(n, "memdesc writer general pool");
    for (let i = 0; i < n; i++) this.#pool[i] = n - 1 - i;
    this.#poolCount = n;
    this.#frames = arena.int32(slab.frames, "memdesc writer free frames");
    for (let i = 0; i < slab.frames; i++) this.#frames[i] = slab.frames - 1 - i;
    this.#frameCount = slab.frames;
    this.#deferred = arena.int32(n, "memdesc writer deferred");
    this.#prev = arena.int32(n, "memdesc writer type-list prev").fill(-1);
    this.#next = arena.int32(n, "memdesc writer type-list next").fill(-1);
    this.#head = arena.int32(TYPE_COUNT + 1, "memdesc writer type-list heads").fill(-1);
    this.#tail = arena.int32(TYPE_COUNT + 1, "memdesc writer type-list tails").fill(-1);
    this.#retiredIn = arena.int32(n, "memdesc writer freed-in epochs");
    this.#random = new SeededRandom(seed, "memdesc-rcu/writer");
  }

  /** Live memdescs. */
  get live(): number {
    return this.#liveCount;
  }

  /** Type-stable mode: freed slots waiting for a grace period (memory held back). */
  get waiting(): number {
    return this.#waiting;
  }

  /** Unmapped slots whose count a reader held when they were freed. */
  get deferred(): number {
    return this.#deferredCount;
  }

  /** Slots in the general pool. */
  get pooled(): number {
    return this.#poolCount;
  }

  /** Where `slot` is in the writer's books ({@link SlotState}). */
  stateOf(slot: number): number {
    this.#checkSlot(slot);
    return this.#state[slot]!;
  }

  /** The live slot at position `i` of the live list (0 <= i < live). */
  liveAt(i: number): number {
    if (!Number.isSafeInteger(i) || i < 0 || i >= this.#liveCount) throw new MmkitError(ErrorCode.OutOfRange, `live index must be an integer in [0, ${this.#liveCount - 1}], got ${describeValue(i)}`);
    return this.#live[i]!;
  }

  /** Allocates until {@link liveTarget} memdescs are live (types drawn at random). O(liveTarget). */
  fill(): void {
    while (this.#liveCount < this.liveTarget) if (this.allocate(typeOf(this.#draw(4))) < 0) break;
  }

  /**
   * Takes a slot for a memdesc of `type` and sets its count to 1 (the new owner's reference), before
   * anything else is written. Reuse-at-once: the last slot freed, whatever its type was.
   * Type-stable: the last slot freed as `type`, else one from the general pool. -1 when there is
   * none (counted). O(1).
   */
  takeSlot(type: number): number {
    this.#checkType(type);
    let slot = -1;
    if (this.#typeStable && this.#tail[type]! >= 0) {
      slot = this.#tail[type]!;
      this.#unlink(slot, type);
    } else if (this.#poolCount > 0) {
      slot = this.#pool[--this.#poolCount]!;
    } else {
      this.#counters[W_NO_SLOT]!++;
      return -1;
    }
    this.#state[slot] = SlotState.Taken;
    Atomics.add(this.#records, slot * RECORD_INTS + R_REF, 1);
    return slot;
  }

  /**
   * Makes the taken `slot` a memdesc of `type` describing the next free frame (the last one freed),
   * then maps every page of the frame to it in the descriptor table. No free frame, or a slot not
   * taken, throws `ERR_INVALID_STATE` and changes nothing. O(pages per frame).
   */
  initialise(slot: number, type: number): void {
    this.#checkSlot(slot);
    this.#checkType(type);
    if (this.#state[slot] !== SlotState.Taken) throw new MmkitError(ErrorCode.InvalidState, `slot ${slot} was not taken (state ${this.#state[slot]})`);
    if (this.#frameCount === 0) throw new MmkitError(ErrorCode.InvalidState, `no free frame for slot ${slot}`);
    const frame = this.#frames[--this.#frameCount]!;
    const pages = this.slab.framePages;
    const first = frame * pages;
    const base = slot * RECORD_INTS;
    const r = this.#records;
    Atomics.store(r, base + R_FIRST, first);
    Atomics.store(r, base + R_PAGES, pages);
    Atomics.store(r, base + R_GENERATION, r[base + R_GENERATION]! + 1);
    Atomics.store(r, base + R_TYPE, type);
    for (let p = first; p < first + pages; p++) Atomics.store(this.#table, p, slot);
    this.#state[slot] = SlotState.Live;
    this.#livePos[slot] = this.#liveCount;
    this.#live[this.#liveCount++] = slot;
    this.#counters[W_ALLOCS]!++;
  }

  /**
   * A new memdesc of `type` on a free frame: {@link takeSlot} then {@link initialise}. The slot, or
   * -1 when no frame or no slot is free (counted; nothing changes). O(pages per frame).
   */
  allocate(type: number): number {
    this.#checkType(type);
    if (this.#frameCount === 0) return -1;
    const slot = this.takeSlot(type);
    if (slot < 0) return -1;
    this.initialise(slot, type);
    return slot;
  }

  /**
   * Frees the live memdesc in `slot`: unmaps its frame (the frame is free at once), then freezes its
   * count from 1 to 0. Frozen: the slot is freed as the mode says (true). A reader held a reference:
   * the slot is deferred and freed by a later {@link step} (false). A slot that is not live throws
   * `ERR_NOT_ALLOCATED` and changes nothing. O(pages per frame).
   */
  free(slot: number): boolean {
    this.#checkSlot(slot);
    if (this.#state[slot] !== SlotState.Live) throw new MmkitError(ErrorCode.NotAllocated, `slot ${slot} is not a live memdesc (state ${this.#state[slot]})`);
    const r = this.#records;
    const base = slot * RECORD_INTS;
    const first = r[base + R_FIRST]!;
    const pages = r[base + R_PAGES]!;
    for (let p = first; p < first + pages; p++) Atomics.store(this.#table, p, -1);
    this.#frames[this.#frameCount++] = first / pages;
    const pos = this.#livePos[slot]!;
    const last = this.#live[--this.#liveCount]!;
    this.#live[pos] = last;
    this.#livePos[last] = pos;
    this.#livePos[slot] = -1;
    this.#counters[W_FREES]!++;
    if (Atomics.compareExchange(r, base + R_REF, 1, 0) === 1) {
      this.#release(slot);
      return true;
    }
    this.#state[slot] = SlotState.Deferred;
    this.#deferred[this.#deferredCount++] = slot;
    this.#counters[W_DEFERRED]!++;
    return false;
  }

  /** Tries again to freeze the deferred slots; those no reader holds are freed. O(deferred). */
  retryDeferred(): void {
    const r = this.#records;
    for (let i = 0; i < this.#deferredCount; ) {
      const slot = this.#deferred[i]!;
      if (Atomics.compareExchange(r, slot * RECORD_INTS + R_REF, 1, 0) === 1) {
        this.#deferred[i] = this.#deferred[--this.#deferredCount]!;
        this.#release(slot);
      } else i++;
    }
  }

  /** Advances the global epoch by one (type-stable mode's grace-period clock). O(1). */
  advanceEpoch(): void {
    Atomics.add(this.#epochs, 0, 1);
    this.#counters[W_EPOCHS]!++;
  }

  /**
   * Moves to the general pool (memory of no type) every waiting slot freed in an epoch older than
   * every epoch a reader has published (and than the current one): no reader can still hold a
   * reference it found before the slot was freed. Returns how many it moved. O(readers + moved).
   */
  reclaim(): number {
    const e = this.#epochs;
    let oldest = Atomics.load(e, 0);
    for (let r = 1; r <= this.slab.readers; r++) {
      const published = Atomics.load(e, r * LINE_INTS);
      if (published !== 0 && published < oldest) oldest = published;
    }
    let moved = 0;
    for (let type = 1; type <= TYPE_COUNT; type++) {
      for (let slot = this.#head[type]!; slot >= 0 && this.#retiredIn[slot]! < oldest; slot = this.#head[type]!) {
        this.#unlink(slot, type);
        Atomics.store(this.#records, slot * RECORD_INTS + R_TYPE, MemdescType.Free);
        this.#state[slot] = SlotState.Pool;
        this.#pool[this.#poolCount++] = slot;
        moved++;
      }
    }
    this.#counters[W_RECLAIMED]! += moved;
    return moved;
  }

  /**
   * One step of the churn: retry deferred frees, free a random live memdesc, allocate memdescs of
   * random types until the live target is met (type-stable: an allocation that finds no slot
   * advances the epoch, reclaims and tries once more), and every `epochEvery` steps (type-stable)
   * advance the epoch and reclaim. Samples the slots held back. O(1) amortised.
   */
  step(): void {
    const c = this.#counters;
    if (this.#deferredCount > 0) this.retryDeferred();
    if (this.#liveCount > 0) this.free(this.#live[this.#draw(this.#liveCount)]!);
    for (let tries = 0; this.#liveCount < this.liveTarget && tries < 2; tries++) {
      const type = typeOf(this.#draw(4));
      if (this.allocate(type) < 0 && this.#typeStable && this.#frameCount > 0) {
        this.advanceEpoch();
        this.reclaim();
      }
    }
    this.#steps++;
    if (this.#typeStable && this.#steps % this.epochEvery === 0) {
      this.advanceEpoch();
      this.reclaim();
    }
    const held = this.#waiting;
    if (held > c[W_HELD_PEAK]!) c[W_HELD_PEAK] = held;
    c[W_HELD_SUM]! += held;
    c[W_HELD_SAMPLES]!++;
    c[W_STEPS]!++;
  }

  /**
   * Validates every invariant, for a quiescent slab (no reader in a lookup): the books partition the
   * slots (live, general pool, type lists, deferred), every live slot is a typed memdesc with count 1
   * whose frame maps to it and only it, every table entry is a live slot's, pooled slots are of no
   * type with count 0, waiting slots keep their type with count 0 and sit on their type's list in
   * the order they were freed, and the free frames are exactly the unmapped ones. Throws
   * `ERR_INVARIANT` on the first broken one. O(slots + pfns).
   */
  check(): void {
    const fail = (what: string): never => {
      throw new MmkitError(ErrorCode.Invariant, `memdesc writer: ${what}`);
    };
    const n = this.slab.slots;
    const r = this.#records;
    const pages = this.slab.framePages;
    const seen = new Uint8Array(n);
    const mark = (slot: number, where: string): void => {
      if (slot < 0 || slot >= n) fail(`${where} holds slot ${slot}, outside [0, ${n})`);
      if (seen[slot] !== 0) fail(`slot ${slot} is in two places (again in ${where})`);
      seen[slot] = 1;
    };
    for (let i = 0; i < this.#liveCount; i++) {
      const slot = this.#live[i]!;
      mark(slot, "the live list");
      if (this.#state[slot] !== SlotState.Live || this.#livePos[slot] !== i) fail(`live slot ${slot} has state ${this.#state[slot]}, position ${this.#livePos[slot]} (expected ${i})`);
      const base = slot * RECORD_INTS;
      const type = r[base + R_TYPE]!;
      if (type < 1 || type > TYPE_COUNT) fail(`live slot ${slot} has type ${type}`);
      if (r[base + R_REF] !== 1) fail(`live slot ${slot} has reference count ${r[base + R_REF]}, expected 1 with no reader running`);
      if (r[base + R_PAGES] !== pages || r[base + R_FIRST]! % pages !== 0) fail(`live slot ${slot} describes ${r[base + R_PAGES]} pages from pfn ${r[base + R_FIRST]}, not a frame`);
      for (let p = r[base + R_FIRST]!; p < r[base + R_FIRST]! + pages; p++) if (this.#table[p] !== slot) fail(`pfn ${p} of live slot ${slot} maps to ${this.#table[p]}`);
    }
    for (let i = 0; i < this.#poolCount; i++) {
      const slot = this.#pool[i]!;
      mark(slot, "the general pool");
      if (this.#state[slot] !== SlotState.Pool) fail(`pooled slot ${slot} has state ${this.#state[slot]}`);
      if (r[slot * RECORD_INTS + R_TYPE] !== MemdescType.Free || r[slot * RECORD_INTS + R_REF] !== 0) fail(`pooled slot ${slot} has type ${r[slot * RECORD_INTS + R_TYPE]} and count ${r[slot * RECORD_INTS + R_REF]}`);
    }
    let waiting = 0;
    for (let type = 1; type <= TYPE_COUNT; type++) {
      let prev = -1;
      for (let slot = this.#head[type]!; slot >= 0; slot = this.#next[slot]!) {
        mark(slot, `type ${type}'s list`);
        waiting++;
        if (!this.#typeStable) fail(`reuse-at-once mode has slot ${slot} on a type list`);
        if (this.#state[slot] !== SlotState.Waiting || this.#prev[slot] !== prev) fail(`slot ${slot} on type ${type}'s list has state ${this.#state[slot]}, prev ${this.#prev[slot]} (expected ${prev})`);
        if (r[slot * RECORD_INTS + R_TYPE] !== type || r[slot * RECORD_INTS + R_REF] !== 0) fail(`waiting slot ${slot} has type ${r[slot * RECORD_INTS + R_TYPE]} and count ${r[slot * RECORD_INTS + R_REF]}, expected type ${type} and 0`);
        if (prev >= 0 && this.#retiredIn[prev]! > this.#retiredIn[slot]!) fail(`type ${type}'s list is out of epoch order at slot ${slot}`);
        prev = slot;
      }
      if (this.#tail[type] !== prev) fail(`type ${type}'s tail is ${this.#tail[type]}, its last slot ${prev}`);
    }
    if (waiting !== this.#waiting) fail(`${waiting} slots wait on the type lists, the count says ${this.#waiting}`);
    for (let i = 0; i < this.#deferredCount; i++) {
      const slot = this.#deferred[i]!;
      mark(slot, "the deferred list");
      if (this.#state[slot] !== SlotState.Deferred) fail(`deferred slot ${slot} has state ${this.#state[slot]}`);
    }
    for (let slot = 0; slot < n; slot++) if (seen[slot] === 0) fail(`slot ${slot} (state ${this.#state[slot]}) is in none of the writer's books`);
    let unmapped = 0;
    for (let p = 0; p < this.#table.length; p++) {
      const slot = this.#table[p]!;
      if (slot === -1) {
        if (p % pages === 0) unmapped++;
        continue;
      }
      if (slot < 0 || slot >= n || this.#state[slot] !== SlotState.Live) fail(`pfn ${p} maps to slot ${slot}, which is not live`);
    }
    if (unmapped !== this.#frameCount) fail(`${unmapped} frames are unmapped, ${this.#frameCount} are on the free-frame stack`);
    const frameSeen = new Uint8Array(this.slab.frames);
    for (let i = 0; i < this.#frameCount; i++) {
      const f = this.#frames[i]!;
      if (frameSeen[f] !== 0 || this.#table[f * pages] !== -1) fail(`free frame ${f} is listed twice or mapped`);
      frameSeen[f] = 1;
    }
  }

  #release(slot: number): void {
    if (!this.#typeStable) {
      Atomics.store(this.#records, slot * RECORD_INTS + R_TYPE, MemdescType.Free);
      this.#state[slot] = SlotState.Pool;
      this.#pool[this.#poolCount++] = slot;
      return;
    }
    const type = this.#records[slot * RECORD_INTS + R_TYPE]!;
    this.#retiredIn[slot] = Atomics.load(this.#epochs, 0);
    this.#state[slot] = SlotState.Waiting;
    const tail = this.#tail[type]!;
    this.#prev[slot] = tail;
    this.#next[slot] = -1;
    if (tail >= 0) this.#next[tail] = slot;
    else this.#head[type] = slot;
    this.#tail[type] = slot;
    this.#waiting++;
  }

  #unlink(slot: number, type: number): void {
    const prev = this.#prev[slot]!;
    const next = this.#next[slot]!;
    if (prev >= 0) this.#next[prev] = next;
    else this.#head[type] = next;
    if (next >= 0) this.#prev[next] = prev;
    else this.#tail[type] = prev;
    this.#prev[slot] = -1;
    this.#next[slot] = -1;
    this.#waiting--;
  }

  /** A number in [0, n) from the writer's seeded stream. */
  #draw(n: number): number {
    return this.#random.below(n);
  }

  #checkSlot(slot: number): void {
    if (!Number.isSafeInteger(slot) || slot < 0 || slot >= this.slab.slots) throw new MmkitError(ErrorCode.OutOfRange, `slot must be an integer in [0, ${this.slab.slots - 1}], got ${describeValue(slot)}`);
  }

  #checkType(type: number): void {
    if (type !== MemdescType.Folio && type !== MemdescType.Slab && type !== MemdescType.Ptdesc) {
      throw new MmkitError(ErrorCode.InvalidArgument, `memdesc type must be 1 (folio), 2 (slab) or 3 (ptdesc), got ${describeValue(type)}`);
    }
  }
}

import { MemdescType } from "@mmkit/memdesc-lookup";
import { ErrorCode, MmkitError, describeValue } from "@mmkit/physmem";
import type { AnonOwner } from "./mover.js";
import type { SystemPages } from "./page-face.js";

/**
 * Anonymous blocks (folios of orders 0..maxOrder) a workload holds by slot, through a system's
 * face: the owner side of migration for memory that is not an `AnonMemory` (a fragmenting
 * workload's pinned pages, a churn's live set). It keeps slot -> pfn and pfn -> slot in typed
 * arrays, so a move updates both, and a slot can be pinned (its block then refuses to move, as a
 * page under `get_user_pages` does).
 *
 * Cost: `alloc` and `free` are the face's plus O(1); `holds`, `mayMove` and `moved` O(1).
 * Metadata: 4 bytes per page of the machine and 6 bytes per slot.
 *
 * @example
 * ```ts
 * const blocks = system.anonBlocks(4096);    // registered with system.mover
 * const slot = blocks.alloc(3);              // 8 pages, or -1
 * blocks.pin(slot);                          // never moves now
 * blocks.free(slot);
 * ```
 */
export class AnonBlocks implements AnonOwner {
  readonly pages: SystemPages;
  /** Slot of the block starting at each pfn, -1 for none. */
  readonly #slotOf: Int32Array;
  readonly #pfn: Int32Array;
  readonly #order: Uint8Array;
  readonly #pinned: Uint8Array;
  readonly #freeSlots: Int32Array;
  #freeTop: number;
  /** Blocks held, and their pages. */
  live = 0;
  livePages = 0;

  constructor(pages: SystemPages, machinePages: number, capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new MmkitError(ErrorCode.InvalidArgument, `anon blocks need a capacity of at least 1 slot, got ${describeValue(capacity)}`);
    this.pages = pages;
    this.#slotOf = new Int32Array(machinePages).fill(-1);
    this.#pfn = new Int32Array(capacity).fill(-1);
    this.#order = new Uint8Array(capacity);
    this.#pinned = new Uint8Array(capacity);
    this.#freeSlots = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.#freeSlots[i] = capacity - 1 - i;
    this.#freeTop = capacity;
  }

  /** Slots in all. */
  get capacity(): number {
    return this.#pfn.length;
  }

  /** A new anon block of 2^order pages in a free slot: the slot, or -1 when memory (or a slot) ran out. */
  alloc(order: number): number {
    if (this.#freeTop === 0) return -1;
    const pfn = this.pages.allocPages(order, MemdescType.Anon);
    if (pfn < 0) return -1;
    const slot = this.#freeSlots[--this.#freeTop]!;
    this.#pfn[slot] = pfn;
    this.#order[slot] = order;
    this.#pinned[slot] = 0;
    this.#slotOf[pfn] = slot;
    this.live++;
    this.livePages += 2 ** order;
    return slot;
  }

  /** Frees the block in `slot` (wherever it is now). Throws `ERR_NOT_ALLOCATED` for a slot that holds none. */
  free(slot: number): void {
    const pfn = this.pfn(slot);
    const order = this.#order[slot]!;
    this.pages.freePages(pfn, order);
    this.#slotOf[pfn] = -1;
    this.#pfn[slot] = -1;
    this.#freeSlots[this.#freeTop++] = slot;
    this.live--;
    this.livePages -= 2 ** order;
  }

  /** First pfn of the block in `slot` now. Throws `ERR_NOT_ALLOCATED` for a slot that holds none. */
  pfn(slot: number): number {
    const pfn = Number.isInteger(slot) && slot >= 0 && slot < this.#pfn.length ? this.#pfn[slot]! : -1;
    if (pfn < 0) throw new MmkitError(ErrorCode.NotAllocated, `anon slot ${describeValue(slot)} holds no block`);
    return pfn;
  }

  /** Order of the block in `slot`. */
  order(slot: number): number {
    this.pfn(slot);
    return this.#order[slot]!;
  }

  /** Pins (or unpins) the block in `slot`: a pinned block refuses to move. */
  pin(slot: number, pinned = true): void {
    this.pfn(slot);
    this.#pinned[slot] = pinned ? 1 : 0;
  }

  holds(pfn: number): boolean {
    const slot = pfn >= 0 && pfn < this.#slotOf.length ? this.#slotOf[pfn]! : -1;
    return slot >= 0 && this.#pfn[slot] === pfn;
  }

  mayMove(pfn: number, order: number): boolean {
    const slot = this.#slotOf[pfn]!;
    return slot >= 0 && this.#order[slot] === order && this.#pinned[slot] === 0;
  }

  moved(fromPfn: number, toPfn: number): void {
    const slot = this.#slotOf[fromPfn]!;
    this.#slotOf[fromPfn] = -1;
    this.#slotOf[toPfn] = slot;
    this.#pfn[slot] = toPfn;
  }

  /** Throws on a broken invariant: every held slot's pfn maps back to it, and the counts add up. O(machine pages + slots). */
  check(): void {
    let live = 0;
    let pages = 0;
    for (let slot = 0; slot < this.#pfn.length; slot++) {
      const pfn = this.#pfn[slot]!;
      if (pfn < 0) continue;
      if (this.#slotOf[pfn] !== slot) throw new MmkitError(ErrorCode.InvalidState, `anon slot ${slot} holds pfn ${pfn}, which maps to slot ${this.#slotOf[pfn]}`);
      live++;
      pages += 2 ** this.#order[slot]!;
    }
    let mapped = 0;
    for (let pfn = 0; pfn < this.#slotOf.length; pfn++) if (this.#slotOf[pfn]! >= 0) mapped++;
    if (live !== this.live || pages !== this.livePages || mapped !== live || live + this.#freeTop !== this.#pfn.length) {
      throw new MmkitError(ErrorCode.InvalidState, `anon blocks: ${live} held (${pages} pages), ${mapped} pfns mapped, ${this.#freeTop} free slots; counted ${this.live} (${this.livePages} pages)`);
    }
  }
}

import { ListLru, LruWalk, type ShrinkControl, type Shrinker } from "@mmkit/shrinker";
import type { AnonOwner } from "./mover.js";
import type { PageAllocator } from "./page-face.js";
import type { SwapFile } from "./swap.js";

/**
 * Anonymous memory of a workload: `pages` virtual pages, each resident in a physical page or
 * swapped out to a slot. Resident pages sit on a `ListLru`; the registry's pressure reaches them
 * through {@link AnonMemory.shrinker}, which writes the oldest ones to swap and frees their frames.
 * Touching a swapped page faults it back in (a new frame, its bytes read from the swap file).
 *
 * Per virtual page: one Float64 (frame pfn, or minus the swap slot's address when swapped, or NaN when unmapped).
 * Given the machine's page count, it also keeps the reverse map (an Int32 per frame: the virtual
 * page mapped there, or -1), so it is an {@link AnonOwner}: the system's mover may migrate its
 * resident pages, and a move updates both maps (the LRU is kept by virtual page, so it stays).
 *
 * @example
 * ```ts
 * const anon = new AnonMemory(4096, pages, swap, machine.backing ? (pfn) => machine.bytes(pfn * 4096, 4096) : null);
 * registry.register(anon.shrinker);
 * anon.touch(7); // maps (or faults in) virtual page 7
 * ```
 */
export class AnonMemory implements AnonOwner {
  readonly pages: PageAllocator;
  readonly swap: SwapFile | null;
  readonly #bytes: ((pfn: number) => Uint8Array) | null;
  readonly #pte: Float64Array;
  readonly #lru: ListLru<number>;
  readonly #scratch: Uint8Array;
  /** Virtual page mapped at each frame, -1 for none (empty without `frames`). */
  readonly #rmap: Int32Array;
  /** Frames this memory holds. */
  resident = 0;
  /** Pages evicted to swap, faulted back in, and dropped because swap was full or absent. */
  swappedOut = 0;
  faultsIn = 0;
  readonly shrinker: Shrinker;

  constructor(virtualPages: number, pages: PageAllocator, swap: SwapFile | null, bytes: ((pfn: number) => Uint8Array) | null, pageSize = 4096, frames = 0) {
    this.pages = pages;
    this.#rmap = new Int32Array(frames).fill(-1);
    this.swap = swap;
    this.#bytes = bytes;
    this.#pte = new Float64Array(virtualPages).fill(Number.NaN);
    this.#lru = new ListLru<number>({ nodes: 1, universe: virtualPages });
    this.#scratch = new Uint8Array(pageSize);
    this.shrinker = {
      name: "anon (swap)",
      seeks: 2,
      batch: 32,
      count: () => (swap === null ? 0 : this.#lru.count(0)),
      scan: (sc: ShrinkControl) => this.#lru.shrinkWalk(sc, (v) => (this.#evict(v) ? LruWalk.Removed : LruWalk.Skip)),
    };
  }

  /** The frame behind virtual page `v`, -1 when it is swapped out, NaN when never touched or freed. */
  frameOf(v: number): number {
    const e = this.#pte[v]!;
    return e >= 0 ? e : Number.isNaN(e) ? Number.NaN : -1;
  }

  /** Whether `v` is swapped out. */
  isSwapped(v: number): boolean {
    return this.#pte[v]! < 0;
  }

  /** Maps `v` (a fresh frame, or its bytes back from swap); returns its pfn, or -1 when no frame could be had. */
  touch(v: number): number {
    const e = this.#pte[v]!;
    if (e >= 0) {
      this.#lru.rotate(v);
      return e;
    }
    const pfn = this.pages.allocPages(0);
    if (pfn < 0) return -1;
    if (e < 0) {
      this.swap!.readIn(-e, this.#bytes === null ? this.#scratch : this.#bytes(pfn));
      this.faultsIn++;
    }
    this.#pte[v] = pfn;
    if (pfn < this.#rmap.length) this.#rmap[pfn] = v;
    this.#lru.add(v, 0);
    this.resident++;
    return pfn;
  }

  /** Unmaps `v`, freeing its frame or its swap slot. */
  release(v: number): void {
    const e = this.#pte[v]!;
    if (Number.isNaN(e)) return;
    if (e >= 0) {
      this.#lru.del(v);
      this.pages.freePages(e, 0);
      if (e < this.#rmap.length) this.#rmap[e] = -1;
      this.resident--;
    } else this.swap!.discard(-e);
    this.#pte[v] = Number.NaN;
  }

  /** Is frame `pfn` one of this memory's resident pages? O(1). */
  holds(pfn: number): boolean {
    const v = pfn >= 0 && pfn < this.#rmap.length ? this.#rmap[pfn]! : -1;
    return v >= 0 && this.#pte[v] === pfn;
  }

  /** Resident pages are order 0 and never pinned here. O(1). */
  mayMove(pfn: number, order: number): boolean {
    return order === 0 && this.holds(pfn);
  }

  /** The page's bytes are at `toPfn` now: remap its virtual page there. O(1). */
  moved(fromPfn: number, toPfn: number): void {
    const v = this.#rmap[fromPfn]!;
    this.#rmap[fromPfn] = -1;
    this.#rmap[toPfn] = v;
    this.#pte[v] = toPfn;
  }

  #evict(v: number): boolean {
    const pfn = this.#pte[v]!;
    const slot = this.swap!.writeOut(this.#bytes === null ? this.#scratch : this.#bytes(pfn));
    if (slot < 0) return false;
    this.#pte[v] = -slot;
    this.pages.freePages(pfn, 0);
    if (pfn < this.#rmap.length) this.#rmap[pfn] = -1;
    this.resident--;
    this.swappedOut++;
    return true;
  }
}

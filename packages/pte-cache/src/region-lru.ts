import type { ArrayFactory } from "@mmkit/physmem";
import { NEXT, PREV, RECORD_STRIDE, WHERE } from "./region-record.js";

/**
 * The lists a region with free cached pages sits on, in the order `alloc()` takes from them:
 * - `BlockPartial`: an intact order-9 block with some pages handed out (its free pages are pinned by
 *   the block, so using them first keeps other blocks whole);
 * - `Pieces`: a region the cache holds in pieces (fallback pages, adopted pages, a block split by the
 *   shrinker), each page freeable on its own;
 * - `BlockFree`: an intact order-9 block with all 512 pages free, the unit the shrinker prefers.
 *
 * A region with no free page is on no list.
 */
export const RegionList = {
  BlockPartial: 0,
  Pieces: 1,
  BlockFree: 2,
} as const;

/** One of {@link RegionList}'s values. */
export type RegionListKind = (typeof RegionList)[keyof typeof RegionList];

/** Lists per node. */
export const LIST_KINDS = 3;

/**
 * Per-node LRU lists of region records, `ListLru`-style but index-linked: the links (`PREV`,
 * `NEXT`) and the list id (`WHERE`) live in the region records themselves (see `region-record.ts`),
 * and this class keeps a head, tail and length per (node, list) in arena arrays. Head is the most
 * recently used end; the shrinker takes from the tail.
 *
 * Cost: O(1) per push, remove and move: the record's line, its neighbours' lines, one line of heads.
 * 12 bytes per node and list: a node's three lists are 36 adjacent bytes.
 *
 * @example
 * ```ts
 * const records = new Int32Array(8 * RECORD_STRIDE).fill(-1);
 * const lru = new RegionLru(new MetadataArena(), 1);
 * lru.attach(records);
 * lru.pushHead(0, RegionList.Pieces, 3);
 * lru.pushHead(0, RegionList.Pieces, 5);
 * lru.tail(0, RegionList.Pieces); // 3
 * ```
 */
export class RegionLru {
  #arena: ArrayFactory;
  #rec: Int32Array = new Int32Array(0);
  /** Per (node, list) `l`: head at `3l`, tail at `3l + 1`, length at `3l + 2` (one line for a node's three lists). */
  #lists: Int32Array;
  #nodes: number;

  constructor(arena: ArrayFactory, nodes: number) {
    this.#arena = arena;
    this.#nodes = nodes;
    this.#lists = RegionLru.#newLists(arena, nodes);
  }

  static #newLists(arena: ArrayFactory, nodes: number): Int32Array {
    const a = arena.int32(nodes * LIST_KINDS * 3, "pte-cache lru heads");
    for (let l = 0; l < nodes * LIST_KINDS; l++) {
      a[3 * l] = -1;
      a[3 * l + 1] = -1;
    }
    return a;
  }

  /** Uses `records` (stride {@link RECORD_STRIDE}) for the links from now on. */
  attach(records: Int32Array): void {
    this.#rec = records;
  }

  /** Nodes the lists have room for (ids 0 .. nodes - 1). */
  get nodes(): number {
    return this.#nodes;
  }

  /** The list `slot` is on as `node * LIST_KINDS + kind`, or -1. */
  where(slot: number): number {
    return this.#rec[slot * RECORD_STRIDE + WHERE]!;
  }
  head(node: number, kind: number): number {
    return this.#lists[3 * (node * LIST_KINDS + kind)]!;
  }
  tail(node: number, kind: number): number {
    return this.#lists[3 * (node * LIST_KINDS + kind) + 1]!;
  }
  length(node: number, kind: number): number {
    return this.#lists[3 * (node * LIST_KINDS + kind) + 2]!;
  }
  next(slot: number): number {
    return this.#rec[slot * RECORD_STRIDE + NEXT]!;
  }
  prev(slot: number): number {
    return this.#rec[slot * RECORD_STRIDE + PREV]!;
  }

  /** Puts `slot` (on no list) at the head of (node, kind). */
  pushHead(node: number, kind: number, slot: number): void {
    const r = this.#rec;
    const l = node * LIST_KINDS + kind;
    const ls = this.#lists;
    const h = ls[3 * l]!;
    const b = slot * RECORD_STRIDE;
    r[b + PREV] = -1;
    r[b + NEXT] = h;
    if (h >= 0) r[h * RECORD_STRIDE + PREV] = slot;
    else ls[3 * l + 1] = slot;
    ls[3 * l] = slot;
    r[b + WHERE] = l;
    ls[3 * l + 2]++;
  }

  /** Puts `slot` (on no list) at the tail of (node, kind): the next the shrinker takes. */
  pushTail(node: number, kind: number, slot: number): void {
    const r = this.#rec;
    const l = node * LIST_KINDS + kind;
    const ls = this.#lists;
    const t = ls[3 * l + 1]!;
    const b = slot * RECORD_STRIDE;
    r[b + NEXT] = -1;
    r[b + PREV] = t;
    if (t >= 0) r[t * RECORD_STRIDE + NEXT] = slot;
    else ls[3 * l] = slot;
    ls[3 * l + 1] = slot;
    r[b + WHERE] = l;
    ls[3 * l + 2]++;
  }

  /** Takes `slot` off its list (no-op when it is on none). */
  remove(slot: number): void {
    const r = this.#rec;
    const b = slot * RECORD_STRIDE;
    const l = r[b + WHERE]!;
    if (l < 0) return;
    const ls = this.#lists;
    const p = r[b + PREV]!;
    const n = r[b + NEXT]!;
    if (p >= 0) r[p * RECORD_STRIDE + NEXT] = n;
    else ls[3 * l] = n;
    if (n >= 0) r[n * RECORD_STRIDE + PREV] = p;
    else ls[3 * l + 1] = p;
    r[b + WHERE] = -1;
    ls[3 * l + 2]--;
  }

  /**
   * Moves `slot` to the head of (node, kind) from wherever it is; or, with `toHead` false, leaves it
   * where it is if it is on that list already and puts it at the tail otherwise (the shrinker
   * touching a region does not make it recently used).
   */
  place(node: number, kind: number, slot: number, toHead: boolean): void {
    const l = node * LIST_KINDS + kind;
    const b = slot * RECORD_STRIDE;
    if (this.#rec[b + WHERE] === l && (!toHead || this.#rec[b + PREV] === -1)) return;
    this.remove(slot);
    if (toHead) this.pushHead(node, kind, slot);
    else this.pushTail(node, kind, slot);
  }

  /** Makes room for node ids below `nodes`. */
  growNodes(nodes: number): void {
    if (nodes <= this.#nodes) return;
    const lists = RegionLru.#newLists(this.#arena, nodes);
    lists.set(this.#lists);
    this.#arena.release(this.#lists);
    this.#lists = lists;
    this.#nodes = nodes;
  }

  /** Renumbers heads and tails after the records were packed (`remap[old] = new`). O(nodes). */
  remap(remap: Int32Array): void {
    const ls = this.#lists;
    for (let l = 0; l < this.#nodes * LIST_KINDS; l++) {
      const h = ls[3 * l]!;
      const t = ls[3 * l + 1]!;
      if (h >= 0) ls[3 * l] = remap[h]!;
      if (t >= 0) ls[3 * l + 1] = remap[t]!;
    }
  }

  /**
   * Validates every list: links agree both ways, ends and lengths match, every linked record says
   * which list it is on, and no other record claims a list. Returns the number of linked records;
   * calls `fail` on the first violation. O(slots + nodes).
   */
  validate(fail: (msg: string) => never): number {
    const r = this.#rec;
    const slots = r.length / RECORD_STRIDE;
    let total = 0;
    const ls = this.#lists;
    for (let l = 0; l < this.#nodes * LIST_KINDS; l++) {
      let n = 0;
      let prev = -1;
      for (let s = ls[3 * l]!; s >= 0; s = r[s * RECORD_STRIDE + NEXT]!) {
        if (r[s * RECORD_STRIDE + WHERE] !== l) fail(`region slot ${s} is linked into list ${l} but records list ${r[s * RECORD_STRIDE + WHERE]}`);
        if (r[s * RECORD_STRIDE + PREV] !== prev) fail(`region slot ${s} has prev ${r[s * RECORD_STRIDE + PREV]}, expected ${prev}`);
        prev = s;
        if (++n > slots) fail(`list ${l} has a cycle`);
      }
      if (ls[3 * l + 1] !== prev) fail(`list ${l} tail is ${ls[3 * l + 1]}, last linked slot is ${prev}`);
      if (ls[3 * l + 2] !== n) fail(`list ${l} length says ${ls[3 * l + 2]}, ${n} linked`);
      total += n;
    }
    let marked = 0;
    for (let s = 0; s < slots; s++) if (r[s * RECORD_STRIDE + WHERE]! >= 0) marked++;
    if (marked !== total) fail(`${marked} records name a list but ${total} are linked`);
    return total;
  }

  /** Gives the list heads back to the arena; the lists are unusable afterwards. */
  release(): void {
    this.#arena.release(this.#lists);
  }
}

import { ErrorCode, MetadataArena, requireArrayFactory, MmkitError, describeValue, requireInteger, type ArrayFactory } from "@mmkit/physmem";
import { MAX_NODES } from "./constants.js";
import type { ShrinkControl } from "./shrinker.js";

/**
 * What a {@link ListLru.walk} callback answers for an item (the kernel's `enum lru_status`):
 * - `Removed`: take the item off the list (the callback disposes of it). If the callback already
 *   called `lru.del(item)` itself, that is fine too (the kernel's `list_lru_isolate`).
 * - `Rotate`: keep it, moved to the tail (most recently used); it is not visited again in this walk.
 * - `Skip`: keep it where it is and go on.
 * - `Stop`: keep it where it is and end the walk.
 *
 * @example
 * ```ts
 * lru.walk(0, (page) => (pinned(page) ? LruWalk.Rotate : (release(page), LruWalk.Removed)), 64);
 * ```
 */
export const LruWalk = {
  Removed: 0,
  Rotate: 1,
  Skip: 2,
  Stop: 3,
} as const;

/** One of {@link LruWalk}'s values. */
export type LruWalkResult = (typeof LruWalk)[keyof typeof LruWalk];

/** A {@link ListLru.walk} callback: the item, its node, and the list (which it may change). */
export type LruWalkCallback<T> = (item: T, nid: number, lru: ListLru<T>) => LruWalkResult;

/**
 * Options for {@link ListLru}.
 *
 * @example
 * ```ts
 * const byPfn = new ListLru<number>({ nodes: 2, universe: 1 << 20 });   // a fixed slot per pfn
 * const named = new ListLru<string>({ capacity: 1024 });
 * ```
 */
export interface ListLruOptions {
  /** NUMA nodes, numbered 0 .. nodes - 1 (default 1, at most 1024). */
  nodes?: number;
  /** Items to make room for up front (default 64); the list grows by doubling. Ignored with `universe`. */
  capacity?: number;
  /**
   * Indexed mode, for `ListLru<number>`: items are the integers `0 .. universe - 1` (pfns, object
   * ids), each with its own fixed slot, as the kernel embeds a `list_head` in each object. No `Map`,
   * no value table, no growth: 16 bytes per possible item, allocated up front; the fastest mode.
   */
  universe?: number;
  /** Where the link arrays live (default a new `MetadataArena`). */
  arena?: ArrayFactory;
}

/** State of one walk in progress, so changes made by its callback keep its cursor valid. */
interface WalkFrame {
  /** The slot whose callback is running. */
  cur: number;
  /** Set when `cur` is unlinked (deleted or moved) by the callback. */
  touched: boolean;
  /** The slot the walk visits next; advanced if that item is deleted or moved. */
  next: number;
}

const FREE = -1;

// One slot's record in `#links`: four int32s, so a slot's links share one cache line (four slots per line).
const STRIDE = 4;
const NEXT = 0;
const PREV = 1;
/** The node whose list holds the slot, or FREE. */
const NODE = 2;
/** The walk epoch at which the slot was last appended (see `#epoch`). */
const STAMP = 3;
/** Where walk epochs start again from 0 (well below 2^31, so nested walks cannot overflow). */
const EPOCH_LIMIT = 2 ** 31 - 2 ** 20;
/** Slots an int32-indexed `#links` can hold. */
const MAX_SLOTS = 2 ** 29 - 1;

/**
 * Per-node LRU lists of items (the kernel's `struct list_lru`): an item is on at most one node's
 * list; `add` appends at the tail (most recent), `walk` visits from the head (oldest).
 *
 * Layout: one arena `Int32Array` ("list-lru links") of 16-byte slot records, four to a 64-byte
 * cache line:
 *
 * | int32 | field | meaning                                                                     |
 * | ----- | ----- | --------------------------------------------------------------------------- |
 * | 0     | next  | next slot toward the tail; a head's next is the oldest item                 |
 * | 1     | prev  | previous slot toward the head; a head's prev is the newest item             |
 * | 2     | node  | the node whose list holds the slot, -1 when free (a head holds its own nid) |
 * | 3     | stamp | walk epoch when last appended: a walk stops at items stamped since it began |
 *
 * Slots `0 .. nodes - 1` are the nodes' list heads (circular lists, so no end cases); linking
 * touches the record of the item, its neighbour and the head: 3 lines at most, plus the node's
 * count. By default any value can be an item: it is kept in
 * a value table and found through a `Map` from item to slot (numbers compared by value, objects by
 * identity), and slots are recycled through a free list. With `universe: n` the items are the
 * integers `0 .. n - 1` and item `i` always has slot `nodes + i`: no `Map`, several times faster.
 * (In map mode a removed item's `Map` entry is marked dead rather than deleted, because V8's maps
 * slow down badly under delete/insert churn; dead entries, and the references they hold, are swept
 * once there are more than 1024 of them and more than live items.)
 *
 * Costs: `add`, `del`, `rotate`, `has`, `nodeOf`, `count` O(1) (`add` amortised: growth doubles and
 * copies); `walk` O(visited); `check` O(capacity).
 *
 * @example
 * ```ts
 * const lru = new ListLru<number>({ nodes: 2 });
 * lru.add(100, 0); lru.add(101, 0); lru.add(200, 1);
 * lru.count(0);               // 2
 * lru.rotate(100);            // 100 is now the most recent on node 0
 * lru.walk(0, () => LruWalk.Removed, 1); // 1: removed 101, the oldest
 * lru.items(0);               // [100]
 * ```
 */
export class ListLru<T> {
  readonly #nodes: number;
  readonly #arena: ArrayFactory;
  #capacity = 0;
  /** Per slot: next, prev, node, stamp (see STRIDE). */
  #links!: Int32Array;
  #counts: Int32Array;
  #values: (T | undefined)[] = [];
  /**
   * Map mode: item -> slot, or FREE for an item removed since the last compaction. Removing sets
   * FREE instead of deleting (V8's hash maps slow down badly under delete+insert churn); the dead
   * entries are swept once they outnumber the live ones.
   */
  #index = new Map<T, number>();
  #tombstones = 0;
  #freeHead = FREE;
  /** Indexed mode: items are 0 .. universe - 1 at slot nodes + item; -1 in map mode. */
  readonly #universe: number;
  #size = 0;
  #epoch = 0;
  /** Walks in progress are `#frames[0 .. #depth - 1]`; frame objects are reused. */
  #frames: WalkFrame[] = [];
  #depth = 0;
  #lastVisited = 0;

  constructor(options: ListLruOptions = {}) {
    if (typeof options !== "object" || options === null) {
      throw new MmkitError(ErrorCode.InvalidArgument, `list-lru options must be an object, got ${describeValue(options)}`);
    }
    this.#nodes = requireInteger(options.nodes ?? 1, "nodes", 1, MAX_NODES);
    const capacity = requireInteger(options.capacity ?? 64, "capacity", 0, MAX_SLOTS - MAX_NODES);
    this.#universe = options.universe === undefined ? -1 : requireInteger(options.universe, "universe", 1, MAX_SLOTS - MAX_NODES);
    const arena = requireArrayFactory(options.arena ?? new MetadataArena());
    this.#arena = arena;
    this.#counts = this.#arena.int32(this.#nodes, "list-lru count");
    this.#grow(this.#nodes + (this.#universe >= 0 ? this.#universe : Math.max(capacity, 1)));
  }

  /** Number of nodes. */
  get nodes(): number {
    return this.#nodes;
  }

  /** Items on all nodes. */
  get size(): number {
    return this.#size;
  }

  /** The item range of indexed mode (`universe`), or -1 in map mode. */
  get universe(): number {
    return this.#universe;
  }

  /** Items visited by the last walk that finished (what `shrinkWalk` reports as `nrScanned`). */
  get lastWalkVisited(): number {
    return this.#lastVisited;
  }

  /**
   * Appends `item` at the tail (most recent) of node `nid`'s list. Returns false, changing nothing,
   * when the item is on a list already (the kernel's `list_lru_add`). Throws for an unknown nid, and
   * in indexed mode for an item that is not an integer in `0 .. universe - 1`.
   *
   * Cost: O(1) amortised (map mode grows by doubling); touches three slot records (the item, the
   * old tail, the head: at most 3 cache lines) and the node's count.
   *
   * @example
   * ```ts
   * lru.add(pfn, nid); // true
   * lru.add(pfn, nid); // false
   * ```
   */
  add(item: T, nid: number): boolean {
    requireInteger(nid, "nid", 0, this.#nodes - 1);
    let slot: number;
    if (this.#universe >= 0) {
      slot = requireInteger(item, "item", 0, this.#universe - 1) + this.#nodes;
      if (this.#links[slot * STRIDE + NODE] !== FREE) return false;
    } else {
      const known = this.#index.get(item);
      if (known !== undefined && known !== FREE) return false;
      if (this.#freeHead === FREE) this.#grow(this.#capacity * 2);
      slot = this.#freeHead;
      this.#freeHead = this.#links[slot * STRIDE + NEXT]!;
      this.#values[slot] = item;
      this.#index.set(item, slot);
      if (known === FREE) this.#tombstones--;
    }
    this.#size++;
    this.#links[slot * STRIDE + NODE] = nid;
    this.#linkTail(slot, nid);
    this.#counts[nid]!++;
    return true;
  }

  /**
   * Takes `item` off its list. Returns false when it is on none (the kernel's `list_lru_del`).
   * Safe inside a walk callback, for any item.
   *
   * Cost: O(1); touches the item, its two neighbours (at most 3 lines) and the node's count.
   *
   * @example
   * ```ts
   * if (lru.del(pfn)) reuse(pfn);
   * ```
   */
  del(item: T): boolean {
    const slot = this.#slotOf(item);
    if (slot < 0) return false;
    this.#remove(slot);
    return true;
  }

  /**
   * Moves `item` to the tail (most recent) of its node's list. Returns false when it is on none.
   *
   * Cost: O(1); touches the item, its two neighbours, the head and the old tail (at most 5 lines).
   *
   * @example
   * ```ts
   * lru.rotate(pfn); // on a cache hit
   * ```
   */
  rotate(item: T): boolean {
    const slot = this.#slotOf(item);
    if (slot < 0) return false;
    const nid = this.#links[slot * STRIDE + NODE]!;
    this.#unlink(slot);
    this.#linkTail(slot, nid);
    return true;
  }

  /**
   * True when `item` is on a list.
   *
   * Cost: O(1).
   *
   * @example
   * ```ts
   * lru.has(pfn);
   * ```
   */
  has(item: T): boolean {
    return this.#slotOf(item) >= 0;
  }

  /**
   * The node whose list holds `item`, or -1.
   *
   * Cost: O(1).
   *
   * @example
   * ```ts
   * lru.nodeOf(pfn); // 1
   * ```
   */
  nodeOf(item: T): number {
    const slot = this.#slotOf(item);
    return slot < 0 ? -1 : this.#links[slot * STRIDE + NODE]!;
  }

  /**
   * Items on node `nid`'s list (the kernel's `list_lru_count_node`). Throws for an unknown nid.
   *
   * Cost: O(1).
   *
   * @example
   * ```ts
   * const count = (sc: ShrinkControl) => lru.count(sc.nid);
   * ```
   */
  count(nid: number): number {
    requireInteger(nid, "nid", 0, this.#nodes - 1);
    return this.#counts[nid]!;
  }

  /**
   * Node `nid`'s items, oldest first. Throws for an unknown nid.
   *
   * Cost: O(count) time and memory; for tests and debugging.
   *
   * @example
   * ```ts
   * lru.items(0); // [101, 102, 100]
   * ```
   */
  items(nid: number): T[] {
    requireInteger(nid, "nid", 0, this.#nodes - 1);
    const out: T[] = [];
    for (let s = this.#links[nid * STRIDE + NEXT]!; s !== nid; s = this.#links[s * STRIDE + NEXT]!) out.push(this.#itemAt(s));
    return out;
  }

  /**
   * Visits node `nid`'s items from the oldest, at most `nrToWalk` of them (default: all), asking
   * `callback` what to do with each (see {@link LruWalk}); returns how many were removed (the
   * kernel's `list_lru_walk_one`). Every visit counts against `nrToWalk`, whatever the answer.
   *
   * The callback may add, delete or rotate any item, on any node, and may start another walk: the
   * walk goes on with the next item still on the list. Unlike the kernel, a walk never visits an
   * item twice: it ends when it reaches items rotated or added since it began.
   *
   * Throws for an unknown nid or a bad `nrToWalk` before visiting anything, and `ERR_INVALID_ARGUMENT`
   * if the callback answers something that is not an {@link LruWalk} value (that item is left in
   * place; items handled before it stay handled). A callback that throws ends the walk; the list
   * stays consistent.
   *
   * Cost: O(visited), one callback per visit.
   *
   * @example
   * ```ts
   * const freed = lru.walk(0, (pfn) => (busy(pfn) ? LruWalk.Rotate : (free(pfn), LruWalk.Removed)), 128);
   * ```
   */
  walk(nid: number, callback: LruWalkCallback<T>, nrToWalk: number = Number.MAX_SAFE_INTEGER): number {
    requireInteger(nid, "nid", 0, this.#nodes - 1);
    requireInteger(nrToWalk, "nrToWalk", 0);
    if (typeof callback !== "function") {
      throw new MmkitError(ErrorCode.InvalidArgument, `walk callback must be a function, got ${describeValue(callback)}`);
    }
    // Stamps are int32: long before they could overflow, and only between walks, start again from 0.
    if (this.#epoch >= EPOCH_LIMIT && this.#depth === 0) {
      for (let s = 0; s < this.#capacity; s++) this.#links[s * STRIDE + STAMP] = 0;
      this.#epoch = 0;
    }
    const epoch = ++this.#epoch;
    if (this.#depth === this.#frames.length) this.#frames.push({ cur: FREE, touched: false, next: FREE });
    const frame = this.#frames[this.#depth++]!;
    frame.next = this.#links[nid * STRIDE + NEXT]!;
    let visited = 0;
    let removed = 0;
    try {
      for (;;) {
        const slot = frame.next;
        if (slot === nid || this.#links[slot * STRIDE + STAMP]! >= epoch || visited >= nrToWalk) break;
        frame.next = this.#links[slot * STRIDE + NEXT]!;
        frame.cur = slot;
        frame.touched = false;
        visited++;
        const item = this.#itemAt(slot);
        const answer = callback(item, nid, this);
        // Unless the callback unlinked this item, it is where it was; if it did, it may be back
        // (rotated, or deleted and added again) or gone.
        const stillHere = !frame.touched || this.#slotOf(item) === slot;
        if (answer === LruWalk.Removed) {
          if (stillHere) this.#remove(slot);
          removed++;
        } else if (answer === LruWalk.Rotate) {
          if (stillHere) {
            this.#unlink(slot);
            this.#linkTail(slot, this.#links[slot * STRIDE + NODE]!);
          }
        } else if (answer === LruWalk.Stop) {
          break;
        } else if (answer !== LruWalk.Skip) {
          throw new MmkitError(ErrorCode.InvalidArgument, `walk callback must answer an LruWalk value, got ${describeValue(answer)} for an item on node ${nid}`);
        }
      }
    } finally {
      frame.cur = FREE;
      this.#depth--;
      this.#lastVisited = visited;
    }
    return removed;
  }

  /**
   * A walk for a shrinker's `scan`: walks node `sc.nid` for at most `sc.nrToScan` items, sets
   * `sc.nrScanned` to the items visited, and returns how many were removed (the kernel's
   * `list_lru_shrink_walk`). Use it from NUMA-aware shrinkers (others always see node 0).
   *
   * Cost: as {@link walk}.
   *
   * @example
   * ```ts
   * const shrinker: Shrinker = {
   *   name: "pages", numaAware: true,
   *   count: (sc) => lru.count(sc.nid),
   *   scan: (sc) => lru.shrinkWalk(sc, (pfn) => (pages.freePages(pfn, 0), LruWalk.Removed)),
   * };
   * ```
   */
  shrinkWalk(sc: ShrinkControl, callback: LruWalkCallback<T>): number {
    if (typeof sc !== "object" || sc === null) throw new MmkitError(ErrorCode.InvalidArgument, `shrink control must be an object, got ${describeValue(sc)}`);
    // Required: a missing nrToScan would be walk()'s default, the whole list.
    const removed = this.walk(sc.nid, callback, requireInteger(sc.nrToScan, "nrToScan"));
    sc.nrScanned = this.#lastVisited;
    return removed;
  }

  /**
   * Validates every invariant: each node's list is a consistent circular list whose items are
   * marked with that node and whose stamps never decrease head to tail, counts match, the lookup
   * map and value table agree, and the free slots are exactly the rest. Throws `ERR_INVARIANT` on
   * the first violation.
   *
   * Cost: O(capacity).
   *
   * @example
   * ```ts
   * lru.check();
   * ```
   */
  check(): void {
    const fail = (what: string): never => {
      throw new MmkitError(ErrorCode.Invariant, `list-lru: ${what}`);
    };
    let live = 0;
    for (let nid = 0; nid < this.#nodes; nid++) {
      let n = 0;
      let stamp = -1;
      let p = nid;
      for (let s = this.#links[nid * STRIDE + NEXT]!; s !== nid; s = this.#links[s * STRIDE + NEXT]!) {
        if (s < this.#nodes || s >= this.#capacity) fail(`node ${nid} list reaches slot ${s}`);
        if (this.#links[s * STRIDE + PREV] !== p) fail(`slot ${s} has prev ${this.#links[s * STRIDE + PREV]}, expected ${p}`);
        if (this.#links[s * STRIDE + NODE] !== nid) fail(`slot ${s} on node ${nid}'s list is marked node ${this.#links[s * STRIDE + NODE]}`);
        if (this.#links[s * STRIDE + STAMP]! < stamp || this.#links[s * STRIDE + STAMP]! > this.#epoch) fail(`slot ${s} has stamp ${this.#links[s * STRIDE + STAMP]} out of order`);
        stamp = this.#links[s * STRIDE + STAMP]!;
        if (this.#slotOf(this.#itemAt(s)) !== s) fail(`slot ${s}'s item does not map back to it`);
        p = s;
        if (++n > this.#capacity) fail(`node ${nid} list does not end`);
      }
      if (this.#links[nid * STRIDE + PREV] !== p) fail(`node ${nid} head has prev ${this.#links[nid * STRIDE + PREV]}, expected ${p}`);
      if (this.#counts[nid] !== n) fail(`node ${nid} count ${this.#counts[nid]} but ${n} items listed`);
      live += n;
    }
    if (live !== this.#size) fail(`${live} items listed but size is ${this.#size}`);
    if (this.#universe >= 0) {
      let marked = 0;
      for (let s = this.#nodes; s < this.#capacity; s++) {
        if (this.#links[s * STRIDE + NODE]! < FREE || this.#links[s * STRIDE + NODE]! >= this.#nodes) fail(`slot ${s} is marked node ${this.#links[s * STRIDE + NODE]}`);
        if (this.#links[s * STRIDE + NODE] !== FREE) marked++;
      }
      if (marked !== live) fail(`${marked} slots marked live but ${live} listed`);
      if (this.#index.size !== 0 || this.#freeHead !== FREE) fail("indexed mode uses the map or the free list");
      return;
    }
    let dead = 0;
    for (const v of this.#index.values()) if (v === FREE) dead++;
    if (dead !== this.#tombstones) fail(`${dead} dead map entries but ${this.#tombstones} counted`);
    if (this.#index.size !== live + dead) fail(`${live} items listed but ${this.#index.size - dead} live in the map`);
    let free = 0;
    for (let s = this.#freeHead; s !== FREE; s = this.#links[s * STRIDE + NEXT]!) {
      if (s < this.#nodes || s >= this.#capacity || this.#links[s * STRIDE + NODE] !== FREE) fail(`free list reaches slot ${s}`);
      if (this.#values[s] !== undefined) fail(`free slot ${s} still holds a value`);
      if (++free > this.#capacity) fail("free list does not end");
    }
    if (free + live + this.#nodes !== this.#capacity) fail(`${free} free + ${live} live + ${this.#nodes} heads != capacity ${this.#capacity}`);
  }

  // ---------------------------------------------------------------- internals

  #linkTail(slot: number, nid: number): void {
    const tail = this.#links[nid * STRIDE + PREV]!;
    this.#links[tail * STRIDE + NEXT] = slot;
    this.#links[slot * STRIDE + PREV] = tail;
    this.#links[slot * STRIDE + NEXT] = nid;
    this.#links[nid * STRIDE + PREV] = slot;
    this.#links[slot * STRIDE + STAMP] = this.#epoch;
  }

  /** Unlinks `slot`, first moving any walk cursor that points at it to its successor. */
  #unlink(slot: number): void {
    const next = this.#links[slot * STRIDE + NEXT]!;
    const frames = this.#frames;
    for (let i = 0; i < this.#depth; i++) {
      const f = frames[i]!;
      if (f.next === slot) f.next = next;
      if (f.cur === slot) f.touched = true;
    }
    const prev = this.#links[slot * STRIDE + PREV]!;
    this.#links[prev * STRIDE + NEXT] = next;
    this.#links[next * STRIDE + PREV] = prev;
  }

  /** The slot holding `item`, or -1 when it is on no list. */
  #slotOf(item: T): number {
    if (this.#universe >= 0) {
      const i = item as unknown as number;
      if (!(i >= 0 && i < this.#universe) || !Number.isInteger(i)) return -1;
      return this.#links[(i + this.#nodes) * STRIDE + NODE] === FREE ? -1 : i + this.#nodes;
    }
    return this.#index.get(item) ?? -1;
  }

  #itemAt(slot: number): T {
    return (this.#universe >= 0 ? slot - this.#nodes : this.#values[slot]) as T;
  }

  #remove(slot: number): void {
    const nid = this.#links[slot * STRIDE + NODE]!;
    this.#unlink(slot);
    this.#counts[nid]!--;
    this.#size--;
    if (this.#universe >= 0) {
      this.#links[slot * STRIDE + NODE] = FREE;
      return;
    }
    this.#index.set(this.#values[slot] as T, FREE);
    if (++this.#tombstones > 1024 && this.#tombstones > this.#size) {
      for (const [item, at] of this.#index) if (at === FREE) this.#index.delete(item);
      this.#tombstones = 0;
    }
    this.#values[slot] = undefined;
    this.#links[slot * STRIDE + NODE] = FREE;
    this.#links[slot * STRIDE + NEXT] = this.#freeHead;
    this.#freeHead = slot;
  }

  /** Replaces the slot array with one of `capacity` slots (contents copied); all or nothing. */
  #grow(capacity: number): void {
    if (capacity > MAX_SLOTS) throw new MmkitError(ErrorCode.OutOfRange, `list-lru cannot grow to ${capacity} slots (at most ${MAX_SLOTS})`);
    const links = this.#arena.int32(capacity * STRIDE, "list-lru links");
    const old = this.#capacity;
    if (old > 0) {
      links.set(this.#links);
      this.#arena.release(this.#links);
    } else {
      for (let nid = 0; nid < this.#nodes; nid++) {
        links[nid * STRIDE + NEXT] = nid;
        links[nid * STRIDE + PREV] = nid;
        links[nid * STRIDE + NODE] = nid;
      }
    }
    // New slots are free; in map mode they go on the free list, lowest first.
    const first = Math.max(old, this.#nodes);
    const indexed = this.#universe >= 0;
    for (let s = capacity - 1; s >= first; s--) {
      links[s * STRIDE + NODE] = FREE;
      if (indexed) continue;
      links[s * STRIDE + NEXT] = this.#freeHead;
      this.#freeHead = s;
    }
    this.#links = links;
    if (!indexed) while (this.#values.length < capacity) this.#values.push(undefined);
    this.#capacity = capacity;
  }
}

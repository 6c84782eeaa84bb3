import { ErrorCode, MmkitError, describeValue, type ArrayFactory } from "@mmkit/physmem";
import { checkMapleTree } from "./maple-check.js";
import { innerSummary, leafSummary } from "./maple-gaps.js";
import { MIN_SLOTS, MapleNodes, SLOTS, SLOT_SHIFT } from "./maple-nodes.js";
import { MapleSnapshot } from "./maple-snapshot.js";
import { MapleView, type MapleEntry } from "./maple-view.js";
import { MAX_INDEX, requireIndex, requireRange, requireValue, requireWindow } from "./limits.js";

/** Options for {@link MapleTree}. */
export interface MapleTreeOptions {
  /** Where node arrays come from, so their bytes are counted (default: a private `MetadataArena`). */
  arena?: ArrayFactory;
}

/** Deepest tree the write path supports (2^53 indices need at most 18 levels of 8-way nodes). */
const MAX_LEVELS = 24;
/** Scratch entries: a node plus a sibling plus one split. */
const SCRATCH = SLOTS * 2 + 4;

interface Retired {
  leaf: boolean;
  id: number;
  born: number;
  retiredAt: number;
}

/**
 * A maple tree: a B-tree of non-overlapping ranges `[first, last]` of integer indices in
 * `[0, 2^53 - 1]`, each holding a finite number (a descriptor handle, a memdesc, an id). It is the
 * kernel's range map for VMAs, proposed for physical-address-to-descriptor lookup, rebuilt over
 * typed arrays: 16-slot leaves with Float64 pivots (the kernel's range64 node), 16-slot inner
 * nodes that track the largest gap under every child (the kernel's arange node has 10), all from
 * an arena, no object per entry. Empty runs are entries too, so the leaves partition the whole
 * index space and a lookup is one descent with no bounds checks.
 *
 * Writes (`store`, `erase`, `insert`, `allocRange`) splice one leaf and fix nodes up the path:
 * split above 16 slots, merge or rebalance below 8. Adjacent ranges with the same value stay
 * separate; adjacent empty runs are always merged. {@link snapshot} gives RCU-style readers: while
 * one is live, every node a write changes is copied, and the old ones are reused only once every
 * snapshot that can see them is released.
 *
 * Values: any finite number (`-0` is kept as is). Indices: integers in [0, 2^53 - 1].
 *
 * Costs: `load` one descent, O(log16 n), about 3 cache lines per level; `store`/`erase` a descent
 * plus O(height) node rewrites (more while snapshots are live: each touched node is copied); gap
 * search O(log n) node reads; `bulkLoad` O(n) with full nodes. Metadata: 261 bytes per leaf of up
 * to 16 entries (empty runs between ranges count as entries), 581 per inner node.
 *
 * @example
 * ```ts
 * const tree = new MapleTree();
 * tree.store(0x1000, 0x1fff, 42);
 * tree.load(0x1800);                 // 42
 * tree.insert(0x1800, 0x2800, 7);    // false: 0x1800 is taken
 * tree.emptyArea(0, 0xffff, 0x1000); // 0 (below the range)
 * tree.erase(0x1000);                // 42
 * ```
 */
export class MapleTree extends MapleView {
  #size = 0;
  readonly #pathNode = new Int32Array(MAX_LEVELS);
  readonly #pathSlot = new Int32Array(MAX_LEVELS);
  readonly #pathMin = new Float64Array(MAX_LEVELS);
  // Content of the node being rebuilt: pivots, values or child ids, and child gap summaries.
  readonly #cPiv = new Float64Array(SCRATCH);
  readonly #cSlot = new Float64Array(SCRATCH);
  readonly #cHead = new Float64Array(SCRATCH);
  readonly #cTail = new Float64Array(SCRATCH);
  readonly #cMax = new Float64Array(SCRATCH);
  readonly #sum = new Float64Array(3);
  readonly #entry: MapleEntry = { first: 0, last: 0, value: 0 };
  readonly #snapshots: MapleSnapshot[] = [];
  #retired: Retired[] = [];
  /** Epoch of the newest live snapshot (0: none); nodes born after it are written in place. */
  #pinned = 0;
  #disposed = false;

  constructor(options: MapleTreeOptions = {}) {
    if (options === null || typeof options !== "object") {
      throw new MmkitError(ErrorCode.InvalidArgument, `maple tree options must be an object, got ${describeValue(options)}`);
    }
    super(new MapleNodes(options.arena, 4, 1));
    this.root = this.#emptyLeaf();
    this.levels = 0;
  }

  /**
   * A tree holding `entries` (sorted by index, non-overlapping), built bottom-up with full nodes.
   *
   * @example
   * ```ts
   * const tree = MapleTree.from([{ first: 0, last: 7, value: 1 }, { first: 8, last: 8, value: 2 }]);
   * tree.size; // 2
   * ```
   */
  static from(entries: Iterable<MapleEntry>, options: MapleTreeOptions = {}): MapleTree {
    const list = [...entries];
    const tree = new MapleTree(options);
    tree.bulkLoad(
      list.map((e) => e.first),
      list.map((e) => e.last),
      list.map((e) => e.value),
    );
    return tree;
  }

  /** Number of ranges stored. */
  get size(): number {
    return this.#size;
  }
  /** Same as {@link size}. */
  get count(): number {
    return this.#size;
  }
  /** Bytes of node arrays the tree holds in its arena (capacity included). */
  get metadataBytes(): number {
    return this.nodes.bytes;
  }
  /** Bytes of the nodes in use (live and pinned by snapshots). */
  get nodeBytes(): number {
    return this.nodes.liveBytes;
  }
  /** Nodes in use: `{ leaves, inner }` (pinned ones included). */
  get nodeCount(): { leaves: number; inner: number } {
    return { leaves: this.nodes.leafLive, inner: this.nodes.innerLive };
  }
  /** Snapshots not yet released. */
  get liveSnapshots(): number {
    return this.#snapshots.length;
  }
  /** The arena the node arrays come from. */
  get arena(): ArrayFactory {
    return this.nodes.arena;
  }

  /**
   * Stores `value` at every index of `[first, last]`, overwriting what was there; ranges it covers
   * in part keep their parts outside. Throws (changing nothing) for a bad range or a value that
   * is not a finite number.
   *
   * Cost: one descent and a leaf rewrite, plus a split or merge per level that over- or underflows;
   * a store that spans k leaves costs k descents.
   *
   * @example
   * ```ts
   * tree.store(0, 99, 1);
   * tree.store(40, 59, 2);
   * [...tree.entries()]; // [0..39]=1, [40..59]=2, [60..99]=1
   * ```
   */
  store(first: number, last: number, value: number): void {
    this.#writable();
    requireRange(first, last);
    requireValue(value);
    this.#write(first, last, value);
  }

  /**
   * Stores `value` at `[first, last]` only if every index of it is empty. Returns false (and changes
   * nothing) when any is occupied. Cost: a find plus a store.
   *
   * @example
   * ```ts
   * tree.insert(0, 9, 1);  // true
   * tree.insert(5, 14, 2); // false
   * ```
   */
  insert(first: number, last: number, value: number): boolean {
    this.#writable();
    requireRange(first, last);
    requireValue(value);
    if (this.find(first, last) !== undefined) return false;
    this.#write(first, last, value);
    return true;
  }

  /**
   * Removes the whole range holding `index` and returns its value, or undefined when `index` is
   * empty. Cost: a lookup plus a store.
   *
   * @example
   * ```ts
   * tree.store(10, 19, 3);
   * tree.erase(15); // 3
   * tree.load(10);  // undefined
   * ```
   */
  erase(index: number): number | undefined {
    this.#writable();
    requireIndex(index, "index");
    // One descent finds the range and leaves the path for the write.
    this.#descend(index);
    const n = this.#pathNode[0]!;
    const i = this.#pathSlot[0]!;
    const b = n << SLOT_SHIFT;
    const value = this.nodes.lval[b + i]!;
    if (value !== value) return undefined;
    const first = i === 0 ? this.#pathMin[0]! : this.nodes.lpiv[b + i - 1]! + 1;
    this.#write(first, this.nodes.lpiv[b + i]!, NaN, true);
    return value;
  }

  /**
   * Empties every index of `[first, last]`, cutting ranges that stick out (`store` of nothing).
   * Returns the number of ranges removed or cut. Cost as {@link store}.
   */
  eraseRange(first: number, last: number): number {
    this.#writable();
    requireRange(first, last);
    let touched = 0;
    for (const _ of this.entries(first, last)) touched++;
    this.#write(first, last, NaN);
    return touched;
  }

  /**
   * Finds the lowest free run of `size` indices in `[min, max]` ({@link emptyArea}), stores
   * `value` there and returns its first index, or -1 when none is free. Like `mtree_alloc_range()`.
   *
   * @example
   * ```ts
   * tree.allocRange(0, 1023, 256, 1); // 0
   * tree.allocRange(0, 1023, 256, 2); // 256
   * ```
   */
  allocRange(min: number, max: number, size: number, value: number): number {
    this.#writable();
    requireWindow(min, max, size);
    requireValue(value);
    const first = this.emptyArea(min, max, size);
    if (first >= 0) this.#write(first, first + size - 1, value);
    return first;
  }

  /** As {@link allocRange}, from the top of the window down ({@link emptyAreaRev}); `mtree_alloc_rrange()`. */
  allocRangeRev(min: number, max: number, size: number, value: number): number {
    this.#writable();
    requireWindow(min, max, size);
    requireValue(value);
    const first = this.emptyAreaRev(min, max, size);
    if (first >= 0) this.#write(first, first + size - 1, value);
    return first;
  }

  /**
   * Fills an empty tree from sorted, non-overlapping ranges given as columns, building full nodes
   * bottom-up (no rebalancing). Throws `ERR_INVALID_STATE` unless the tree is empty and has no live
   * snapshot, and `ERR_OVERLAP` / `ERR_INVALID_ARGUMENT` for unsorted or bad input, changing nothing.
   *
   * Cost: O(n); about 16 x 8 + 16 x 8 bytes per 16 entries.
   *
   * @example
   * ```ts
   * const tree = new MapleTree();
   * tree.bulkLoad([0, 10], [4, 19], [1, 2]);
   * tree.load(12); // 2
   * ```
   */
  bulkLoad(firsts: ArrayLike<number>, lasts: ArrayLike<number>, values: ArrayLike<number>): void {
    this.#writable();
    if (this.#size !== 0) throw new MmkitError(ErrorCode.InvalidState, `bulkLoad needs an empty tree, this one holds ${this.#size} ranges`);
    if (this.#snapshots.length > 0) throw new MmkitError(ErrorCode.InvalidState, "bulkLoad with a live snapshot");
    const n = firsts?.length;
    if (typeof n !== "number" || lasts?.length !== n || values?.length !== n) {
      throw new MmkitError(ErrorCode.InvalidArgument, `bulkLoad needs three columns of one length, got ${describeValue(n)}, ${describeValue(lasts?.length)}, ${describeValue(values?.length)}`);
    }
    let prev = -1;
    for (let i = 0; i < n; i++) {
      const f = requireIndex(firsts[i], `firsts[${i}]`);
      const l = requireIndex(lasts[i], `lasts[${i}]`);
      if (f > l) throw new MmkitError(ErrorCode.InvalidArgument, `firsts[${i}] ${f} exceeds lasts[${i}] ${l}`);
      if (f <= prev) throw new MmkitError(ErrorCode.Overlap, `range ${i} [${f}, ${l}] overlaps or precedes the range before it (ending at ${prev})`);
      requireValue(values[i]);
      prev = l;
    }
    if (n === 0) return;
    // The entry sequence, gaps included.
    const piv = new Float64Array(2 * n + 1);
    const val = new Float64Array(2 * n + 1);
    let p = 0;
    let end = -1;
    for (let i = 0; i < n; i++) {
      const f = firsts[i]!;
      if (f > end + 1) {
        piv[p] = f - 1;
        val[p++] = NaN;
      }
      piv[p] = lasts[i]!;
      val[p++] = values[i]!;
      end = lasts[i]!;
    }
    if (end < MAX_INDEX) {
      piv[p] = MAX_INDEX;
      val[p++] = NaN;
    }
    const nodes = this.nodes;
    nodes.freeLeaf(this.root);
    const leafCount = Math.ceil(p / SLOTS);
    let inner = 0;
    for (let c = leafCount; c > 1; c = Math.ceil(c / SLOTS)) inner += Math.ceil(c / SLOTS);
    nodes.reserve(nodes.leafUsed + leafCount, nodes.innerUsed + inner);
    let ids = new Int32Array(leafCount);
    let maxes = new Float64Array(leafCount);
    let heads = new Float64Array(leafCount);
    let tails = new Float64Array(leafCount);
    let gaps = new Float64Array(leafCount);
    const sum = this.#sum;
    let at = 0;
    for (let j = 0; j < leafCount; j++) {
      const k = Math.floor(p / leafCount) + (j < p % leafCount ? 1 : 0);
      const id = nodes.allocLeaf();
      const b = id << SLOT_SHIFT;
      nodes.lpiv.set(piv.subarray(at, at + k), b);
      nodes.lval.set(val.subarray(at, at + k), b);
      nodes.lpiv.fill(Infinity, b + k, b + SLOTS);
      nodes.lval.fill(NaN, b + k, b + SLOTS);
      nodes.lcount[id] = k;
      at += k;
      leafSummary(nodes, id, sum);
      ids[j] = id;
      maxes[j] = nodes.lpiv[b + k - 1]!;
      heads[j] = sum[0]!;
      tails[j] = sum[1]!;
      gaps[j] = sum[2]!;
    }
    let levels = 0;
    while (ids.length > 1) {
      const count = ids.length;
      const parents = Math.ceil(count / SLOTS);
      const pIds = new Int32Array(parents);
      const pMaxes = new Float64Array(parents);
      const pHeads = new Float64Array(parents);
      const pTails = new Float64Array(parents);
      const pGaps = new Float64Array(parents);
      at = 0;
      for (let j = 0; j < parents; j++) {
        const k = Math.floor(count / parents) + (j < count % parents ? 1 : 0);
        const id = nodes.allocInner();
        const b = id << SLOT_SHIFT;
        for (let i = 0; i < k; i++) {
          nodes.ipiv[b + i] = maxes[at + i]!;
          nodes.ichild[b + i] = ids[at + i]!;
          nodes.ihead[b + i] = heads[at + i]!;
          nodes.itail[b + i] = tails[at + i]!;
          nodes.imax[b + i] = gaps[at + i]!;
        }
        for (let i = k; i < SLOTS; i++) nodes.ipiv[b + i] = Infinity;
        nodes.icount[id] = k;
        at += k;
        innerSummary(nodes, id, sum);
        pIds[j] = id;
        pMaxes[j] = nodes.ipiv[b + k - 1]!;
        pHeads[j] = sum[0]!;
        pTails[j] = sum[1]!;
        pGaps[j] = sum[2]!;
      }
      ids = pIds;
      maxes = pMaxes;
      heads = pHeads;
      tails = pTails;
      gaps = pGaps;
      levels++;
    }
    this.root = ids[0]!;
    this.levels = levels;
    this.#size = n;
  }

  /**
   * A read-only view of the tree as it is now ({@link MapleSnapshot}). Release it when done: until
   * then every write copies the nodes it changes.
   *
   * @example
   * ```ts
   * const snap = tree.snapshot();
   * tree.erase(5);
   * snap.load(5); // still the old value
   * snap.release();
   * ```
   */
  snapshot(): MapleSnapshot {
    this.#writable();
    const nodes = this.nodes;
    const epoch = nodes.epoch++;
    const snap = new MapleSnapshot(nodes, this.root, this.levels, this.#size, epoch, (s) => this.#release(s));
    this.#snapshots.push(snap);
    this.#pinned = epoch;
    return snap;
  }

  /**
   * Validates every invariant and throws `ERR_INVARIANT` on the first broken one: node occupancy
   * (1..16 slots, at least 8 below the root, 2 in an inner root), strictly increasing pivots that
   * end at each node's maximum and +Infinity in unused slots, equal leaf depth, finite or empty
   * values, no two adjacent empty runs, each parent's copy of its children's gap summaries, the
   * range count, and node accounting (live = reachable + pinned by snapshots).
   *
   * Cost: O(n).
   */
  check(): void {
    this.#writable();
    checkMapleTree({
      nodes: this.nodes,
      root: this.root,
      height: this.levels,
      size: this.#size,
      pinnedLeaves: this.#retired.filter((r) => r.leaf).length,
      pinnedInner: this.#retired.filter((r) => !r.leaf).length,
    });
  }

  /** Gives the node arrays back to the arena. Later writes throw `ERR_INVALID_STATE`; reads see an empty tree. */
  dispose(): void {
    this.#writable();
    for (const s of [...this.#snapshots]) s.release();
    this.nodes.dispose();
    this.root = 0;
    this.levels = 0;
    this.#size = 0;
    this.#disposed = true;
  }

  // ---- write path ---------------------------------------------------------------------------

  #writable(): void {
    if (this.#disposed) throw new MmkitError(ErrorCode.InvalidState, "maple tree was disposed");
  }

  #emptyLeaf(): number {
    const nodes = this.nodes;
    const id = nodes.allocLeaf();
    const b = id << SLOT_SHIFT;
    nodes.lpiv.fill(Infinity, b, b + SLOTS);
    nodes.lval.fill(NaN, b, b + SLOTS);
    nodes.lpiv[b] = MAX_INDEX;
    nodes.lcount[id] = 1;
    return id;
  }

  /** Stores `value` (NaN: empty) at `[first, last]`; arguments are valid. `pathReady`: the path to `first` is recorded. */
  #write(first: number, last: number, value: number, pathReady = false): void {
    // The path to `first` is recorded here when merging with empty neighbours needs it anyway,
    // and reused by the first round of the loop below.
    let pathValid = false;
    if (value !== value) {
      // Merge with empty neighbours so that empty runs never sit side by side. Neighbours inside
      // the leaf are read from it; only a neighbour in another leaf costs a descent.
      const nodes = this.nodes;
      const lpiv = nodes.lpiv;
      const lval = nodes.lval;
      if (!pathReady) this.#descend(first);
      pathValid = true;
      const n = this.#pathNode[0]!;
      const b = n << SLOT_SHIFT;
      const c = nodes.lcount[n]!;
      const i = this.#pathSlot[0]!;
      const start = i === 0 ? this.#pathMin[0]! : lpiv[b + i - 1]! + 1;
      let from = first;
      if (lval[b + i] !== lval[b + i]) from = start;
      else if (start === first && first > 0) {
        if (i > 0) {
          if (lval[b + i - 1] !== lval[b + i - 1]) from = i === 1 ? this.#pathMin[0]! : lpiv[b + i - 2]! + 1;
        } else {
          const p = this.entryAt(first - 1, this.#entry, true)!;
          if (p.value !== p.value) {
            from = p.first;
            pathValid = false;
          }
        }
      }
      if (last <= lpiv[b + c - 1]!) {
        let j = i;
        while (lpiv[b + j]! < last) j++;
        if (lval[b + j] !== lval[b + j]) last = lpiv[b + j]!;
        else if (lpiv[b + j] === last && last < MAX_INDEX) {
          if (j + 1 < c) {
            if (lval[b + j + 1] !== lval[b + j + 1]) last = lpiv[b + j + 1]!;
          } else {
            const q = this.entryAt(last + 1, this.#entry, true)!;
            if (q.value !== q.value) last = q.last;
          }
        }
      } else {
        const f = this.entryAt(last, this.#entry, true)!;
        if (f.value !== f.value) last = f.last;
        else if (last < MAX_INDEX && f.last === last) {
          const q = this.entryAt(last + 1, this.#entry, true)!;
          if (q.value !== q.value) last = q.last;
        }
      }
      if (from !== first && pathValid) {
        // Still in this leaf: point the path at the entry holding the new first index.
        let k = 0;
        while (lpiv[b + k]! < from) k++;
        this.#pathSlot[0] = k;
      }
      first = from;
    }
    const nodes = this.nodes;
    const cPiv = this.#cPiv;
    const cSlot = this.#cSlot;
    for (;;) {
      if (!pathValid) this.#descend(first);
      pathValid = false;
      this.#makePathWritable();
      const n = this.#pathNode[0]!;
      const i = this.#pathSlot[0]!;
      const b = n << SLOT_SHIFT;
      const c = nodes.lcount[n]!;
      const lpiv = nodes.lpiv;
      const lval = nodes.lval;
      const start = i === 0 ? this.#pathMin[0]! : lpiv[b + i - 1]! + 1;
      const leafMax = lpiv[b + c - 1]!;
      let removed = 0;
      for (let x = 0; x < c; x++) if (lval[b + x] === lval[b + x]) removed++;
      let k = 0;
      for (; k < i; k++) {
        cPiv[k] = lpiv[b + k]!;
        cSlot[k] = lval[b + k]!;
      }
      if (start < first) {
        cPiv[k] = first - 1;
        cSlot[k++] = lval[b + i]!;
      }
      const done = last <= leafMax;
      if (done) {
        let j = i;
        while (lpiv[b + j]! < last) j++;
        cPiv[k] = last;
        cSlot[k++] = value;
        if (lpiv[b + j]! > last) {
          cPiv[k] = lpiv[b + j]!;
          cSlot[k++] = lval[b + j]!;
        }
        for (let x = j + 1; x < c; x++) {
          cPiv[k] = lpiv[b + x]!;
          cSlot[k++] = lval[b + x]!;
        }
      }
      let added = 0;
      for (let x = 0; x < k; x++) if (cSlot[x] === cSlot[x]) added++;
      this.#size += added - removed;
      this.#commit(k);
      if (done) return;
    }
  }

  /** Records the root-to-leaf path to the entry holding `index`. */
  #descend(index: number): void {
    const nodes = this.nodes;
    const piv = nodes.ipiv;
    let n = this.root;
    let min = 0;
    for (let l = this.levels; l > 0; l--) {
      const b = n << SLOT_SHIFT;
      let i = 0;
      while (piv[b + i]! < index) i++;
      this.#pathNode[l] = n;
      this.#pathSlot[l] = i;
      this.#pathMin[l] = min;
      if (i > 0) min = piv[b + i - 1]! + 1;
      n = nodes.ichild[b + i]!;
    }
    const b = n << SLOT_SHIFT;
    let i = 0;
    while (nodes.lpiv[b + i]! < index) i++;
    this.#pathNode[0] = n;
    this.#pathSlot[0] = i;
    this.#pathMin[0] = min;
  }

  /** Copies every node on the path that a live snapshot can see (top-down), and retires the originals. */
  #makePathWritable(): void {
    if (this.#pinned === 0) return;
    const nodes = this.nodes;
    for (let l = this.levels; l >= 0; l--) {
      const n = this.#pathNode[l]!;
      const leaf = l === 0;
      const born = leaf ? nodes.lborn[n]! : nodes.iborn[n]!;
      if (born > this.#pinned) continue;
      const m = leaf ? nodes.allocLeaf() : nodes.allocInner();
      const from = n << SLOT_SHIFT;
      const to = m << SLOT_SHIFT;
      if (leaf) {
        nodes.lpiv.copyWithin(to, from, from + SLOTS);
        nodes.lval.copyWithin(to, from, from + SLOTS);
        nodes.lcount[m] = nodes.lcount[n]!;
      } else {
        nodes.ipiv.copyWithin(to, from, from + SLOTS);
        nodes.ichild.copyWithin(to, from, from + SLOTS);
        nodes.ihead.copyWithin(to, from, from + SLOTS);
        nodes.itail.copyWithin(to, from, from + SLOTS);
        nodes.imax.copyWithin(to, from, from + SLOTS);
        nodes.icount[m] = nodes.icount[n]!;
      }
      this.#retire(n, leaf);
      this.#pathNode[l] = m;
      if (l === this.levels) this.root = m;
      else nodes.ichild[(this.#pathNode[l + 1]! << SLOT_SHIFT) + this.#pathSlot[l + 1]!] = m;
    }
  }

  /** Frees node `n` now, or once no live snapshot can see it. */
  #retire(n: number, leaf: boolean): void {
    const nodes = this.nodes;
    const born = leaf ? nodes.lborn[n]! : nodes.iborn[n]!;
    if (born <= this.#pinned) this.#retired.push({ leaf, id: n, born, retiredAt: nodes.epoch });
    else if (leaf) nodes.freeLeaf(n);
    else nodes.freeInner(n);
  }

  /** A node the write may overwrite: `n` itself if no snapshot sees it, else a fresh one (n retired). */
  #own(n: number, leaf: boolean): number {
    const born = leaf ? this.nodes.lborn[n]! : this.nodes.iborn[n]!;
    if (born > this.#pinned) return n;
    this.#retire(n, leaf);
    return leaf ? this.nodes.allocLeaf() : this.nodes.allocInner();
  }

  /** Writes content slots `[from, from + k)` into node `n` at `level`. */
  #writeNode(n: number, leaf: boolean, from: number, k: number): void {
    const nodes = this.nodes;
    const b = n << SLOT_SHIFT;
    const cPiv = this.#cPiv;
    const cSlot = this.#cSlot;
    if (leaf) {
      const piv = nodes.lpiv;
      const val = nodes.lval;
      for (let i = 0; i < k; i++) {
        piv[b + i] = cPiv[from + i]!;
        val[b + i] = cSlot[from + i]!;
      }
      for (let i = k; i < SLOTS; i++) {
        piv[b + i] = Infinity;
        val[b + i] = NaN;
      }
      nodes.lcount[n] = k;
    } else {
      const piv = nodes.ipiv;
      const child = nodes.ichild;
      const cHead = this.#cHead;
      const cTail = this.#cTail;
      const cMax = this.#cMax;
      for (let i = 0; i < k; i++) {
        piv[b + i] = cPiv[from + i]!;
        child[b + i] = cSlot[from + i]!;
        nodes.ihead[b + i] = cHead[from + i]!;
        nodes.itail[b + i] = cTail[from + i]!;
        nodes.imax[b + i] = cMax[from + i]!;
      }
      for (let i = k; i < SLOTS; i++) {
        piv[b + i] = Infinity;
        child[b + i] = 0;
        nodes.ihead[b + i] = 0;
        nodes.itail[b + i] = 0;
        nodes.imax[b + i] = 0;
      }
      nodes.icount[n] = k;
    }
  }

  /** Loads node `n` into content slots starting at `at`. */
  #readNode(n: number, leaf: boolean, at: number): number {
    const nodes = this.nodes;
    const b = n << SLOT_SHIFT;
    if (leaf) {
      const k = nodes.lcount[n]!;
      for (let i = 0; i < k; i++) {
        this.#cPiv[at + i] = nodes.lpiv[b + i]!;
        this.#cSlot[at + i] = nodes.lval[b + i]!;
      }
      return k;
    }
    const k = nodes.icount[n]!;
    for (let i = 0; i < k; i++) {
      this.#cPiv[at + i] = nodes.ipiv[b + i]!;
      this.#cSlot[at + i] = nodes.ichild[b + i]!;
      this.#cHead[at + i] = nodes.ihead[b + i]!;
      this.#cTail[at + i] = nodes.itail[b + i]!;
      this.#cMax[at + i] = nodes.imax[b + i]!;
    }
    return k;
  }

  /** Shifts content slots `[0, k)` up by `by`. */
  #shiftContent(k: number, by: number): void {
    this.#cPiv.copyWithin(by, 0, k);
    this.#cSlot.copyWithin(by, 0, k);
    this.#cHead.copyWithin(by, 0, k);
    this.#cTail.copyWithin(by, 0, k);
    this.#cMax.copyWithin(by, 0, k);
  }

  /** Summary of node `n` into #sum; returns the node's max pivot. */
  #summarize(n: number, leaf: boolean): number {
    const nodes = this.nodes;
    if (leaf) {
      leafSummary(nodes, n, this.#sum);
      return nodes.lpiv[(n << SLOT_SHIFT) + nodes.lcount[n]! - 1]!;
    }
    innerSummary(nodes, n, this.#sum);
    return nodes.ipiv[(n << SLOT_SHIFT) + nodes.icount[n]! - 1]!;
  }

  /**
   * The content buffer holds the new leaf of the path (`k` entries, possibly 0 or up to 18). Writes
   * it back, splitting, merging or rebalancing and fixing each parent up the path, and stops as
   * soon as a parent's copy of its child (pivot, summary) is unchanged.
   */
  #commit(k: number): void {
    const nodes = this.nodes;
    const sum = this.#sum;
    // Up to two replacement children for the parent: ids and whether they are new.
    let kidA = -1;
    let kidB = -1;
    for (let level = 0; ; level++) {
      const leaf = level === 0;
      const n = this.#pathNode[level]!;
      if (level === this.levels) {
        if (k > SLOTS) {
          const m = leaf ? nodes.allocLeaf() : nodes.allocInner();
          const left = k >> 1;
          this.#writeNode(n, leaf, 0, left);
          this.#writeNode(m, leaf, left, k - left);
          const r = nodes.allocInner();
          this.#setKids(n, m, leaf);
          this.#writeNode(r, false, 0, 2);
          this.root = r;
          this.levels++;
        } else if (!leaf && k === 1) {
          this.#retire(n, false);
          this.root = this.#cSlot[0]!;
          this.levels--;
        } else {
          this.#writeNode(n, leaf, 0, k);
        }
        return;
      }
      const parent = this.#pathNode[level + 1]!;
      const s = this.#pathSlot[level + 1]!;
      let r0 = s;
      let replaced = 1;
      const pc0 = nodes.icount[parent]!;
      const leftCount = s > 0 ? this.#countOf(nodes.ichild[(parent << SLOT_SHIFT) + s - 1]!, leaf) : SLOTS;
      const rightCount = s + 1 < pc0 ? this.#countOf(nodes.ichild[(parent << SLOT_SHIFT) + s + 1]!, leaf) : SLOTS;
      if (k > SLOTS && leftCount + k <= 2 * SLOTS) {
        // Push entries into the left sibling before splitting (the kernel's mas_push_data): fills
        // the left node, so ascending inserts leave full nodes behind instead of half-full ones.
        const sib = nodes.ichild[(parent << SLOT_SHIFT) + s - 1]!;
        this.#shiftContent(k, leftCount);
        this.#readNode(sib, leaf, 0);
        k += leftCount;
        const left = Math.min(SLOTS, k - MIN_SLOTS);
        const other = this.#own(sib, leaf);
        this.#writeNode(other, leaf, 0, left);
        this.#writeNode(n, leaf, left, k - left);
        r0 = s - 1;
        replaced = 2;
        kidA = other;
        kidB = n;
      } else if (k > SLOTS && rightCount + k <= 2 * SLOTS) {
        const sib = nodes.ichild[(parent << SLOT_SHIFT) + s + 1]!;
        this.#readNode(sib, leaf, k);
        k += rightCount;
        const right = Math.min(SLOTS, k - MIN_SLOTS);
        const other = this.#own(sib, leaf);
        this.#writeNode(n, leaf, 0, k - right);
        this.#writeNode(other, leaf, k - right, right);
        replaced = 2;
        kidA = n;
        kidB = other;
      } else if (k > SLOTS) {
        const m = leaf ? nodes.allocLeaf() : nodes.allocInner();
        const left = k >> 1;
        this.#writeNode(n, leaf, 0, left);
        this.#writeNode(m, leaf, left, k - left);
        kidA = n;
        kidB = m;
      } else if (k < MIN_SLOTS) {
        const pb = parent << SLOT_SHIFT;
        const sb = s > 0 ? s - 1 : s + 1;
        const sib = nodes.ichild[pb + sb]!;
        const sc = leaf ? nodes.lcount[sib]! : nodes.icount[sib]!;
        if (sb < s) {
          this.#shiftContent(k, sc);
          this.#readNode(sib, leaf, 0);
          r0 = sb;
        } else {
          this.#readNode(sib, leaf, k);
        }
        k += sc;
        replaced = 2;
        if (k <= SLOTS) {
          this.#writeNode(n, leaf, 0, k);
          this.#retire(sib, leaf);
          kidA = n;
          kidB = -1;
        } else {
          const other = this.#own(sib, leaf);
          const left = k >> 1;
          this.#writeNode(n, leaf, 0, left);
          this.#writeNode(other, leaf, left, k - left);
          kidA = n;
          kidB = other;
        }
      } else {
        // No split or merge: write the node, then patch each parent's slot in place on the way
        // up, stopping at the first parent whose copy (pivot and gap summary) is unchanged.
        this.#writeNode(n, leaf, 0, k);
        let child = n;
        let childLeaf = leaf;
        for (let l = level; l < this.levels; l++) {
          const max = this.#summarize(child, childLeaf);
          const b = (this.#pathNode[l + 1]! << SLOT_SHIFT) + this.#pathSlot[l + 1]!;
          if (nodes.ipiv[b] === max && nodes.ihead[b] === sum[0] && nodes.itail[b] === sum[1] && nodes.imax[b] === sum[2]) return;
          nodes.ipiv[b] = max;
          nodes.ihead[b] = sum[0]!;
          nodes.itail[b] = sum[1]!;
          nodes.imax[b] = sum[2]!;
          child = this.#pathNode[l + 1]!;
          childLeaf = false;
        }
        return;
      }
      // Rebuild the parent's content with the replacement children.
      const pc = this.#readNode(parent, false, 0);
      const kids = kidB >= 0 ? 2 : 1;
      if (kids !== replaced) {
        const tail = pc - (r0 + replaced);
        const from = r0 + replaced;
        const to = r0 + kids;
        this.#cPiv.copyWithin(to, from, from + tail);
        this.#cSlot.copyWithin(to, from, from + tail);
        this.#cHead.copyWithin(to, from, from + tail);
        this.#cTail.copyWithin(to, from, from + tail);
        this.#cMax.copyWithin(to, from, from + tail);
      }
      this.#putKid(r0, kidA, leaf);
      if (kidB >= 0) this.#putKid(r0 + 1, kidB, leaf);
      k = pc - replaced + kids;
    }
  }

  #countOf(n: number, leaf: boolean): number {
    return leaf ? this.nodes.lcount[n]! : this.nodes.icount[n]!;
  }

  /** Content slot `at` := child `id` with its max pivot and gap summary. */
  #putKid(at: number, id: number, leaf: boolean): void {
    const max = this.#summarize(id, leaf);
    this.#cPiv[at] = max;
    this.#cSlot[at] = id;
    this.#cHead[at] = this.#sum[0]!;
    this.#cTail[at] = this.#sum[1]!;
    this.#cMax[at] = this.#sum[2]!;
  }

  /** Content := the two children `a`, `b` (for a new root). */
  #setKids(a: number, b: number, leaf: boolean): void {
    this.#putKid(0, a, leaf);
    this.#putKid(1, b, leaf);
  }

  #release(snapshot: MapleSnapshot): void {
    const i = this.#snapshots.indexOf(snapshot);
    if (i >= 0) this.#snapshots.splice(i, 1);
    let pinned = 0;
    for (const s of this.#snapshots) if (s.epoch > pinned) pinned = s.epoch;
    this.#pinned = pinned;
    const keep: Retired[] = [];
    for (const r of this.#retired) {
      let seen = false;
      for (const s of this.#snapshots) {
        if (s.epoch >= r.born && s.epoch < r.retiredAt) {
          seen = true;
          break;
        }
      }
      if (seen) keep.push(r);
      else if (r.leaf) this.nodes.freeLeaf(r.id);
      else this.nodes.freeInner(r.id);
    }
    this.#retired = keep;
  }
}

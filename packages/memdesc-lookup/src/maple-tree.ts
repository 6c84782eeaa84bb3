import { ErrorCode, MmkitError, describeValue, type ArrayFactory } from "@mmkit/physmem";
import { checkMapleTree } from "./maple-check.js";
import { innerSummary, leafSummary } from "./maple-gaps.js";
import { MIN_SLOTS, MapleNodes, NODE_SHIFT, SLOTS, SLOT_SHIFT, SLOT_VALUE, slotAt } from "./maple-nodes.js";
import { MapleSnapshot } from "./maple-snapshot.js";
import { clearLeafSlots, closeInnerSlot, copyLeafSlots, openInnerSlot } from "./maple-slot-moves.js";
import { MapleView, requireBatch, type MapleEntry } from "./maple-view.js";
import { MAX_INDEX, badOut, requireIndex, requireRange, requireValue, requireWindow } from "./limits.js";

/**
 * Options for {@link MapleTree}.
 *
 * @example
 * ```ts
 * const arena = new MetadataArena();
 * const tree = new MapleTree({ arena });
 * tree.store(0, 7, 1);
 * arena.bytes > 0;   // true: the tree's nodes are counted in the arena
 * ```
 */
export interface MapleTreeOptions {
  /** Where node arrays come from, so their bytes are counted (default: a private `MetadataArena`). */
  arena?: ArrayFactory;
}

/** Deepest tree the write path supports (2^53 indices need at most 18 levels of 8-way nodes). */
const MAX_LEVELS = 24;
/** Scratch entries: a node plus a sibling plus one split. */
const SCRATCH = SLOTS * 2 + 4;
/**
 * Most slots an underflowing node and its sibling merge into; more are shared out evenly instead.
 * Merging into a nearly full node would make the next store to it split again (and splitting
 * into halves of 9 would make the next erase merge again): the room left keeps random churn off
 * the split/merge path.
 */
const MERGE_MAX = SLOTS - 4;
/**
 * Most slots an overflowing node and a sibling share out evenly (each keeps at most
 * {@link MERGE_MAX}); with more, the node splits in two instead. Filling the sibling up to 16 (the
 * kernel's push into a sibling) would make the next random store to it overflow again: that is
 * kept for appends at the end of a parent (ascending inserts), which leave full nodes behind.
 */
const SHARE_MAX = 2 * MERGE_MAX;

let toggleFastPaths: ((tree: MapleTree, on: boolean) => void) | undefined;

/**
 * Turns the in-leaf write fast paths of `tree` on or off. For tests that compare the fast paths with
 * the general write path; not part of the package's public face (not exported from its index).
 *
 * @internal
 * @example
 * ```ts
 * setWriteFastPaths(tree, false); // every store and erase now takes the general path
 * ```
 */
export function setWriteFastPaths(tree: MapleTree, on: boolean): void {
  toggleFastPaths!(tree, on);
}

/**
 * Throws unless `firsts`, `lasts` and `values` are columns of one length holding sorted,
 * non-overlapping ranges with finite values; returns the length. O(n), allocates nothing.
 */
function requireColumns(firsts: ArrayLike<number>, lasts: ArrayLike<number>, values: ArrayLike<number>): number {
  const columns: Array<[string, unknown]> = [["firsts", firsts], ["lasts", lasts], ["values", values]];
  for (const [name, column] of columns) {
    if (column === null || typeof column !== "object" || typeof (column as ArrayLike<number>).length !== "number") {
      throw new MmkitError(ErrorCode.InvalidArgument, `bulkLoad's ${name} must be an array-like column, got ${describeValue(column)}`);
    }
  }
  const n = firsts.length;
  if (lasts.length !== n || values.length !== n) {
    throw new MmkitError(ErrorCode.InvalidArgument, `bulkLoad needs three columns of one length, got ${describeValue(n)}, ${describeValue(lasts.length)}, ${describeValue(values.length)}`);
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
  return n;
}

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
 * above 16 slots a node shares with its smaller sibling when both then hold at most 12, else it
 * splits (an append at the end of a parent fills the left sibling first, so ascending inserts
 * leave full nodes); below 6 (the kernel's minimum for range64 nodes) it merges into a sibling
 * when the two hold at most 12, else the two share evenly, so churn does not bounce a leaf
 * between split and merge. At a leaf, with no live snapshot, all of these run in place. Adjacent ranges with the same value stay
 * separate; adjacent empty runs are always merged. {@link snapshot} gives RCU-style readers: while
 * one is live, every node a write changes is copied, and the old ones are reused only once every
 * snapshot that can see them is released.
 *
 * Values: any finite number (`-0` is kept as is). Indices: integers in [0, 2^53 - 1].
 *
 * Costs: `load` one descent, O(log16 n): per level three cache lines read in parallel (a fourth
 * for slots 12-15) and six branch-free compares; `erase` with no live snapshot a descent that
 * empties the value and defers the rest to the next write, and a `store` of exactly that range
 * O(1) (see {@link erase}); otherwise `store`/`erase` a descent
 * plus a leaf splice, a split, share or merge at the leaf, and stale marks up the path (in place
 * for the common shapes: a range into one empty run of a leaf, an erase; no descent for a write
 * to the leaf the previous write used, as the store after an erase), or O(height) node rewrites
 * (more while snapshots are live: each touched node is copied and gap summaries are patched at
 * once); gap search O(log n) node reads after recomputing the summaries writes left stale; `bulkLoad` O(n) with full nodes. Metadata: 262 bytes per leaf of up
 * to 16 entries (empty runs between ranges count as entries), 646 per inner node.
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
  // Not readonly: a paired descent swaps them with `#path2*` (see #storeThenDescend).
  #pathNode = new Int32Array(MAX_LEVELS);
  #pathSlot = new Int32Array(MAX_LEVELS);
  #pathMin = new Float64Array(MAX_LEVELS);
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
  /**
   * Whether the recorded path (`#pathNode`, `#pathSlot`, `#pathMin`) still describes the tree: set
   * by a descent, cleared by every write that changes a node's range or the tree's shape, so a
   * write to the leaf the previous one used (an erase and the store that follows it) skips the
   * descent.
   */
  #pathKept = false;
  /**
   * What the last in-place erase replaced in the parents' copies of gap summaries (head, tail,
   * longest gap per level, from the leaf's parent up), and the run it formed (`#undoRun`: start,
   * end, left run, right run). A store that refills exactly that run right after it restores the
   * tree's content, so it restores these copies instead of rescanning the nodes whose longest gap
   * the erase raised. `#undoLevels` -1: nothing to restore (any other write clears it).
   */
  readonly #undoGaps = new Float64Array(3 * MAX_LEVELS);
  readonly #undoRun = new Float64Array(4);
  #undoLevels = -1;
  /** Whether `store` and `erase` try their in-leaf fast paths (off only in tests that compare). */
  #fastPaths = true;
  /**
   * A deferred erase (`#pendLeaf` -1: none). `erase` with no live snapshot only empties the
   * entry's value in its leaf (slot `#pendSlot` of leaf `#pendLeaf`, range `[#pendFirst,
   * #pendLast]`, old value `#pendValue`) and leaves the merge with its empty neighbours and the
   * parents' gap summaries for later, with the path the erase recorded. A store of exactly that
   * range next (a LIFO allocator handing the block it was just given back out again: the per-CPU
   * lists, POTAD's free lists) puts a value back in the slot and the tree is whole again, with no
   * descent, no slot move and no summary patch. Anything else settles it first ({@link #settle}:
   * the erase runs for real, on the recorded path). `load`, `loadMany` and `loadRange` read an
   * emptied value as empty already, so lookups never settle.
   */
  #pendLeaf = -1;
  #pendSlot = 0;
  #pendFirst = 0;
  #pendLast = 0;
  #pendValue = 0;
  /**
   * A deferred store (`#pstFirst` -1: none). With no live snapshot, `store` only records its range
   * and value; the next `erase` runs its own descent and this store's side by side, level by level
   * (their cache misses overlap, as in `loadMany`), applies the store on its path and erases on
   * the other. A free-here, take-there allocator (the `scale` suite's table churn: erase one
   * address, store another) then waits for one chain of misses per pair instead of two. Any other
   * call that reads or writes the tree applies it first ({@link #settled}); `check()` validates the
   * tree without it. Never live together with a deferred erase (`#pendLeaf`).
   */
  #pstFirst = -1;
  #pstLast = 0;
  #pstValue = 0;
  /** The erase's path recorded by the paired descent ({@link #descendPair}), copied to `#path*` once the store is in. */
  #path2Node = new Int32Array(MAX_LEVELS);
  #path2Slot = new Int32Array(MAX_LEVELS);
  #path2Min = new Float64Array(MAX_LEVELS);
  /**
   * Lazy gap summaries. With the fast paths on and no live snapshot, a write does not patch the
   * parents' copies of the gap summaries of the nodes it changes: it marks those nodes dirty
   * (`ldirty` / `idirty`: the parent's copy is stale) up the path, until it meets a node already
   * dirty whose max pivot it leaves alone.
   * Invariant: a dirty node's parent is dirty too, up to the root (`#rootStale`). Gap searches, `snapshot()` and a switch to the general path refresh
   * first ({@link #refresh}): only dirty nodes' copies are recomputed, children first. Lookups never
   * read the summaries, so a write pays a byte compare or two for them (the marks are one byte per
   * node in small arrays that stay cached, where a large tree's gap lines do not); a gap search
   * after k writes pays for the nodes those writes made dirty.
   */
  #rootStale = false;

  constructor(options: MapleTreeOptions = {}) {
    if (options === null || typeof options !== "object") {
      throw new MmkitError(ErrorCode.InvalidArgument, `maple tree options must be an object, got ${describeValue(options)}`);
    }
    super(new MapleNodes(options.arena, 4, 1));
    // Set lazily here, not in a static block: top-level work would keep the class in every bundle.
    toggleFastPaths ??= (tree, on) => {
      tree.#settled();
      tree.#refresh();
      tree.#fastPaths = on;
    };
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
    if (entries === null || typeof (entries as { [Symbol.iterator]?: unknown } | undefined)?.[Symbol.iterator] !== "function" || typeof entries === "string") {
      throw new MmkitError(ErrorCode.InvalidArgument, `entries must be an iterable of { first, last, value }, got ${describeValue(entries)}`);
    }
    const list = [...entries];
    list.forEach((e, i) => {
      if (e === null || typeof e !== "object") throw new MmkitError(ErrorCode.InvalidArgument, `entries[${i}] must be { first, last, value }, got ${describeValue(e)}`);
    });
    const firsts = list.map((e) => e.first);
    const lasts = list.map((e) => e.last);
    const values = list.map((e) => e.value);
    // Checked before the tree exists, so bad entries take nothing from the arena.
    requireColumns(firsts, lasts, values);
    const tree = new MapleTree(options);
    tree.bulkLoad(firsts, lasts, values);
    return tree;
  }

  /** Number of ranges stored. */
  get size(): number {
    if (this.#pstFirst >= 0) this.#applyStore();
    return this.#size;
  }
  /** Same as {@link size}. */
  get count(): number {
    return this.size;
  }
  /** Bytes of node arrays the tree holds in its arena (capacity included). */
  get metadataBytes(): number {
    this.#settled();
    return this.nodes.bytes;
  }
  /** Bytes of the nodes in use (live and pinned by snapshots). */
  get nodeBytes(): number {
    this.#settled();
    return this.nodes.liveBytes;
  }
  /** Nodes in use: `{ leaves, inner }` (pinned ones included). */
  get nodeCount(): { leaves: number; inner: number } {
    this.#settled();
    return { leaves: this.nodes.leafLive, inner: this.nodes.innerLive };
  }
  /** Levels of inner nodes above the leaves (0: the root is a leaf). */
  override get height(): number {
    this.#settled();
    return this.levels;
  }

  // The reads below need adjacent empty runs merged and the gap summaries true, so they settle a
  // deferred erase first (a branch when there is none), once their arguments are known to be good
  // (a refused call leaves even the pending erase as it was); `load`, `loadMany` and `loadRange` do not.

  /** As {@link MapleView.find}. */
  override find(index: number, max: number = MAX_INDEX): MapleEntry | undefined {
    if (this.#pendLeaf >= 0 || this.#pstFirst >= 0) {
      requireIndex(index, "index");
      requireIndex(max, "max");
      this.#settled();
    }
    return super.find(index, max);
  }
  /** As {@link MapleView.findPrev}. */
  override findPrev(index: number, min = 0): MapleEntry | undefined {
    if (this.#pendLeaf >= 0 || this.#pstFirst >= 0) {
      requireIndex(index, "index");
      requireIndex(min, "min");
      this.#settled();
    }
    return super.findPrev(index, min);
  }
  /** As {@link MapleView.emptyArea}. */
  override emptyArea(min: number, max: number, size: number): number {
    this.#readyForGapSearch(min, max, size);
    return super.emptyArea(min, max, size);
  }
  /** As {@link MapleView.emptyAreaRev}. */
  override emptyAreaRev(min: number, max: number, size: number): number {
    this.#readyForGapSearch(min, max, size);
    return super.emptyAreaRev(min, max, size);
  }
  /** Before a gap search: deferred writes applied and stale gap summaries brought up to date (arguments checked first, so a refused search changes nothing). */
  #readyForGapSearch(min: number, max: number, size: number): void {
    if (this.#pendLeaf < 0 && this.#pstFirst < 0 && !this.#rootStale) return;
    requireWindow(min, max, size);
    if (this.#pendLeaf >= 0 || this.#pstFirst >= 0) this.#settled();
    if (this.#rootStale) this.#refresh();
  }

  /** As {@link MapleView.load}; applies a deferred store first (see {@link store}). */
  override load(index: number): number | undefined {
    if (this.#pstFirst >= 0) {
      requireIndex(index, "index");
      this.#applyStore();
    }
    return super.load(index);
  }
  /** As {@link MapleView.loadMany}; applies a deferred store first (see {@link store}). */
  override loadMany(indices: ArrayLike<number>, out: Float64Array, count: number = indices?.length): Float64Array {
    if (this.#pstFirst >= 0) {
      // Checked before the store goes in, so a refused batch leaves everything as it was.
      requireBatch(indices, out, count);
      this.#applyStore();
    }
    return super.loadMany(indices, out, count);
  }
  /** As {@link MapleView.loadRange}; applies a deferred store first (see {@link store}). */
  override loadRange(index: number, out?: MapleEntry): MapleEntry | undefined {
    if (this.#pstFirst >= 0) {
      requireIndex(index, "index");
      if (out !== undefined && (typeof out !== "object" || out === null)) badOut(out);
      this.#applyStore();
    }
    return super.loadRange(index, out);
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
   * Cost: O(1) when it refills exactly the range a deferred erase emptied (see {@link erase}).
   * Otherwise one descent. A store that lies inside one empty run of a leaf (the common shape: a
   * new allocation's range) is spliced into the leaf in place; when the leaf has no room for the one
   * or two entries it adds and no snapshot is live, the leaf shares with a sibling or splits in place
   * (one leaf allocated). The gap summaries it changes are marked stale up the path (patched at once
   * while a snapshot is live). Otherwise a leaf rewrite, plus a split or merge per level that over-
   * or underflows (a parent that keeps a legal slot count is patched in place); a store that spans
   * k leaves costs k descents.
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
    if (this.#pendLeaf >= 0) {
      if (first === this.#pendFirst && last === this.#pendLast) {
        this.#refill(value);
        return;
      }
      this.#settle();
    }
    if (this.#pstFirst >= 0) this.#applyStore();
    if (this.#fastPaths && this.#pinned === 0) {
      // Deferred: the next erase descends for both (see #pstFirst).
      this.#pstFirst = first;
      this.#pstLast = last;
      this.#pstValue = value;
      return;
    }
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
    if (this.#pendLeaf >= 0 && first === this.#pendFirst && last === this.#pendLast) {
      this.#refill(value);
      return true;
    }
    if (this.find(first, last) !== undefined) return false;
    this.#write(first, last, value);
    return true;
  }

  /**
   * Removes the whole range holding `index` and returns its value, or undefined when `index` is
   * empty. With no live snapshot the erase is deferred: one descent empties the value in its slot
   * and the rest waits for the next write (a store of exactly this range then just puts a value
   * back) or for a read that needs merged empty runs; lookups see the range empty at once. Run
   * for real (then, or at once while a snapshot is live), the range is emptied and merged with its
   * empty neighbours in place (with no live snapshot also a neighbour at the edge of the previous
   * leaf under the same parent or of the next leaf under any parent: the empty run moves between
   * the two leaves), a leaf left below 6 entries merges with a sibling or borrows from it in place
   * (no live snapshot), and the gap summaries it changes are marked stale (patched at once while a
   * snapshot is live); no allocation. Otherwise a store.
   *
   * With `out`, the erased range and its value are written into it (left untouched when `index` is
   * empty), so a caller that may have to put the range back (a free refused after the erase) needs
   * no lookup before it: a store of that range right after is the O(1) put-back above.
   *
   * @example
   * ```ts
   * tree.store(10, 19, 3);
   * const gone = { first: 0, last: 0, value: 0 };
   * tree.erase(15, gone); // 3; gone is { first: 10, last: 19, value: 3 }
   * tree.load(10);        // undefined
   * ```
   */
  erase(index: number, out?: MapleEntry): number | undefined {
    this.#writable();
    requireIndex(index, "index");
    if (out !== undefined && (typeof out !== "object" || out === null)) badOut(out);
    if (this.#pendLeaf >= 0) this.#settle();
    this.#undoLevels = -1;
    // One descent finds the range and leaves the path for the write; a deferred store descends
    // beside it and goes in first.
    if (this.#pstFirst >= 0) this.#storeThenDescend(index);
    else this.#descend(index);
    const n = this.#pathNode[0]!;
    const i = this.#pathSlot[0]!;
    const b = n << NODE_SHIFT;
    const lnode = this.nodes.lnode;
    const value = lnode[b + slotAt(i) + SLOT_VALUE]!;
    if (value !== value) return undefined;
    const first = i === 0 ? this.#pathMin[0]! : lnode[b + slotAt(i - 1)]! + 1;
    if (out !== undefined) {
      out.first = first;
      out.last = lnode[b + slotAt(i)]!;
      out.value = value;
    }
    if (this.#fastPaths && this.#pinned === 0) {
      // Deferred: only the value goes; the merge waits for the next write (see #pendLeaf).
      lnode[b + slotAt(i) + SLOT_VALUE] = NaN;
      this.#pendLeaf = n;
      this.#pendSlot = i;
      this.#pendFirst = first;
      this.#pendLast = lnode[b + slotAt(i)]!;
      this.#pendValue = value;
      this.#size--;
      return value;
    }
    this.#eraseAt(n, i, first);
    return value;
  }

  /** The erase of the occupied entry at slot `i` of leaf `n` (its range starts at `first`), on the recorded path. */
  #eraseAt(n: number, i: number, first: number): void {
    if (this.#fastPaths && this.#eraseInLeaf(n, i)) return;
    this.#write(first, this.nodes.lnode[(n << NODE_SHIFT) + slotAt(i)]!, NaN, true);
  }

  /**
   * Runs the deferred erase for real: the value goes back into its slot (the tree is the one
   * before the erase again, whose path is still the recorded one: every write settles before it
   * descends) and the erase takes its ordinary path, in place or general. Cost: that of an erase
   * without its descent.
   */
  #settle(): void {
    const n = this.#pendLeaf;
    const i = this.#pendSlot;
    this.#pendLeaf = -1;
    this.nodes.lnode[(n << NODE_SHIFT) + slotAt(i) + SLOT_VALUE] = this.#pendValue;
    this.#size++;
    this.#undoLevels = -1;
    this.#pathSlot[0] = i;
    this.#eraseAt(n, i, this.#pendFirst);
  }

  /**
   * A store of exactly the deferred erase's range: the tree before the erase, with `value` in the
   * slot; its shape, pivots and gap summaries are those it had. O(1).
   */
  #refill(value: number): void {
    this.nodes.lnode[(this.#pendLeaf << NODE_SHIFT) + slotAt(this.#pendSlot) + SLOT_VALUE] = value;
    this.#pendLeaf = -1;
    this.#size++;
    this.#undoLevels = -1;
  }

  /** Settles a deferred erase, for the reads and writes that need empty runs merged and gap summaries true. */
  #settled(): void {
    if (this.#pendLeaf >= 0) this.#settle();
    if (this.#pstFirst >= 0) this.#applyStore();
  }

  /** Runs the deferred store (see {@link #pstFirst}) on its own descent. */
  #applyStore(): void {
    const first = this.#pstFirst;
    this.#pstFirst = -1;
    this.#write(first, this.#pstLast, this.#pstValue);
  }

  /**
   * Runs the deferred store and records the path to `index` for an erase: both descents advance
   * level by level together ({@link #descendPair}), the store goes in on its path, and the other
   * path is the erase's as long as the store changed no node's range or the tree's shape (an
   * in-leaf splice; otherwise the erase descends again). Cost: about one descent's latency.
   */
  #storeThenDescend(index: number): void {
    const first = this.#pstFirst;
    this.#pstFirst = -1;
    this.#descendPair(first, index);
    this.#write(first, this.#pstLast, this.#pstValue);
    if (!this.#pathKept) {
      this.#descend(index);
      return;
    }
    // The erase's path becomes the recorded one (the arrays trade places, nothing is copied).
    const node = this.#pathNode;
    const slot = this.#pathSlot;
    const min = this.#pathMin;
    this.#pathNode = this.#path2Node;
    this.#pathSlot = this.#path2Slot;
    this.#pathMin = this.#path2Min;
    this.#path2Node = node;
    this.#path2Slot = slot;
    this.#path2Min = min;
    // The slot again: the store may have spliced the same leaf.
    this.#pathSlot[0] = MapleTree.#slotOf(this.nodes.lnode, this.#pathNode[0]! << NODE_SHIFT, index);
  }

  /**
   * As {@link #descend} for `a` (into `#path*`, marked kept) and `b` (into `#path2*`) at once: one
   * loop over the levels, so the two chains of dependent loads are in flight together.
   */
  #descendPair(a: number, b: number): void {
    const inode = this.nodes.inode;
    const pathNode = this.#pathNode;
    const pathSlot = this.#pathSlot;
    const pathMin = this.#pathMin;
    const path2Node = this.#path2Node;
    const path2Slot = this.#path2Slot;
    const path2Min = this.#path2Min;
    let na = this.root;
    let nb = na;
    let minA = 0;
    let minB = 0;
    for (let l = this.levels; l > 0; l--) {
      const ba = na << NODE_SHIFT;
      const bb = nb << NODE_SHIFT;
      const ia = MapleTree.#slotOf(inode, ba, a);
      const ib = MapleTree.#slotOf(inode, bb, b);
      pathNode[l] = na;
      pathSlot[l] = ia;
      pathMin[l] = minA;
      path2Node[l] = nb;
      path2Slot[l] = ib;
      path2Min[l] = minB;
      if (ia > 0) minA = inode[ba + slotAt(ia - 1)]! + 1;
      if (ib > 0) minB = inode[bb + slotAt(ib - 1)]! + 1;
      na = inode[ba + slotAt(ia) + SLOT_VALUE]! | 0;
      nb = inode[bb + slotAt(ib) + SLOT_VALUE]! | 0;
    }
    const lnode = this.nodes.lnode;
    pathNode[0] = na;
    pathSlot[0] = MapleTree.#slotOf(lnode, na << NODE_SHIFT, a);
    pathMin[0] = minA;
    path2Node[0] = nb;
    path2Slot[0] = MapleTree.#slotOf(lnode, nb << NODE_SHIFT, b);
    path2Min[0] = minB;
    this.#pathKept = true;
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
    this.#settled();
    if (this.#size !== 0) throw new MmkitError(ErrorCode.InvalidState, `bulkLoad needs an empty tree, this one holds ${this.#size} ranges`);
    if (this.#snapshots.length > 0) throw new MmkitError(ErrorCode.InvalidState, "bulkLoad with a live snapshot");
    const n = requireColumns(firsts, lasts, values);
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
      const b = id << NODE_SHIFT;
      const lnode = nodes.lnode;
      for (let i = 0; i < SLOTS; i++) {
        lnode[b + slotAt(i)] = i < k ? piv[at + i]! : Infinity;
        lnode[b + slotAt(i) + SLOT_VALUE] = i < k ? val[at + i]! : NaN;
      }
      nodes.lcount[id] = k;
      at += k;
      leafSummary(nodes, id, sum);
      ids[j] = id;
      maxes[j] = lnode[b + slotAt(k - 1)]!;
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
        const nb = id << NODE_SHIFT;
        const inode = nodes.inode;
        for (let i = 0; i < k; i++) {
          inode[nb + slotAt(i)] = maxes[at + i]!;
          inode[nb + slotAt(i) + SLOT_VALUE] = ids[at + i]!;
          nodes.igap[3 * (b + i)] = heads[at + i]!;
          nodes.igap[3 * (b + i) + 1] = tails[at + i]!;
          nodes.igap[3 * (b + i) + 2] = gaps[at + i]!;
        }
        for (let i = k; i < SLOTS; i++) {
          inode[nb + slotAt(i)] = Infinity;
          inode[nb + slotAt(i) + SLOT_VALUE] = 0;
        }
        nodes.icount[id] = k;
        at += k;
        innerSummary(nodes, id, sum);
        pIds[j] = id;
        pMaxes[j] = inode[nb + slotAt(k - 1)]!;
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
    this.#pathKept = false;
    this.#undoLevels = -1;
    this.#rootStale = false;
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
    this.#settled();
    this.#refresh();
    const nodes = this.nodes;
    const epoch = nodes.epoch++;
    this.#undoLevels = -1;
    const snap = new MapleSnapshot(nodes, this.root, this.levels, this.#size, epoch, (s) => this.#release(s));
    this.#snapshots.push(snap);
    this.#pinned = epoch;
    return snap;
  }

  /**
   * Validates every invariant and throws `ERR_INVARIANT` on the first broken one: node occupancy
   * (1..16 slots, at least 6 below the root, 2 in an inner root), strictly increasing pivots that
   * end at each node's maximum and +Infinity in unused slots, equal leaf depth, finite or empty
   * values, no two adjacent empty runs, each parent's copy of its children's gap summaries, the
   * range count, and node accounting (live = reachable + pinned by snapshots).
   *
   * Cost: O(n).
   */
  check(): void {
    this.#writable();
    // A deferred store is validated as a record; the tree is checked without it.
    if (this.#pstFirst >= 0 && (this.#pendLeaf >= 0 || this.#pinned !== 0 || !this.#fastPaths || !(this.#pstLast >= this.#pstFirst) || !Number.isFinite(this.#pstValue))) {
      throw new MmkitError(ErrorCode.Invariant, `maple tree: deferred store [${this.#pstFirst}, ${this.#pstLast}] = ${this.#pstValue} beside a deferred erase, a snapshot or the fast paths off`);
    }
    checkMapleTree({
      nodes: this.nodes,
      root: this.root,
      height: this.levels,
      size: this.#size,
      pinnedLeaves: this.#retired.filter((r) => r.leaf).length,
      pinnedInner: this.#retired.filter((r) => !r.leaf).length,
      rootStale: this.#rootStale,
      ...(this.#pendLeaf < 0
        ? {}
        : {
            pending: {
              leaf: this.#pendLeaf,
              slot: this.#pendSlot,
              first: this.#pendFirst,
              last: this.#pendLast,
              value: this.#pendValue,
              pathNode: this.#pathNode,
              pathSlot: this.#pathSlot,
              pathMin: this.#pathMin,
            },
          }),
    });
  }

  /** Gives the node arrays back to the arena. Later writes throw `ERR_INVALID_STATE`; reads see an empty tree. */
  dispose(): void {
    this.#writable();
    for (const s of [...this.#snapshots]) s.release();
    this.nodes.dispose();
    this.#pendLeaf = -1;
    this.#pstFirst = -1;
    this.root = 0;
    this.levels = 0;
    this.#size = 0;
    this.#disposed = true;
    this.#rootStale = false;
    this.#pathKept = false;
    this.#undoLevels = -1;
  }

  // ---- write path ---------------------------------------------------------------------------

  #writable(): void {
    if (this.#disposed) throw new MmkitError(ErrorCode.InvalidState, "maple tree was disposed");
  }

  #emptyLeaf(): number {
    const nodes = this.nodes;
    const id = nodes.allocLeaf();
    const b = id << NODE_SHIFT;
    for (let i = 0; i < SLOTS; i++) {
      nodes.lnode[b + slotAt(i)] = i === 0 ? MAX_INDEX : Infinity;
      nodes.lnode[b + slotAt(i) + SLOT_VALUE] = NaN;
    }
    nodes.lcount[id] = 1;
    return id;
  }

  /**
   * Fast path of `erase`: the path to the occupied entry in slot `i` of leaf `n` is recorded. The
   * entry becomes empty and merges with its empty neighbours, in place, when no leaf under- or
   * overflows: within the leaf when both neighbours are in it (or the tree ends there), and when a
   * neighbour is the edge entry of the adjacent leaf under the same parent, the way the general
   * path does it (an empty run on the left moves into this leaf, this leaf's empty tail moves into
   * the right neighbour), patching the parent's pivot between the two. Parents' copies are fixed
   * up the path only while they change. Returns false (having changed nothing) when the general
   * path must do it: a leaf would drop below {@link MIN_SLOTS}, the neighbour leaf has another
   * parent, or a snapshot pins a leaf the cross-leaf case would touch. Allocates nothing.
   */
  #eraseInLeaf(n: number, i: number): boolean {
    const nodes = this.nodes;
    const c = nodes.lcount[n]!;
    const lnode = nodes.lnode;
    const b = n << NODE_SHIFT;
    const inner = this.levels > 0;
    // Neighbours: inside the leaf, none (the index space ends), or the edge entry of a sibling.
    let leftEmpty = false;
    let left = -1;
    if (i > 0) {
      const v = lnode[b + slotAt(i - 1) + SLOT_VALUE]!;
      leftEmpty = v !== v;
    } else if (inner && this.#pathMin[0]! > 0) {
      const s = this.#pathSlot[1]!;
      // The leaf before under another parent: the general path joins an empty run there; an
      // occupied one changes nothing there.
      const prev = s === 0 ? this.#neighbourLeaf(false) : this.#childOf(this.#pathNode[1]!, s - 1);
      const v = lnode[(prev << NODE_SHIFT) + slotAt(nodes.lcount[prev]! - 1) + SLOT_VALUE]!;
      leftEmpty = v !== v;
      if (s === 0 && leftEmpty) return false;
      left = prev;
    }
    let rightEmpty = false;
    let right = -1;
    if (i + 1 < c) {
      const v = lnode[b + slotAt(i + 1) + SLOT_VALUE]!;
      rightEmpty = v !== v;
    } else if (inner && lnode[b + slotAt(i)]! < MAX_INDEX) {
      const s = this.#pathSlot[1]!;
      const last = s + 1 >= nodes.icount[this.#pathNode[1]!]!;
      const next = last ? this.#neighbourLeaf(true) : this.#childOf(this.#pathNode[1]!, s + 1);
      const v = lnode[(next << NODE_SHIFT) + SLOT_VALUE]!;
      rightEmpty = v !== v;
      right = next;
    }
    const lo = leftEmpty && i > 0 ? i - 1 : i;
    const hi = rightEmpty && i + 1 < c ? i + 1 : i;
    if (leftEmpty && left >= 0) return this.#eraseJoiningLeft(n, left, hi);
    if (rightEmpty && right >= 0) return this.#eraseJoiningRight(n, lo);
    const gone = hi - lo;
    if (c - gone < MIN_SLOTS && inner) return this.#eraseUnderflow(n, lo, hi);
    if (this.#lazy()) {
      // No snapshot: the leaf is written in place and only marked dirty up the path.
      this.#emptySlots(n, lo, hi);
      this.#size--;
      this.#undoLevels = -1;
      this.#markDirty(0);
      return true;
    }
    // The empty run the entry joins, for the parents' copies of the gap summaries.
    const first = i === 0 ? this.#pathMin[0]! : lnode[b + slotAt(i - 1)]! + 1;
    const runStart = lo === i ? first : lo === 0 ? this.#pathMin[0]! : lnode[b + slotAt(lo - 1)]! + 1;
    const runEnd = lnode[b + slotAt(hi)]!;
    const last = lnode[b + slotAt(i)]!;
    this.#makePathWritable();
    this.#emptySlots(this.#pathNode[0]!, lo, hi);
    this.#size--;
    this.#patchSummaries(0, runStart, runEnd, first - runStart, runEnd - last, false);
    if (this.#undoLevels >= 0) {
      const run = this.#undoRun;
      run[0] = runStart;
      run[1] = runEnd;
      run[2] = first - runStart;
      run[3] = runEnd - last;
    }
    return true;
  }

  /**
   * After a write inside one node at `level` of the path (and its children) that left every
   * node's max pivot alone, patches each parent's copy of the gap summaries from the facts of the
   * write alone: the empty run `[rs, re]` was split by a store into a left piece of `a` indices,
   * the stored range and a right piece of `z` indices (`store`), or was formed by an erase from a
   * left run of `a` indices, the erased range and a right run of `z` (`!store`). A node whose
   * summary does not change ends the walk; a node whose longest interior gap may have shrunk (the
   * run was it) is summarised from its slots ({@link fixParents}). O(height), and no node scan in
   * the common cases. Eager summaries only (a live snapshot); lazy ones are marked dirty instead.
   */
  #patchSummaries(level: number, rs: number, re: number, a: number, z: number, store: boolean): void {
    const nodes = this.nodes;
    const inode = nodes.inode;
    const igap = nodes.igap;
    // An in-place erase from the leaf keeps what it replaces, for a store that undoes it.
    const undo = this.#undoGaps;
    this.#undoLevels = !store && level === 0 ? 0 : -1;
    for (let l = level; l < this.levels; l++) {
      const parent = this.#pathNode[l + 1]!;
      const slot = this.#pathSlot[l + 1]!;
      const g = 3 * ((parent << SLOT_SHIFT) + slot);
      const max = inode[(parent << NODE_SHIFT) + slotAt(slot)]!;
      const h = igap[g]!;
      const t = igap[g + 1]!;
      const m = igap[g + 2]!;
      const atStart = rs === this.#pathMin[l]!;
      const atEnd = re === max;
      let h2 = h;
      let t2 = t;
      let m2 = m;
      if (store) {
        if (!atStart && !atEnd) {
          // Both pieces are shorter than the run: only a run that was the longest matters.
          if (re - rs + 1 < m) return;
          this.#fixParents(l, this.#pathNode[l]!, l === 0);
          return;
        }
        if (atStart) h2 = a > 0 ? rs + a - 1 : -1;
        if (atEnd) t2 = z > 0 ? re - z + 1 : -1;
        if (atStart && atEnd) m2 = 0;
        else if (atStart) m2 = z > m ? z : m;
        else m2 = a > m ? a : m;
      } else if (atStart && atEnd) {
        h2 = max;
        t2 = -1;
        m2 = 0;
      } else if (atStart || atEnd) {
        // The run on the far side was interior and now is not: if it was the longest, rescan.
        if ((atStart ? z : a) === m && m > 0) {
          this.#undoLevels = -1;
          this.#fixParents(l, this.#pathNode[l]!, l === 0);
          return;
        }
        if (atStart) h2 = re;
        else t2 = rs;
      } else {
        if (re - rs + 1 <= m) return;
        m2 = re - rs + 1;
      }
      if (h2 === h && t2 === t && m2 === m) return;
      if (this.#undoLevels === l) {
        undo[3 * l] = h;
        undo[3 * l + 1] = t;
        undo[3 * l + 2] = m;
        this.#undoLevels = l + 1;
      }
      igap[g] = h2;
      igap[g + 1] = t2;
      igap[g + 2] = m2;
    }
  }

  /** Puts back the parents' copies the last in-place erase replaced (see `#undoGaps`), along the current path. */
  #restoreGaps(): void {
    const igap = this.nodes.igap;
    const undo = this.#undoGaps;
    for (let l = 0; l < this.#undoLevels; l++) {
      const g = 3 * ((this.#pathNode[l + 1]! << SLOT_SHIFT) + this.#pathSlot[l + 1]!);
      igap[g] = undo[3 * l]!;
      igap[g + 1] = undo[3 * l + 1]!;
      igap[g + 2] = undo[3 * l + 2]!;
    }
  }

  /** In leaf `n` (writable), slots `lo..hi` become one empty entry ending at slot hi's pivot; later slots shift down. */
  #emptySlots(n: number, lo: number, hi: number): void {
    const nodes = this.nodes;
    const lnode = nodes.lnode;
    const b = n << NODE_SHIFT;
    const c = nodes.lcount[n]!;
    const gone = hi - lo;
    lnode[b + slotAt(lo)] = lnode[b + slotAt(hi)]!;
    lnode[b + slotAt(lo) + SLOT_VALUE] = NaN;
    if (gone === 0) return;
    for (let x = hi + 1; x < c; x++) {
      const to = b + slotAt(x - gone);
      const from = b + slotAt(x);
      lnode[to] = lnode[from]!;
      lnode[to + SLOT_VALUE] = lnode[from + SLOT_VALUE]!;
    }
    for (let x = c - gone; x < c; x++) {
      lnode[b + slotAt(x)] = Infinity;
      lnode[b + slotAt(x) + SLOT_VALUE] = NaN;
    }
    nodes.lcount[n] = c - gone;
  }

  /**
   * Erase of slot 0 of leaf `n` whose left neighbour, the last entry of sibling `left`, is empty:
   * that run leaves `left` and joins slots `0..hi` of `n` as its one empty entry, so the pivot
   * between the two leaves moves down to `left`'s new last entry. Both leaves must keep
   * {@link MIN_SLOTS}; no snapshot may be live. Returns false (nothing changed) otherwise.
   */
  #eraseJoiningLeft(n: number, left: number, hi: number): boolean {
    const nodes = this.nodes;
    const cl = nodes.lcount[left]!;
    if (this.#pinned !== 0 || cl - 1 < MIN_SLOTS || nodes.lcount[n]! - hi < MIN_SLOTS) return false;
    const lnode = nodes.lnode;
    const lb = left << NODE_SHIFT;
    const runStart = lnode[lb + slotAt(cl - 2)]! + 1;
    lnode[lb + slotAt(cl - 1)] = Infinity;
    lnode[lb + slotAt(cl - 1) + SLOT_VALUE] = NaN;
    nodes.lcount[left] = cl - 1;
    this.#emptySlots(n, 0, hi);
    this.#size--;
    const parent = this.#pathNode[1]!;
    const s = this.#pathSlot[1]!;
    this.#pathKept = false;
    // The pivot between the two leaves moves; both leaves' summaries in the parent go stale (no
    // snapshot is live, so summaries are lazy), and the parent's up the path.
    nodes.inode[(parent << NODE_SHIFT) + slotAt(s - 1)] = runStart - 1;
    nodes.ldirty[left] = 1;
    nodes.ldirty[n] = 1;
    this.#staleUp(1);
    return true;
  }

  /**
   * Erase of the last entry of leaf `n` whose right neighbour, slot 0 of the next leaf (under the
   * same parent or not), is empty: slots `lo..` leave `n` and join that run (whose pivot already
   * ends it), so `n`'s max pivot moves down to its slot lo - 1, in the parent and up the path
   * while it is the max there. The next leaf's content and summary do not change (summaries are
   * positions). A leaf left below {@link MIN_SLOTS} merges or shares with a sibling
   * ({@link #rebalanceLeaf}), as the general path would. No snapshot may be live. Returns false
   * (nothing changed) when one is, or when a merge would underflow the parent.
   */
  #eraseJoiningRight(n: number, lo: number): boolean {
    const nodes = this.nodes;
    const c = nodes.lcount[n]!;
    if (this.#pinned !== 0 || (lo < MIN_SLOTS && !this.#rebalanceLegal(lo))) return false;
    clearLeafSlots(nodes.lnode, n, lo, c);
    nodes.lcount[n] = lo;
    this.#size--;
    this.#pathKept = false;
    this.#undoLevels = -1;
    // n's summary goes stale (no snapshot is live, so summaries are lazy), its pivot follows its max.
    this.#staleUp(0);
    if (lo < MIN_SLOTS) this.#rebalanceLeaf(n, lo);
    return true;
  }

  /**
   * The leaf before (`after` false) or after the recorded path's leaf: up the path to the first
   * node with a child on that side, then down that child's edge. -1 when the path's leaf is the
   * first / last. Cost: O(height) reads of nodes the descent mostly touched.
   */
  #neighbourLeaf(after: boolean): number {
    const nodes = this.nodes;
    for (let l = 1; l <= this.levels; l++) {
      const p = this.#pathNode[l]!;
      const s = this.#pathSlot[l]!;
      if (after ? s + 1 < nodes.icount[p]! : s > 0) {
        let n = this.#childOf(p, after ? s + 1 : s - 1);
        for (let d = l - 1; d > 0; d--) n = this.#childOf(n, after ? 0 : nodes.icount[n]! - 1);
        return n;
      }
    }
    return -1;
  }

  /**
   * A store of `value` at `[first, last]` inside the empty entry `i` (`[start, end]`) of the path's
   * leaf, which has no room for the entries it adds: the leaf's new content is shared with a
   * sibling or split into a new leaf in place, exactly as the general path ({@link #commit}) would
   * place it, and the parent gets its pivots, its new slot and stale summaries. Returns false
   * (having changed nothing) when the general path must do it: a live snapshot or the fast paths
   * off (summaries are eager then), a leaf root, or a split under a full parent. Cost: O(16) slot
   * copies; one leaf allocated for a split.
   */
  #storeOverflow(i: number, start: number, end: number, first: number, last: number, value: number): boolean {
    if (this.levels === 0 || !this.#lazy()) return false;
    const nodes = this.nodes;
    const n = this.#pathNode[0]!;
    const parent = this.#pathNode[1]!;
    const s = this.#pathSlot[1]!;
    const pc = nodes.icount[parent]!;
    const c = nodes.lcount[n]!;
    const leftCount = s > 0 ? nodes.lcount[this.#childOf(parent, s - 1)]! : SLOTS;
    const rightCount = s + 1 < pc ? nodes.lcount[this.#childOf(parent, s + 1)]! : SLOTS;
    const k = c + (start < first ? 1 : 0) + (last < end ? 1 : 0);
    // The policy of #commit at a leaf, in its order.
    const fillLeft = i === c - 1 && s + 1 === pc && leftCount + k <= 2 * SLOTS;
    const share = !fillLeft && (leftCount < rightCount ? leftCount : rightCount) + k <= SHARE_MAX;
    if (!fillLeft && !share && pc === SLOTS) return false;
    // The leaf's content after the store, in the scratch columns.
    const cPiv = this.#cPiv;
    const cSlot = this.#cSlot;
    let lnode = nodes.lnode;
    const b = n << NODE_SHIFT;
    let x = 0;
    for (; x < i; x++) {
      cPiv[x] = lnode[b + slotAt(x)]!;
      cSlot[x] = lnode[b + slotAt(x) + SLOT_VALUE]!;
    }
    let at = x;
    if (start < first) {
      cPiv[at] = first - 1;
      cSlot[at++] = NaN;
    }
    cPiv[at] = last;
    cSlot[at++] = value;
    if (last < end) {
      cPiv[at] = end;
      cSlot[at++] = NaN;
    }
    for (x = i + 1; x < c; x++) {
      cPiv[at] = lnode[b + slotAt(x)]!;
      cSlot[at++] = lnode[b + slotAt(x) + SLOT_VALUE]!;
    }
    const inode = nodes.inode;
    const pb = parent << NODE_SHIFT;
    if (fillLeft || (share && leftCount <= rightCount)) {
      // The left sibling takes the content's first entries, up to `want` in all.
      const want = fillLeft ? Math.min(SLOTS, leftCount + k - MIN_SLOTS) : (leftCount + k) >> 1;
      const moved = want - leftCount;
      const sib = this.#childOf(parent, s - 1);
      this.#putContent(sib, leftCount, 0, moved);
      nodes.lcount[sib] = want;
      this.#putContent(n, 0, moved, k - moved);
      clearLeafSlots(lnode, n, k - moved, c);
      nodes.lcount[n] = k - moved;
      inode[pb + slotAt(s - 1)] = cPiv[moved - 1]!;
      nodes.ldirty[sib] = 1;
    } else if (share) {
      // The right sibling takes the content's last entries in front of its own.
      const keep = (k + rightCount) >> 1;
      const moved = k - keep;
      const sib = this.#childOf(parent, s + 1);
      copyLeafSlots(lnode, sib, 0, sib, moved, rightCount);
      this.#putContent(sib, 0, keep, moved);
      nodes.lcount[sib] = rightCount + moved;
      this.#putContent(n, 0, 0, keep);
      clearLeafSlots(lnode, n, keep, c);
      nodes.lcount[n] = keep;
      inode[pb + slotAt(s)] = cPiv[keep - 1]!;
      nodes.ldirty[sib] = 1;
    } else {
      // Split: a new leaf takes the second half and a slot after this one in the parent.
      const m = nodes.allocLeaf();
      lnode = nodes.lnode;
      const keep = k >> 1;
      this.#putContent(m, 0, keep, k - keep);
      clearLeafSlots(lnode, m, k - keep, SLOTS);
      nodes.lcount[m] = k - keep;
      this.#putContent(n, 0, 0, keep);
      clearLeafSlots(lnode, n, keep, c);
      nodes.lcount[n] = keep;
      openInnerSlot(nodes, parent, s + 1);
      inode[pb + slotAt(s + 1)] = inode[pb + slotAt(s)]!;
      inode[pb + slotAt(s + 1) + SLOT_VALUE] = m;
      nodes.ldirty[m] = 1;
      inode[pb + slotAt(s)] = cPiv[keep - 1]!;
    }
    nodes.ldirty[n] = 1;
    this.#size++;
    this.#pathKept = false;
    this.#staleUp(1);
    return true;
  }

  /** Leaf `n`'s slots from `to` := scratch content entries `from .. from + count - 1`. */
  #putContent(n: number, to: number, from: number, count: number): void {
    const lnode = this.nodes.lnode;
    const b = n << NODE_SHIFT;
    const cPiv = this.#cPiv;
    const cSlot = this.#cSlot;
    for (let x = 0; x < count; x++) {
      lnode[b + slotAt(to + x)] = cPiv[from + x]!;
      lnode[b + slotAt(to + x) + SLOT_VALUE] = cSlot[from + x]!;
    }
  }

  /**
   * The in-leaf erase of slots `lo .. hi` of the path's leaf `n` (one empty entry after it) would
   * leave fewer than {@link MIN_SLOTS} entries: it runs, then the leaf merges with a sibling
   * (into one leaf of at most {@link MERGE_MAX}, the parent losing a slot) or shares with it
   * evenly, in place, exactly as the general path ({@link #commit}) would. Returns false (having
   * changed nothing) when the general path must do it: a live snapshot or the fast paths off, or a
   * merge that would underflow the parent. Cost: O(16) slot copies; a merge frees a leaf.
   */
  #eraseUnderflow(n: number, lo: number, hi: number): boolean {
    const k = this.nodes.lcount[n]! - (hi - lo);
    if (!this.#lazy() || !this.#rebalanceLegal(k)) return false;
    this.#emptySlots(n, lo, hi);
    this.#size--;
    this.#pathKept = false;
    this.#undoLevels = -1;
    this.#rebalanceLeaf(n, k);
    return true;
  }

  /**
   * Whether the path's leaf, left with `k` entries (fewer than {@link MIN_SLOTS}), can be fixed in
   * place by {@link #rebalanceLeaf}: a merge must leave its parent a legal slot count.
   */
  #rebalanceLegal(k: number): boolean {
    const nodes = this.nodes;
    const parent = this.#pathNode[1]!;
    const s = this.#pathSlot[1]!;
    const pc = nodes.icount[parent]!;
    const sc = nodes.lcount[this.#childOf(parent, s > 0 ? s - 1 : s + 1)]!;
    return k + sc > MERGE_MAX || pc - 1 >= MIN_SLOTS || (this.levels === 1 && pc - 1 >= 2);
  }

  /**
   * The path's leaf `n` holds `k` entries, fewer than {@link MIN_SLOTS} (its pivot in the parent
   * true): it merges with its left sibling (the right one for a first child) into one leaf when the
   * two hold at most {@link MERGE_MAX}, the parent closing a slot, else the two share their entries
   * evenly; summaries go stale. The choice and the result are #commit's. The caller checked
   * {@link #rebalanceLegal}. Cost: O(16) slot copies; a merge frees a leaf.
   */
  #rebalanceLeaf(n: number, k: number): void {
    const nodes = this.nodes;
    const parent = this.#pathNode[1]!;
    const s = this.#pathSlot[1]!;
    const sb = s > 0 ? s - 1 : s + 1;
    const sib = this.#childOf(parent, sb);
    const sc = nodes.lcount[sib]!;
    // In index order: leaf `l` in parent slot `ls`, then leaf `r`.
    const ls = sb < s ? sb : s;
    const l = sb < s ? sib : n;
    const r = sb < s ? n : sib;
    const cl = sb < s ? sc : k;
    const cr = sb < s ? k : sc;
    const lnode = nodes.lnode;
    const inode = nodes.inode;
    const pb = parent << NODE_SHIFT;
    if (k + sc <= MERGE_MAX) {
      copyLeafSlots(lnode, r, 0, l, cl, cr);
      nodes.lcount[l] = cl + cr;
      inode[pb + slotAt(ls)] = inode[pb + slotAt(ls + 1)]!;
      closeInnerSlot(nodes, parent, ls + 1);
      nodes.freeLeaf(r);
    } else {
      const want = (cl + cr) >> 1;
      if (want < cl) {
        const moved = cl - want;
        copyLeafSlots(lnode, r, 0, r, moved, cr);
        copyLeafSlots(lnode, l, want, r, 0, moved);
        clearLeafSlots(lnode, l, want, cl);
      } else {
        const moved = want - cl;
        copyLeafSlots(lnode, r, 0, l, cl, moved);
        copyLeafSlots(lnode, r, moved, r, 0, cr - moved);
        clearLeafSlots(lnode, r, cr - moved, cr);
      }
      nodes.lcount[l] = want;
      nodes.lcount[r] = cl + cr - want;
      inode[pb + slotAt(ls)] = lnode[(l << NODE_SHIFT) + slotAt(want - 1)]!;
      nodes.ldirty[r] = 1;
    }
    nodes.ldirty[l] = 1;
    this.#staleUp(1);
  }

  /** Whether writes mark gap summaries stale instead of patching them (see `#rootStale`). */
  #lazy(): boolean {
    return this.#fastPaths && this.#pinned === 0;
  }

  /**
   * Node `#pathNode[level]` changed (its content, maybe its max pivot): it and each node above it
   * on the path are marked dirty, and each parent's pivot for it follows its max while that
   * changes, up to the first node already dirty whose pivot stays (its parents are dirty already).
   * O(1) once the path is dirty, O(height) at most; the marks are bytes in small arrays.
   */
  #staleUp(level: number): void {
    const nodes = this.nodes;
    const inode = nodes.inode;
    const n = this.#pathNode[level]!;
    let max = level === 0 ? nodes.lnode[(n << NODE_SHIFT) + slotAt(nodes.lcount[n]! - 1)]! : inode[(n << NODE_SHIFT) + slotAt(nodes.icount[n]! - 1)]!;
    let moved = true;
    for (let l = level; l < this.levels; l++) {
      const dirty = l === 0 ? nodes.ldirty : nodes.idirty;
      const node = this.#pathNode[l]!;
      const parent = this.#pathNode[l + 1]!;
      if (moved) {
        const pv = (parent << NODE_SHIFT) + slotAt(this.#pathSlot[l + 1]!);
        if (inode[pv] === max) moved = false;
        else {
          inode[pv] = max;
          max = inode[(parent << NODE_SHIFT) + slotAt(nodes.icount[parent]! - 1)]!;
        }
      }
      if (dirty[node] === 1 && !moved) return;
      dirty[node] = 1;
    }
    this.#rootStale = true;
  }

  /**
   * As {@link #staleUp} for a write inside node `#pathNode[level]` that left its max pivot alone:
   * it and each node above it are marked dirty, up to the first already dirty. O(1) once the path
   * is dirty.
   */
  #markDirty(level: number): void {
    const nodes = this.nodes;
    for (let l = level; l < this.levels; l++) {
      const dirty = l === 0 ? nodes.ldirty : nodes.idirty;
      const node = this.#pathNode[l]!;
      if (dirty[node] === 1) return;
      dirty[node] = 1;
    }
    this.#rootStale = true;
  }

  /** Recomputes the gap summary copies of every dirty node (children first), so gap searches and snapshots read true ones. O(dirty nodes x 16). */
  #refresh(): void {
    if (!this.#rootStale) return;
    if (this.levels > 0) {
      this.#refreshNode(this.root, this.levels);
      this.nodes.idirty[this.root] = 0;
    } else this.nodes.ldirty[this.root] = 0;
    this.#rootStale = false;
  }

  #refreshNode(n: number, level: number): void {
    const nodes = this.nodes;
    const igap = nodes.igap;
    const sum = this.#sum;
    const c = nodes.icount[n]!;
    const dirty = level > 1 ? nodes.idirty : nodes.ldirty;
    for (let i = 0; i < c; i++) {
      const child = this.#childOf(n, i);
      if (dirty[child] === 0) continue;
      dirty[child] = 0;
      const g = 3 * ((n << SLOT_SHIFT) + i);
      if (level > 1) {
        this.#refreshNode(child, level - 1);
        innerSummary(nodes, child, sum);
      } else leafSummary(nodes, child, sum);
      igap[g] = sum[0]!;
      igap[g + 1] = sum[1]!;
      igap[g + 2] = sum[2]!;
    }
  }

  /**
   * Fast path of a store of `value` (finite) at `[first, last]`: descends to `first`; when that
   * index lies in an empty run of a leaf that also holds `last` and the leaf has room for the one or
   * two extra entries the split of the run needs, splices them in place and fixes the parents'
   * copies up the path only while they change. Returns false with the path to `first` recorded
   * (having changed nothing) when the general path must do it. Allocates nothing.
   */
  #storeInLeaf(first: number, last: number, value: number): boolean {
    this.#descend(first);
    const nodes = this.nodes;
    let n = this.#pathNode[0]!;
    const i = this.#pathSlot[0]!;
    let b = n << NODE_SHIFT;
    let lnode = nodes.lnode;
    const v = lnode[b + slotAt(i) + SLOT_VALUE]!;
    if (v === v) return false;
    const end = lnode[b + slotAt(i)]!;
    if (last > end) return false;
    const start = i === 0 ? this.#pathMin[0]! : lnode[b + slotAt(i - 1)]! + 1;
    const c = nodes.lcount[n]!;
    const before = start < first ? 1 : 0;
    const after = last < end ? 1 : 0;
    const added = before + after;
    if (c + added > SLOTS) return this.#storeOverflow(i, start, end, first, last, value);
    this.#makePathWritable();
    n = this.#pathNode[0]!;
    b = n << NODE_SHIFT;
    lnode = nodes.lnode;
    if (added > 0) {
      for (let x = c - 1; x > i; x--) {
        const to = b + slotAt(x + added);
        const from = b + slotAt(x);
        lnode[to] = lnode[from]!;
        lnode[to + SLOT_VALUE] = lnode[from + SLOT_VALUE]!;
      }
      nodes.lcount[n] = c + added;
    }
    let p = i;
    if (before) {
      lnode[b + slotAt(p)] = first - 1;
      lnode[b + slotAt(p) + SLOT_VALUE] = NaN;
      p++;
    }
    lnode[b + slotAt(p)] = last;
    lnode[b + slotAt(p) + SLOT_VALUE] = value;
    if (after) {
      lnode[b + slotAt(p + 1)] = end;
      lnode[b + slotAt(p + 1) + SLOT_VALUE] = NaN;
    }
    this.#size++;
    if (this.#pinned === 0) {
      // The fast paths run only when on: lazy summaries, the leaf only marked dirty up the path.
      this.#markDirty(0);
      return true;
    }
    const run = this.#undoRun;
    if (this.#undoLevels >= 0 && run[0] === start && run[1] === end && run[2] === first - start && run[3] === end - last) this.#restoreGaps();
    else this.#patchSummaries(0, start, end, first - start, end - last, true);
    return true;
  }

  /**
   * Node `child` at `level` of the path was rewritten without changing its parent's slot count:
   * patches each parent's copy (max pivot, gap summary) in place on the way up, stopping at the
   * first parent whose copy is unchanged. When only a child's longest interior gap changed, the
   * parent's new summary follows from its own copy in the grandparent (a longer gap raises the
   * parent's longest gap to it; a shorter one changes nothing unless it was the parent's longest),
   * so the parent's slots are re-read only when they must be.
   */
  #fixParents(level: number, child: number, childLeaf: boolean): void {
    if (this.#lazy()) {
      this.#staleUp(level);
      return;
    }
    const nodes = this.nodes;
    const inode = nodes.inode;
    const igap = nodes.igap;
    const sum = this.#sum;
    let max = this.#summarize(child, childLeaf);
    for (let l = level; l < this.levels; l++) {
      const parent = this.#pathNode[l + 1]!;
      const b = (parent << SLOT_SHIFT) + this.#pathSlot[l + 1]!;
      const pv = (parent << NODE_SHIFT) + slotAt(this.#pathSlot[l + 1]!);
      const h = sum[0]!;
      const t = sum[1]!;
      const m = sum[2]!;
      const om = igap[3 * b + 2]!;
      const same = inode[pv] === max && igap[3 * b] === h && igap[3 * b + 1] === t;
      if (same && om === m) return;
      inode[pv] = max;
      igap[3 * b] = h;
      igap[3 * b + 1] = t;
      igap[3 * b + 2] = m;
      if (l + 1 === this.levels) return;
      if (same) {
        const gb = (this.#pathNode[l + 2]! << SLOT_SHIFT) + this.#pathSlot[l + 2]!;
        const gm = igap[3 * gb + 2]!;
        if (m > om) {
          if (m <= gm) return;
          // The parent's head, tail and max pivot stay; its longest gap becomes m.
          max = inode[(this.#pathNode[l + 2]! << NODE_SHIFT) + slotAt(this.#pathSlot[l + 2]!)]!;
          sum[0] = igap[3 * gb]!;
          sum[1] = igap[3 * gb + 1]!;
          sum[2] = m;
          continue;
        }
        if (om < gm) return;
      }
      max = this.#summarize(parent, false);
    }
  }

  /** Stores `value` (NaN: empty) at `[first, last]`; arguments are valid. `pathReady`: the path to `first` is recorded. */
  #write(first: number, last: number, value: number, pathReady = false): void {
    // Every write sees a settled tree (the callers settle first; this keeps any new one honest).
    if (this.#pendLeaf >= 0) this.#settle();
    if (this.#pstFirst >= 0) this.#applyStore();
    // The path to `first` is recorded here when merging with empty neighbours needs it anyway,
    // and reused by the first round of the loop below.
    let pathValid = false;
    if (value === value && this.#fastPaths) {
      const done = this.#storeInLeaf(first, last, value);
      this.#undoLevels = -1;
      if (done) return;
      pathValid = true;
    }
    this.#undoLevels = -1;
    if (value !== value) {
      // Merge with empty neighbours so that empty runs never sit side by side. Neighbours inside
      // the leaf are read from it; only a neighbour in another leaf costs a descent.
      const nodes = this.nodes;
      const lnode = nodes.lnode;
      if (!pathReady) this.#descend(first);
      pathValid = true;
      const n = this.#pathNode[0]!;
      const b = n << NODE_SHIFT;
      const c = nodes.lcount[n]!;
      const i = this.#pathSlot[0]!;
      const start = i === 0 ? this.#pathMin[0]! : lnode[b + slotAt(i - 1)]! + 1;
      let from = first;
      if (lnode[b + slotAt(i) + SLOT_VALUE] !== lnode[b + slotAt(i) + SLOT_VALUE]) from = start;
      else if (start === first && first > 0) {
        if (i > 0) {
          if (lnode[b + slotAt(i - 1) + SLOT_VALUE] !== lnode[b + slotAt(i - 1) + SLOT_VALUE]) from = i === 1 ? this.#pathMin[0]! : lnode[b + slotAt(i - 2)]! + 1;
        } else {
          const p = this.entryAt(first - 1, this.#entry, true)!;
          if (p.value !== p.value) {
            from = p.first;
            pathValid = false;
          }
        }
      }
      if (last <= lnode[b + slotAt(c - 1)]!) {
        let j = i;
        while (lnode[b + slotAt(j)]! < last) j++;
        if (lnode[b + slotAt(j) + SLOT_VALUE] !== lnode[b + slotAt(j) + SLOT_VALUE]) last = lnode[b + slotAt(j)]!;
        else if (lnode[b + slotAt(j)] === last && last < MAX_INDEX) {
          if (j + 1 < c) {
            if (lnode[b + slotAt(j + 1) + SLOT_VALUE] !== lnode[b + slotAt(j + 1) + SLOT_VALUE]) last = lnode[b + slotAt(j + 1)]!;
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
        while (lnode[b + slotAt(k)]! < from) k++;
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
      const b = n << NODE_SHIFT;
      const c = nodes.lcount[n]!;
      const lnode = nodes.lnode;
      const start = i === 0 ? this.#pathMin[0]! : lnode[b + slotAt(i - 1)]! + 1;
      const leafMax = lnode[b + slotAt(c - 1)]!;
      let removed = 0;
      for (let x = 0; x < c; x++) if (lnode[b + slotAt(x) + SLOT_VALUE] === lnode[b + slotAt(x) + SLOT_VALUE]) removed++;
      let k = 0;
      for (; k < i; k++) {
        cPiv[k] = lnode[b + slotAt(k)]!;
        cSlot[k] = lnode[b + slotAt(k) + SLOT_VALUE]!;
      }
      if (start < first) {
        cPiv[k] = first - 1;
        cSlot[k++] = lnode[b + slotAt(i) + SLOT_VALUE]!;
      }
      const done = last <= leafMax;
      if (done) {
        let j = i;
        while (lnode[b + slotAt(j)]! < last) j++;
        cPiv[k] = last;
        cSlot[k++] = value;
        if (lnode[b + slotAt(j)]! > last) {
          cPiv[k] = lnode[b + slotAt(j)]!;
          cSlot[k++] = lnode[b + slotAt(j) + SLOT_VALUE]!;
        }
        for (let x = j + 1; x < c; x++) {
          cPiv[k] = lnode[b + slotAt(x)]!;
          cSlot[k++] = lnode[b + slotAt(x) + SLOT_VALUE]!;
        }
      }
      let added = 0;
      for (let x = 0; x < k; x++) if (cSlot[x] === cSlot[x]) added++;
      this.#size += added - removed;
      this.#commit(k, done && i === c - 1);
      if (done) return;
    }
  }

  /** Records the root-to-leaf path to the entry holding `index`. */
  #descend(index: number): void {
    const nodes = this.nodes;
    if (this.#pathKept) {
      // The last write left the tree's shape alone: an index in the same leaf has the same path.
      const leaf = this.#pathNode[0]!;
      const b = leaf << NODE_SHIFT;
      if (index >= this.#pathMin[0]! && index <= nodes.lnode[b + slotAt(nodes.lcount[leaf]! - 1)]!) {
        this.#pathSlot[0] = MapleTree.#slotOf(nodes.lnode, b, index);
        return;
      }
    }
    this.#pathKept = true;
    const inode = nodes.inode;
    let n = this.root;
    let min = 0;
    for (let l = this.levels; l > 0; l--) {
      const b = n << NODE_SHIFT;
      const i = MapleTree.#slotOf(inode, b, index);
      this.#pathNode[l] = n;
      this.#pathSlot[l] = i;
      this.#pathMin[l] = min;
      if (i > 0) min = inode[b + slotAt(i - 1)]! + 1;
      n = inode[b + slotAt(i) + SLOT_VALUE]! | 0;
    }
    this.#pathNode[0] = n;
    this.#pathSlot[0] = MapleTree.#slotOf(nodes.lnode, n << NODE_SHIFT, index);
    this.#pathMin[0] = min;
  }

  /** Slot of the first pivot >= `index` in the node block at `b` (the search `load` does, see MapleNodes). */
  static #slotOf(node: Float64Array, b: number, index: number): number {
    const g = (+(node[b + 3]! < index) + +(node[b + 11]! < index) + +(node[b + 19]! < index)) << 2;
    const p = b + (g << 1);
    return g + +(node[p]! < index) + +(node[p + 1]! < index) + +(node[p + 2]! < index);
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
        nodes.lnode.copyWithin(m << NODE_SHIFT, n << NODE_SHIFT, (n + 1) << NODE_SHIFT);
        nodes.lcount[m] = nodes.lcount[n]!;
      } else {
        nodes.inode.copyWithin(m << NODE_SHIFT, n << NODE_SHIFT, (n + 1) << NODE_SHIFT);
        nodes.igap.copyWithin(3 * to, 3 * from, 3 * (from + SLOTS));
        nodes.icount[m] = nodes.icount[n]!;
      }
      this.#retire(n, leaf);
      this.#pathNode[l] = m;
      if (l === this.levels) this.root = m;
      else nodes.inode[(this.#pathNode[l + 1]! << NODE_SHIFT) + slotAt(this.#pathSlot[l + 1]!) + SLOT_VALUE] = m;
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
    const nb = n << NODE_SHIFT;
    if (leaf) {
      const lnode = nodes.lnode;
      for (let i = 0; i < k; i++) {
        lnode[nb + slotAt(i)] = cPiv[from + i]!;
        lnode[nb + slotAt(i) + SLOT_VALUE] = cSlot[from + i]!;
      }
      for (let i = k; i < SLOTS; i++) {
        lnode[nb + slotAt(i)] = Infinity;
        lnode[nb + slotAt(i) + SLOT_VALUE] = NaN;
      }
      nodes.lcount[n] = k;
    } else {
      const inode = nodes.inode;
      const cHead = this.#cHead;
      const cTail = this.#cTail;
      const cMax = this.#cMax;
      for (let i = 0; i < k; i++) {
        inode[nb + slotAt(i)] = cPiv[from + i]!;
        inode[nb + slotAt(i) + SLOT_VALUE] = cSlot[from + i]!;
        nodes.igap[3 * (b + i)] = cHead[from + i]!;
        nodes.igap[3 * (b + i) + 1] = cTail[from + i]!;
        nodes.igap[3 * (b + i) + 2] = cMax[from + i]!;
      }
      for (let i = k; i < SLOTS; i++) {
        inode[nb + slotAt(i)] = Infinity;
        inode[nb + slotAt(i) + SLOT_VALUE] = 0;
        nodes.igap[3 * (b + i)] = 0;
        nodes.igap[3 * (b + i) + 1] = 0;
        nodes.igap[3 * (b + i) + 2] = 0;
      }
      nodes.icount[n] = k;
    }
  }

  /** Loads node `n` into content slots starting at `at`. */
  #readNode(n: number, leaf: boolean, at: number): number {
    const nodes = this.nodes;
    const b = n << SLOT_SHIFT;
    const nb = n << NODE_SHIFT;
    if (leaf) {
      const k = nodes.lcount[n]!;
      const lnode = nodes.lnode;
      for (let i = 0; i < k; i++) {
        this.#cPiv[at + i] = lnode[nb + slotAt(i)]!;
        this.#cSlot[at + i] = lnode[nb + slotAt(i) + SLOT_VALUE]!;
      }
      return k;
    }
    const k = nodes.icount[n]!;
    const inode = nodes.inode;
    for (let i = 0; i < k; i++) {
      this.#cPiv[at + i] = inode[nb + slotAt(i)]!;
      this.#cSlot[at + i] = inode[nb + slotAt(i) + SLOT_VALUE]!;
      this.#cHead[at + i] = nodes.igap[3 * (b + i)]!;
      this.#cTail[at + i] = nodes.igap[3 * (b + i) + 1]!;
      this.#cMax[at + i] = nodes.igap[3 * (b + i) + 2]!;
    }
    return k;
  }

  /** Shifts content slots `[0, k)` up by `by` (gap summaries too unless the content is a leaf's). */
  #shiftContent(k: number, by: number, leaf: boolean): void {
    this.#cPiv.copyWithin(by, 0, k);
    this.#cSlot.copyWithin(by, 0, k);
    if (leaf) return;
    this.#cHead.copyWithin(by, 0, k);
    this.#cTail.copyWithin(by, 0, k);
    this.#cMax.copyWithin(by, 0, k);
  }

  /** Summary of node `n` into #sum; returns the node's max pivot. */
  #summarize(n: number, leaf: boolean): number {
    const nodes = this.nodes;
    if (this.#lazy()) {
      // Lazy summaries: the node is dirty, its copy a placeholder; only the max pivot is true.
      (leaf ? nodes.ldirty : nodes.idirty)[n] = 1;
      this.#sum[0] = 0;
      this.#sum[1] = 0;
      this.#sum[2] = 0;
      return leaf ? nodes.lnode[(n << NODE_SHIFT) + slotAt(nodes.lcount[n]! - 1)]! : nodes.inode[(n << NODE_SHIFT) + slotAt(nodes.icount[n]! - 1)]!;
    }
    if (leaf) {
      leafSummary(nodes, n, this.#sum);
      return nodes.lnode[(n << NODE_SHIFT) + slotAt(nodes.lcount[n]! - 1)]!;
    }
    innerSummary(nodes, n, this.#sum);
    return nodes.inode[(n << NODE_SHIFT) + slotAt(nodes.icount[n]! - 1)]!;
  }

  /**
   * The content buffer holds the new leaf of the path (`k` entries, possibly 0 or up to 18). Writes
   * it back, splitting, merging or rebalancing and fixing each parent up the path, and stops as
   * soon as a parent's copy of its child (pivot, summary) is unchanged.
   */
  #commit(k: number, append = false): void {
    this.#pathKept = false;
    this.#undoLevels = -1;
    const nodes = this.nodes;
    // Up to two replacement children for the parent: ids and whether they are new.
    let kidA = -1;
    let kidB = -1;
    for (let level = 0; ; level++) {
      const leaf = level === 0;
      const n = this.#pathNode[level]!;
      if (level === this.levels) {
        if (this.#lazy()) this.#rootStale = true;
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
      const leftCount = s > 0 ? this.#countOf(this.#childOf(parent, s - 1), leaf) : SLOTS;
      const rightCount = s + 1 < pc0 ? this.#countOf(this.#childOf(parent, s + 1), leaf) : SLOTS;
      const tail = append && s + 1 === pc0;
      if (k > SLOTS && tail && leftCount + k <= 2 * SLOTS) {
        // Push entries into the left sibling before splitting (the kernel's mas_push_data): fills
        // the left node, so ascending inserts leave full nodes behind instead of half-full ones.
        const sib = this.#childOf(parent, s - 1);
        this.#shiftContent(k, leftCount, leaf);
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
      } else if (k > SLOTS && (leftCount < rightCount ? leftCount : rightCount) + k <= SHARE_MAX) {
        // Share with the smaller sibling evenly, both keeping room (see SHARE_MAX).
        const toLeft = leftCount <= rightCount;
        const sib = this.#childOf(parent, toLeft ? s - 1 : s + 1);
        const sc = toLeft ? leftCount : rightCount;
        if (toLeft) {
          this.#shiftContent(k, sc, leaf);
          this.#readNode(sib, leaf, 0);
        } else this.#readNode(sib, leaf, k);
        k += sc;
        const half = k >> 1;
        const other = this.#own(sib, leaf);
        if (toLeft) {
          this.#writeNode(other, leaf, 0, half);
          this.#writeNode(n, leaf, half, k - half);
          r0 = s - 1;
          kidA = other;
          kidB = n;
        } else {
          this.#writeNode(n, leaf, 0, half);
          this.#writeNode(other, leaf, half, k - half);
          kidA = n;
          kidB = other;
        }
        replaced = 2;
      } else if (k > SLOTS) {
        const m = leaf ? nodes.allocLeaf() : nodes.allocInner();
        const left = k >> 1;
        this.#writeNode(n, leaf, 0, left);
        this.#writeNode(m, leaf, left, k - left);
        kidA = n;
        kidB = m;
      } else if (k < MIN_SLOTS) {
        const sb = s > 0 ? s - 1 : s + 1;
        const sib = this.#childOf(parent, sb);
        const sc = leaf ? nodes.lcount[sib]! : nodes.icount[sib]!;
        if (sb < s) {
          this.#shiftContent(k, sc, leaf);
          this.#readNode(sib, leaf, 0);
          r0 = sb;
        } else {
          this.#readNode(sib, leaf, k);
        }
        k += sc;
        replaced = 2;
        if (k <= MERGE_MAX) {
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
        this.#fixParents(level, n, leaf);
        return;
      }
      const kids = kidB >= 0 ? 2 : 1;
      const np = pc0 - replaced + kids;
      if (np <= SLOTS && (np >= MIN_SLOTS || (level + 1 === this.levels && np >= 2))) {
        // The parent keeps a legal slot count: patch its slots in place (no rebuild of its
        // content), then fix its own parents' copies up the path only while they change.
        this.#spliceKids(parent, pc0, r0, replaced, kidA, kidB, leaf);
        this.#fixParents(level + 1, parent, false);
        return;
      }
      // Rebuild the parent's content with the replacement children.
      const pc = this.#readNode(parent, false, 0);
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

  /**
   * In inner node `parent` (writable, `pc` children), replaces the `replaced` children from slot
   * `r0` on with `kidA` and, unless it is -1, `kidB` (each with its max pivot and gap summary),
   * shifting the slots after them. The caller checked that the new count is legal.
   */
  #spliceKids(parent: number, pc: number, r0: number, replaced: number, kidA: number, kidB: number, leaf: boolean): void {
    const nodes = this.nodes;
    const inode = nodes.inode;
    const igap = nodes.igap;
    const nb = parent << NODE_SHIFT;
    const gb = parent << SLOT_SHIFT;
    const kids = kidB >= 0 ? 2 : 1;
    const d = kids - replaced;
    if (d > 0) {
      for (let x = pc - 1; x >= r0 + replaced; x--) this.#moveSlot(nb, gb, x, x + d);
    } else if (d < 0) {
      for (let x = r0 + replaced; x < pc; x++) this.#moveSlot(nb, gb, x, x + d);
      for (let x = pc + d; x < pc; x++) {
        inode[nb + slotAt(x)] = Infinity;
        inode[nb + slotAt(x) + SLOT_VALUE] = 0;
        igap[3 * (gb + x)] = 0;
        igap[3 * (gb + x) + 1] = 0;
        igap[3 * (gb + x) + 2] = 0;
      }
    }
    const sum = this.#sum;
    let max = this.#summarize(kidA, leaf);
    inode[nb + slotAt(r0)] = max;
    inode[nb + slotAt(r0) + SLOT_VALUE] = kidA;
    igap[3 * (gb + r0)] = sum[0]!;
    igap[3 * (gb + r0) + 1] = sum[1]!;
    igap[3 * (gb + r0) + 2] = sum[2]!;
    if (kidB >= 0) {
      max = this.#summarize(kidB, leaf);
      inode[nb + slotAt(r0 + 1)] = max;
      inode[nb + slotAt(r0 + 1) + SLOT_VALUE] = kidB;
      igap[3 * (gb + r0 + 1)] = sum[0]!;
      igap[3 * (gb + r0 + 1) + 1] = sum[1]!;
      igap[3 * (gb + r0 + 1) + 2] = sum[2]!;
    }
    nodes.icount[parent] = pc + d;
  }

  /** Moves inner slot `from` to slot `to` of the node whose block is at `nb` and gap slots at `gb`. */
  #moveSlot(nb: number, gb: number, from: number, to: number): void {
    const nodes = this.nodes;
    const inode = nodes.inode;
    inode[nb + slotAt(to)] = inode[nb + slotAt(from)]!;
    inode[nb + slotAt(to) + SLOT_VALUE] = inode[nb + slotAt(from) + SLOT_VALUE]!;
    nodes.igap[3 * (gb + to)] = nodes.igap[3 * (gb + from)]!;
    nodes.igap[3 * (gb + to) + 1] = nodes.igap[3 * (gb + from) + 1]!;
    nodes.igap[3 * (gb + to) + 2] = nodes.igap[3 * (gb + from) + 2]!;
  }

  /** Child id in slot `slot` of inner node `parent`. */
  #childOf(parent: number, slot: number): number {
    return this.nodes.inode[(parent << NODE_SHIFT) + slotAt(slot) + SLOT_VALUE]!;
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

import { ErrorCode, MmkitError, describeValue } from "@mmkit/physmem";
import { gapForward, gapReverse } from "./maple-gaps.js";
import type { MapleNodes } from "./maple-nodes.js";
import { badIndex, badOut, requireIndex, requireWindow } from "./limits.js";

// Local copies of hot constants: an imported binding can cost a load per use in some module loaders.
const NODE_SHIFT = 5;
const SLOT_VALUE = 4;
const MAX_INDEX = 9007199254740991;

/** Lookups {@link MapleView.loadMany} runs level by level together. */
export const LOAD_MANY_LOCKSTEP = 4;

/** Validates a `loadMany` batch (throws, writing nothing, on the first bad argument). @internal */
export function requireBatch(indices: ArrayLike<number>, out: Float64Array, count: number): void {
  if (indices === null || typeof indices !== "object" || typeof indices.length !== "number") {
    throw new MmkitError(ErrorCode.InvalidArgument, `indices must be an array of indices, got ${describeValue(indices)}`);
  }
  if (!(out instanceof Float64Array)) throw new MmkitError(ErrorCode.InvalidArgument, `out must be a Float64Array, got ${describeValue(out)}`);
  if (typeof count !== "number" || !Number.isInteger(count) || count < 0) {
    throw new MmkitError(ErrorCode.InvalidArgument, `count must be a non-negative integer, got ${describeValue(count)}`);
  }
  if (count > indices.length || count > out.length) {
    throw new MmkitError(ErrorCode.OutOfRange, `count ${count} exceeds indices (${indices.length}) or out (${out.length})`);
  }
  for (let i = 0; i < count; i++) {
    const index = indices[i];
    if (!(typeof index === "number" && index >= 0 && index <= MAX_INDEX && Math.floor(index) === index)) badIndex(index, `indices[${i}]`);
  }
}

/**
 * One range of a maple tree: indices `first..last` (inclusive) hold `value`.
 *
 * @example
 * ```ts
 * tree.store(0, 7, 1);
 * tree.loadRange(3);   // { first: 0, last: 7, value: 1 }
 * ```
 */
export interface MapleEntry {
  /** First index of the range. */
  first: number;
  /** Last index of the range (inclusive). */
  last: number;
  /** What every index of the range holds. */
  value: number;
}

/**
 * The read side of a maple tree, shared by the live {@link MapleTree} and its {@link MapleSnapshot}s:
 * lookups, neighbour searches, gap searches and iteration over the tree rooted at `root`.
 *
 * Every lookup is one descent: at each of the `height + 1` levels six branch-free compares over
 * the node's 16 Float64 pivots (three lines read in parallel, a fourth when the slot is one of
 * the last four) and the child or value beside the pivot found, so O(log16 n) time and one
 * dependent cache line per level.
 *
 * @example
 * ```ts
 * function owner(view: MapleView, pfn: number): number | undefined {
 *   return view.load(pfn); // works on a MapleTree and on a MapleSnapshot alike
 * }
 * ```
 */
export abstract class MapleView {
  /** @internal The node arrays the view reads (shared with the tree). */
  protected readonly nodes: MapleNodes;
  /** @internal */
  protected root = 0;
  /** @internal */
  protected levels = 0;

  /** @internal */
  protected constructor(nodes: MapleNodes) {
    this.nodes = nodes;
  }

  /** Levels of inner nodes above the leaves (0: the root is a leaf). */
  get height(): number {
    return this.levels;
  }

  /**
   * The value stored at `index`, or undefined when it is empty.
   *
   * Cost: one root-to-leaf descent, O(log16 n); 3-4 cache lines per level, read in parallel.
   *
   * @example
   * ```ts
   * tree.store(10, 19, 7);
   * tree.load(15); // 7
   * tree.load(20); // undefined
   * ```
   */
  load(index: number): number | undefined {
    // Number.isInteger, not Math.floor(index) === index: the same compare for a number, and false
    // (not a TypeError) for a BigInt, which passes the two range compares.
    if (!(index >= 0 && index <= MAX_INDEX && Number.isInteger(index))) badIndex(index);
    const nodes = this.nodes;
    let n = this.root;
    // Per node (see MapleNodes for the layout): the pivots of slots 3, 7 and 11 sit on three
    // different lines that are read in parallel, and how many are below `index` names the group of
    // four slots holding the first pivot >= index (unused pivots are +Infinity and a node's last
    // pivot is its maximum, so slot 15 never needs a compare). Three compares inside that group
    // give the slot, whose child or value is on the same line. Each compare becomes 0 or 1
    // (`+(a < b)`, a setcc, no jump): no branch mispredictions, and no load waits for a compare
    // except the group's, so a level costs one dependent cache line.
    if (this.levels > 0) {
      const inode = nodes.inode;
      for (let h = this.levels; h > 0; h--) {
        const b = n << NODE_SHIFT;
        const g = b + ((+(inode[b + 3]! < index) + +(inode[b + 11]! < index) + +(inode[b + 19]! < index)) << 3);
        // `| 0` keeps `n` an int32 in the loop (a child id read as a double would be boxed).
        n = inode[g + SLOT_VALUE + (+(inode[g]! < index) + +(inode[g + 1]! < index) + +(inode[g + 2]! < index))]! | 0;
      }
    }
    const lnode = nodes.lnode;
    const b = n << NODE_SHIFT;
    const g = b + ((+(lnode[b + 3]! < index) + +(lnode[b + 11]! < index) + +(lnode[b + 19]! < index)) << 3);
    const v = lnode[g + SLOT_VALUE + (+(lnode[g]! < index) + +(lnode[g + 1]! < index) + +(lnode[g + 2]! < index))]!;
    return v === v ? v : undefined;
  }

  /**
   * Looks up `count` indices at once: `out[i]` is the value at `indices[i]`, or NaN where that
   * index is empty. Returns `out`. The batch for many independent addresses at once (pinning a user
   * buffer's pages, routing a memory failure over a range of frames).
   *
   * Why it is faster than `load` in a loop: every lookup ends in a leaf that is rarely cached, and
   * one descent is too long a chain of dependent loads for the CPU to reach the next lookup's leaf
   * while it waits for this one's. Here {@link LOAD_MANY_LOCKSTEP} descents advance level by level together,
   * so their cache misses at each level are in flight at the same time. The last `count % 4` are
   * single loads.
   *
   * Every index is checked before anything is written: a bad one throws (`ERR_INVALID_ARGUMENT` /
   * `ERR_OUT_OF_RANGE`, naming its position and value) with `out` untouched, as does a `count`
   * that `indices` or `out` cannot hold.
   *
   * Cost: the descents of `count` loads, overlapped in groups of 4; no allocation.
   *
   * @example
   * ```ts
   * tree.store(10, 19, 7);
   * tree.loadMany([15, 25], new Float64Array(2)); // Float64Array [7, NaN]
   * ```
   */
  loadMany(indices: ArrayLike<number>, out: Float64Array, count: number = indices?.length): Float64Array {
    requireBatch(indices, out, count);
    const nodes = this.nodes;
    const inode = nodes.inode;
    const lnode = nodes.lnode;
    const root = this.root;
    const levels = this.levels;
    let i = 0;
    // Four descents written out side by side, each node read as in `load`: their state stays in
    // registers (an array of nodes in flight, or a helper per step, measured 20-30% slower).
    for (; i + LOAD_MANY_LOCKSTEP <= count; i += LOAD_MANY_LOCKSTEP) {
      const x0 = indices[i]!;
      const x1 = indices[i + 1]!;
      const x2 = indices[i + 2]!;
      const x3 = indices[i + 3]!;
      let n0 = root;
      let n1 = root;
      let n2 = root;
      let n3 = root;
      for (let h = levels; h > 0; h--) {
        let b = n0 << NODE_SHIFT;
        let g = b + ((+(inode[b + 3]! < x0) + +(inode[b + 11]! < x0) + +(inode[b + 19]! < x0)) << 3);
        n0 = inode[g + SLOT_VALUE + (+(inode[g]! < x0) + +(inode[g + 1]! < x0) + +(inode[g + 2]! < x0))]! | 0;
        b = n1 << NODE_SHIFT;
        g = b + ((+(inode[b + 3]! < x1) + +(inode[b + 11]! < x1) + +(inode[b + 19]! < x1)) << 3);
        n1 = inode[g + SLOT_VALUE + (+(inode[g]! < x1) + +(inode[g + 1]! < x1) + +(inode[g + 2]! < x1))]! | 0;
        b = n2 << NODE_SHIFT;
        g = b + ((+(inode[b + 3]! < x2) + +(inode[b + 11]! < x2) + +(inode[b + 19]! < x2)) << 3);
        n2 = inode[g + SLOT_VALUE + (+(inode[g]! < x2) + +(inode[g + 1]! < x2) + +(inode[g + 2]! < x2))]! | 0;
        b = n3 << NODE_SHIFT;
        g = b + ((+(inode[b + 3]! < x3) + +(inode[b + 11]! < x3) + +(inode[b + 19]! < x3)) << 3);
        n3 = inode[g + SLOT_VALUE + (+(inode[g]! < x3) + +(inode[g + 1]! < x3) + +(inode[g + 2]! < x3))]! | 0;
      }
      let b = n0 << NODE_SHIFT;
      let g = b + ((+(lnode[b + 3]! < x0) + +(lnode[b + 11]! < x0) + +(lnode[b + 19]! < x0)) << 3);
      out[i] = lnode[g + SLOT_VALUE + (+(lnode[g]! < x0) + +(lnode[g + 1]! < x0) + +(lnode[g + 2]! < x0))]!;
      b = n1 << NODE_SHIFT;
      g = b + ((+(lnode[b + 3]! < x1) + +(lnode[b + 11]! < x1) + +(lnode[b + 19]! < x1)) << 3);
      out[i + 1] = lnode[g + SLOT_VALUE + (+(lnode[g]! < x1) + +(lnode[g + 1]! < x1) + +(lnode[g + 2]! < x1))]!;
      b = n2 << NODE_SHIFT;
      g = b + ((+(lnode[b + 3]! < x2) + +(lnode[b + 11]! < x2) + +(lnode[b + 19]! < x2)) << 3);
      out[i + 2] = lnode[g + SLOT_VALUE + (+(lnode[g]! < x2) + +(lnode[g + 1]! < x2) + +(lnode[g + 2]! < x2))]!;
      b = n3 << NODE_SHIFT;
      g = b + ((+(lnode[b + 3]! < x3) + +(lnode[b + 11]! < x3) + +(lnode[b + 19]! < x3)) << 3);
      out[i + 3] = lnode[g + SLOT_VALUE + (+(lnode[g]! < x3) + +(lnode[g + 1]! < x3) + +(lnode[g + 2]! < x3))]!;
    }
    for (; i < count; i++) {
      const v = this.load(indices[i]!);
      out[i] = v === undefined ? NaN : v;
    }
    return out;
  }

  /**
   * The range holding `index` and its value, or undefined when `index` is empty. Pass `out` to fill
   * an existing object instead of allocating one.
   *
   * Cost: as {@link load}.
   *
   * @example
   * ```ts
   * tree.store(10, 19, 7);
   * tree.loadRange(15); // { first: 10, last: 19, value: 7 }
   * ```
   */
  loadRange(index: number, out?: MapleEntry): MapleEntry | undefined {
    requireIndex(index, "index");
    if (out !== undefined && (typeof out !== "object" || out === null)) badOut(out);
    return this.entryAt(index, out, false);
  }

  /**
   * The first range that ends at or after `index` and starts at or before `max`, or undefined.
   * Like the kernel's `mt_find()`.
   *
   * Cost: at most two descents (empty runs never sit next to each other).
   *
   * @example
   * ```ts
   * tree.store(100, 199, 1);
   * tree.find(0, 1000); // { first: 100, last: 199, value: 1 }
   * tree.find(0, 99);   // undefined
   * ```
   */
  find(index: number, max: number = MAX_INDEX): MapleEntry | undefined {
    requireIndex(index, "index");
    requireIndex(max, "max");
    if (index > max) return undefined;
    let e = this.entryAt(index, undefined, true);
    if (e === undefined) return undefined;
    if (e.value !== e.value) {
      if (e.last === MAX_INDEX) return undefined;
      e = this.entryAt(e.last + 1, e, true)!;
    }
    return e.first <= max ? e : undefined;
  }

  /**
   * The last range that starts at or before `index` and ends at or after `min`, or undefined.
   * Like the kernel's `mt_prev()` with a floor.
   *
   * Cost: at most two descents.
   *
   * @example
   * ```ts
   * tree.store(100, 199, 1);
   * tree.findPrev(500, 0);   // { first: 100, last: 199, value: 1 }
   * tree.findPrev(500, 200); // undefined
   * ```
   */
  findPrev(index: number, min = 0): MapleEntry | undefined {
    requireIndex(index, "index");
    requireIndex(min, "min");
    if (index < min) return undefined;
    let e = this.entryAt(index, undefined, true)!;
    if (e.value !== e.value) {
      if (e.first === 0) return undefined;
      e = this.entryAt(e.first - 1, e, true)!;
    }
    return e.last >= min ? e : undefined;
  }

  /**
   * Lowest index `s` in `[min, max]` such that `s .. s + size - 1` is empty and inside the window,
   * or -1. Throws for `size < 1` or a window smaller than `size`. Like `mas_empty_area()`.
   *
   * Cost: O(log n) node reads guided by the per-child gap summaries.
   *
   * @example
   * ```ts
   * tree.store(0, 9, 1);
   * tree.store(20, 29, 2);
   * tree.emptyArea(0, 100, 10); // 10
   * tree.emptyArea(0, 100, 11); // 30
   * ```
   */
  emptyArea(min: number, max: number, size: number): number {
    requireWindow(min, max, size);
    return gapForward(this.nodes, this.root, this.levels, min, max, size);
  }

  /**
   * Highest `s` such that `s .. s + size - 1` is empty and inside `[min, max]`, or -1. Like
   * `mas_empty_area_rev()`. Cost as {@link emptyArea}.
   *
   * @example
   * ```ts
   * tree.store(90, 100, 1);
   * tree.emptyAreaRev(0, 100, 10); // 80
   * ```
   */
  emptyAreaRev(min: number, max: number, size: number): number {
    requireWindow(min, max, size);
    return gapReverse(this.nodes, this.root, this.levels, min, max, size);
  }

  /**
   * A cursor over the ranges that meet `[min, max]`, in order. It remembers only the next index to
   * look at, so it can be paused for any time (the tree may change meanwhile) and resumed without
   * skipping or repeating a range: like the kernel's `mas_pause()`.
   *
   * Cost: at most two descents per range.
   *
   * @example
   * ```ts
   * const cursor = tree.cursor(0, 1000);
   * for (let e = cursor.next(); e; e = cursor.next()) console.log(e.first, e.last, e.value);
   * ```
   */
  cursor(min = 0, max: number = MAX_INDEX): MapleCursor {
    requireIndex(min, "min");
    requireIndex(max, "max");
    return new MapleCursor(this, min, max);
  }

  /**
   * Every range meeting `[min, max]`, in order (an iterator over a {@link cursor}). The window is
   * checked here, when `entries` is called, not at the first `next()`.
   */
  entries(min = 0, max: number = MAX_INDEX): IterableIterator<MapleEntry> {
    return cursorEntries(this.cursor(min, max));
  }

  /**
   * The entry holding `index`, empty ones included when `withEmpty` (their value is NaN).
   * @internal
   */
  protected entryAt(index: number, out: MapleEntry | undefined, withEmpty: boolean): MapleEntry | undefined {
    const nodes = this.nodes;
    let n = this.root;
    let min = 0;
    const inode = nodes.inode;
    // As in load; then the slot's first index is one past the pivot of the slot before it (or
    // the node's min, inherited from the parent).
    for (let h = this.levels; h > 0; h--) {
      const b = n << NODE_SHIFT;
      const g = b + ((+(inode[b + 3]! < index) + +(inode[b + 11]! < index) + +(inode[b + 19]! < index)) << 3);
      const p = g + +(inode[g]! < index) + +(inode[g + 1]! < index) + +(inode[g + 2]! < index);
      if (p > b) min = inode[p === g ? p - 5 : p - 1]! + 1;
      n = inode[p + SLOT_VALUE]! | 0;
    }
    const lnode = nodes.lnode;
    const b = n << NODE_SHIFT;
    const g = b + ((+(lnode[b + 3]! < index) + +(lnode[b + 11]! < index) + +(lnode[b + 19]! < index)) << 3);
    const p = g + +(lnode[g]! < index) + +(lnode[g + 1]! < index) + +(lnode[g + 2]! < index);
    const v = lnode[p + SLOT_VALUE]!;
    if (v !== v && !withEmpty) return undefined;
    // The pivot before slot p: the previous one in the group, or the last of the previous group.
    const first = p > b ? lnode[p === g ? p - 5 : p - 1]! + 1 : min;
    const last = lnode[p]!;
    if (out === undefined) return { first, last, value: v };
    out.first = first;
    out.last = last;
    out.value = v;
    return out;
  }
}

/**
 * A resumable, position-based iterator over a window of a {@link MapleView}. `next()` returns the
 * next range (or undefined at the end); `index` is where it will look next and may be saved and
 * restored. Nothing is held between calls, so pausing costs nothing.
 *
 * @example
 * ```ts
 * const c = tree.cursor(0, 99);
 * c.next();          // first range
 * tree.store(50, 59, 3);
 * c.next();          // continues after the first range, sees the new one
 * ```
 */
export class MapleCursor implements Iterable<MapleEntry> {
  /** Next index the cursor looks at; `max + 1` once exhausted. */
  index: number;
  /** Last index the cursor visits. */
  readonly max: number;
  readonly #view: MapleView;

  /** @internal */
  constructor(view: MapleView, min: number, max: number) {
    this.#view = view;
    this.index = min;
    this.max = max;
  }

  /** The next range meeting the window, or undefined when there is none. */
  next(): MapleEntry | undefined {
    if (this.index > this.max) return undefined;
    const e = this.#view.find(this.index, this.max);
    if (e === undefined) {
      this.index = this.max + 1;
      return undefined;
    }
    this.index = e.last + 1;
    return e;
  }

  /** Moves the cursor to `index` (a pause/resume by hand, like `mas_set()`). */
  reset(index: number): void {
    this.index = requireIndex(index, "index");
  }

  /** Iterates the remaining ranges (and advances the cursor). */
  *[Symbol.iterator](): Iterator<MapleEntry> {
    for (let e = this.next(); e !== undefined; e = this.next()) yield e;
  }
}

function* cursorEntries(cursor: MapleCursor): IterableIterator<MapleEntry> {
  for (let e = cursor.next(); e !== undefined; e = cursor.next()) yield e;
}

/** Thrown by a released snapshot. */
export function releasedError(): MmkitError {
  return new MmkitError(ErrorCode.InvalidState, "snapshot was released");
}

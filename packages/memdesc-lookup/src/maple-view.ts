import { ErrorCode, MmkitError } from "@mmkit/physmem";
import { gapForward, gapReverse } from "./maple-gaps.js";
import type { MapleNodes } from "./maple-nodes.js";
import { badIndex, requireIndex, requireWindow } from "./limits.js";

// Local copies of hot constants: an imported binding can cost a load per use in some module loaders.
const SLOT_SHIFT = 4;
const MAX_INDEX = 9007199254740991;

/** One range of a maple tree: indices `first..last` (inclusive) hold `value`. */
export interface MapleEntry {
  first: number;
  last: number;
  value: number;
}

/**
 * The read side of a maple tree, shared by the live {@link MapleTree} and its {@link MapleSnapshot}s:
 * lookups, neighbour searches, gap searches and iteration over the tree rooted at `root`.
 *
 * Every lookup is one descent: at each of the `height + 1` levels a binary search over 16 Float64
 * pivots (four compares, at most two cache lines) and one child read, so O(log16 n) time and about
 * 3 lines a level.
 *
 * @example
 * ```ts
 * function owner(view: MapleView, pfn: number): number | undefined {
 *   return view.load(pfn); // works on a MapleTree and on a MapleSnapshot alike
 * }
 * ```
 */
export abstract class MapleView {
  /** @internal */
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
   * Cost: one root-to-leaf descent, O(log16 n); about 3 cache lines per level.
   *
   * @example
   * ```ts
   * tree.store(10, 19, 7);
   * tree.load(15); // 7
   * tree.load(20); // undefined
   * ```
   */
  load(index: number): number | undefined {
    if (!(index >= 0 && index <= MAX_INDEX && Math.floor(index) === index)) badIndex(index);
    const nodes = this.nodes;
    let n = this.root;
    // Branchy binary search over the 16 pivots of each node: unused pivots are +Infinity, so four
    // compares find the first pivot >= index in every node (two cache lines of pivots at most).
    if (this.levels > 0) {
      const piv = nodes.ipiv;
      const child = nodes.ichild;
      for (let h = this.levels; h > 0; h--) {
        let b = n << SLOT_SHIFT;
        if (piv[b + 7]! < index) b += 8;
        if (piv[b + 3]! < index) b += 4;
        if (piv[b + 1]! < index) b += 2;
        if (piv[b]! < index) b += 1;
        n = child[b]!;
      }
    }
    const lpiv = nodes.lpiv;
    let b = n << SLOT_SHIFT;
    if (lpiv[b + 7]! < index) b += 8;
    if (lpiv[b + 3]! < index) b += 4;
    if (lpiv[b + 1]! < index) b += 2;
    if (lpiv[b]! < index) b += 1;
    const v = nodes.lval[b]!;
    return v === v ? v : undefined;
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

  /** Every range meeting `[min, max]`, in order (a generator over a {@link cursor}). */
  *entries(min = 0, max: number = MAX_INDEX): IterableIterator<MapleEntry> {
    const cursor = this.cursor(min, max);
    for (let e = cursor.next(); e !== undefined; e = cursor.next()) yield e;
  }

  /**
   * The entry holding `index`, empty ones included when `withEmpty` (their value is NaN).
   * @internal
   */
  protected entryAt(index: number, out: MapleEntry | undefined, withEmpty: boolean): MapleEntry | undefined {
    const nodes = this.nodes;
    let n = this.root;
    let min = 0;
    const piv = nodes.ipiv;
    for (let h = this.levels; h > 0; h--) {
      let b = n << SLOT_SHIFT;
      const b0 = b;
      while (piv[b]! < index) b++;
      if (b > b0) min = piv[b - 1]! + 1;
      n = nodes.ichild[b]!;
    }
    const lpiv = nodes.lpiv;
    let b = n << SLOT_SHIFT;
    const b0 = b;
    while (lpiv[b]! < index) b++;
    const v = nodes.lval[b]!;
    if (v !== v && !withEmpty) return undefined;
    const first = b > b0 ? lpiv[b - 1]! + 1 : min;
    if (out === undefined) return { first, last: lpiv[b]!, value: v };
    out.first = first;
    out.last = lpiv[b]!;
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

/** Thrown by a released snapshot. */
export function releasedError(): MmkitError {
  return new MmkitError(ErrorCode.InvalidState, "snapshot was released");
}

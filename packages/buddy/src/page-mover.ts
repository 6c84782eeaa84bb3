import { ErrorCode, MmkitError, describeValue } from "@mmkit/physmem";

/**
 * What the owner of movable pages implements so that compaction can move them: the narrow
 * interface `migrate_pages()` needs from a page's owner (`isolate_movable_page`, `migrate_folio`).
 * The buddy allocator only knows which pages are allocated; the owner knows what is in them and what
 * points at them, so the owner copies the bytes and updates its pointers, and may refuse.
 *
 * @example
 * ```ts
 * const owner = new Map<number, string>();          // pfn -> what lives there
 * const mover: PageMover = {
 *   isMovable: (pfn) => owner.has(pfn),
 *   migrate: (from, to) => { owner.set(to, owner.get(from)!); owner.delete(from); return true; },
 *   holds: (pfn) => owner.has(pfn),
 * };
 * buddy.compact(mover);
 * ```
 */
export interface PageMover {
  /**
   * May the 2^order pages at `pfn` (an allocated Movable block) move now? False keeps them where
   * they are (a pinned page). Called by the migration scanner when it isolates the block.
   */
  isMovable(pfn: number, order: number): boolean;
  /**
   * Moves the block of 2^order pages from `fromPfn` to `toPfn`: copy the bytes, update whatever
   * points at them, and from now on hold `toPfn` instead of `fromPfn`. Returns true when moved,
   * false to refuse (the block then stays at `fromPfn`). Throwing is a bug in the owner: the run
   * stops with `ERR_INVALID_STATE`, every page still accounted for.
   */
  migrate(fromPfn: number, toPfn: number, order: number): boolean;
  /**
   * Does the owner hold a block starting at `pfn`? Asked after each move: a mover that says it
   * moved but still holds `fromPfn`, or does not hold `toPfn`, lied, and the run stops with
   * `ERR_INVALID_STATE`, the block counted as not moved.
   */
  holds(pfn: number): boolean;
}

/** Throws `ERR_INVALID_ARGUMENT` unless `mover` has the three {@link PageMover} methods. O(1). */
export function requireMover(mover: unknown): PageMover {
  const m = mover as Partial<PageMover> | null;
  if (m === null || typeof m !== "object" || typeof m.isMovable !== "function" || typeof m.migrate !== "function" || typeof m.holds !== "function") {
    throw new MmkitError(ErrorCode.InvalidArgument, `a page mover must be an object with isMovable, migrate and holds methods, got ${describeValue(mover)}`);
  }
  return m as PageMover;
}
